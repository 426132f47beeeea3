// Pantau KLA page behaviour. No inline script anywhere (the CSP forbids it): everything hooks on data-* attributes.
(function () {
  "use strict";

  // The position as ODK Collect takes it: watch for up to 30 s, show each reading's accuracy, keep the best,
  // stop at the target accuracy (data-gps-target, GPS_ACCURACY_WARN_M) or when the user takes the best so far.
  function locate(statusEl, onPosition) {
    var en = document.documentElement.lang === "en";
    var t = en
      ? { busy: "Waiting for GPS… target ± {t} m", none: "This device cannot give a position. Type the coordinates instead.", fail: "No position: ",
          now: "± {a} m now", best: "best ± {b} m", left: "{s} s left", use: "Use this position", cancel: "Cancel", noFix: "No position in {s} s. Type the coordinates instead." }
      : { busy: "Menunggu GPS… target ± {t} m", none: "Perangkat ini tidak dapat memberi posisi. Ketik koordinat secara manual.", fail: "Posisi tidak didapat: ",
          now: "± {a} m sekarang", best: "terbaik ± {b} m", left: "sisa {s} dtk", use: "Pakai posisi ini", cancel: "Batal", noFix: "Tidak ada posisi dalam {s} dtk. Ketik koordinat secara manual." };
    var fill = function (text, values) { return text.replace(/\{(\w)\}/g, function (_, k) { return values[k]; }); };
    var accuracy = function (pos) { return pos.coords.accuracy == null ? Infinity : pos.coords.accuracy; };
    if (!("geolocation" in navigator)) { if (statusEl) statusEl.textContent = t.none; return; }
    if (statusEl && statusEl._watching) return;
    var wait = 30000, started = Date.now(), best = null, last = null, done = false, watch = null, timer = null, tick = null;
    var holder = (statusEl && statusEl.closest("[data-gps-target]")) || document.querySelector("[data-gps-target]");
    var target = holder ? +holder.getAttribute("data-gps-target") || 30 : 30;
    var panel = document.createElement("div"), line = document.createElement("p"), use = document.createElement("button"), cancel = document.createElement("button");
    panel.className = "gps-live"; panel.setAttribute("data-gps-live", "");
    line.className = "gps-reading"; line.setAttribute("aria-live", "polite");
    use.type = cancel.type = "button"; use.className = "btn small"; cancel.className = "btn secondary small";
    use.textContent = t.use; cancel.textContent = t.cancel; use.disabled = true; use.setAttribute("data-gps-use", "");
    panel.appendChild(line); panel.appendChild(use); panel.appendChild(cancel);
    var left = function () { return Math.max(0, Math.ceil((wait - (Date.now() - started)) / 1000)); };
    var now = document.createElement("strong"), rest = document.createElement("span");
    line.appendChild(now); line.appendChild(document.createTextNode(" ")); line.appendChild(rest);
    var show = function (pos) {
      last = pos || last;
      if (last) now.textContent = fill(t.now, { a: Math.round(accuracy(last)) });
      rest.textContent = (best ? fill(t.best, { b: Math.round(accuracy(best)) }) + " · " : "") + fill(t.left, { s: left() });
      use.disabled = !best;
    };
    var finish = function (pos, message) {
      if (done) return;
      done = true;
      if (watch !== null) navigator.geolocation.clearWatch(watch);
      clearTimeout(timer); clearInterval(tick); panel.remove();
      if (statusEl) { statusEl._watching = false; statusEl.textContent = message || (pos ? "± " + Math.round(accuracy(pos)) + " m" : ""); }
      if (pos) onPosition(pos.coords);
    };
    use.addEventListener("click", function () { finish(best); });
    cancel.addEventListener("click", function () { finish(null); });
    if (statusEl) { statusEl._watching = true; statusEl.textContent = fill(t.busy, { t: target }); statusEl.parentNode.insertBefore(panel, statusEl.nextSibling); }
    show(null);
    watch = navigator.geolocation.watchPosition(function (pos) {
      if (done) return;
      if (!best || accuracy(pos) < accuracy(best)) best = pos;
      show(pos);
      if (accuracy(pos) <= target) finish(best);
    }, function (err) {
      // A slow fix, or a lost signal after a first reading, keeps waiting until the window closes.
      if (err.code === 1 || (err.code === 2 && !best)) finish(null, t.fail + err.message);
    }, { enableHighAccuracy: true, timeout: wait, maximumAge: 0 });
    tick = setInterval(function () { show(null); }, 1000);
    timer = setTimeout(function () { finish(best, best ? "" : fill(t.noFix, { s: wait / 1000 })); }, wait);
  }

  document.addEventListener("click", function (event) {
    var locateButton = event.target.closest("[data-locate]");
    if (locateButton) {
      var form = locateButton.closest("form");
      locate(form.querySelector("[data-locate-status]"), function (c) {
        form.querySelector("[name=lat]").value = c.latitude.toFixed(6);
        form.querySelector("[name=lon]").value = c.longitude.toFixed(6);
        if (window.htmx) { window.htmx.trigger(form, "locate"); } else { form.submit(); }
      });
      return;
    }
    var fillButton = event.target.closest("[data-fill-position]");
    if (fillButton) {
      var f = fillButton.closest("form");
      locate(f.querySelector("[data-locate-status]"), function (c) {
        f.querySelector("[name=lat]").value = c.latitude.toFixed(6);
        f.querySelector("[name=lon]").value = c.longitude.toFixed(6);
      });
    }
  });
})();

// Forms that need a confirmation before a plain (non-htmx) submit.
document.addEventListener("submit", function (event) {
  var message = event.target.getAttribute && event.target.getAttribute("data-confirm");
  if (message && !window.confirm(message)) { event.preventDefault(); }
}, true);

// A select marked data-autosubmit sends its form when changed (filters).
document.addEventListener("change", function (event) {
  if (event.target.matches && event.target.matches("select[data-autosubmit]")) { event.target.form.submit(); }
});
