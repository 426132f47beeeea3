// GPS as ODK Collect takes it, for every page that asks for a position (the audit's position, a GPS
// question, a facility's location): watch the readings for a while, show each one's accuracy live, keep
// the best, and stop early at the target accuracy (GPS_ACCURACY_WARN_M, data-gps-target) or when the user
// takes the best so far. A first fix is often 50-100 m off and improves over a few seconds. No inline
// script (CSP): pages call window.PantauGps.readBest from their own files.
window.PantauGps = (function () {
  "use strict";
  var en = document.documentElement.lang === "en";
  var T = en
    ? { waiting: "Waiting for GPS… target ± {t} m", now: "± {a} m now", best: "best ± {b} m", left: "{s} s left",
        use: "Use this position", cancel: "Cancel" }
    : { waiting: "Menunggu GPS… target ± {t} m", now: "± {a} m sekarang", best: "terbaik ± {b} m", left: "sisa {s} dtk",
        use: "Pakai posisi ini", cancel: "Batal" };

  function fill(text, values) {
    return text.replace(/\{(\w)\}/g, function (_, key) { return values[key]; });
  }

  function accuracyOf(pos) {
    return pos.coords.accuracy == null ? Infinity : pos.coords.accuracy;
  }

  function targetFor(status) {
    var holder = (status && status.closest("[data-gps-target]")) || document.querySelector("[data-gps-target]");
    return holder ? +holder.getAttribute("data-gps-target") || 30 : 30;
  }

  // The live panel under a status line: the current and best accuracy, the time left, Use and Cancel.
  function panelUnder(status, onUse, onCancel) {
    var panel = document.createElement("div");
    panel.className = "gps-live";
    panel.setAttribute("data-gps-live", "");
    var reading = document.createElement("p");
    reading.className = "gps-reading";
    reading.setAttribute("aria-live", "polite");
    var now = document.createElement("strong");
    now.setAttribute("data-gps-accuracy", "");
    var rest = document.createElement("span");
    rest.setAttribute("data-gps-best", "");
    reading.appendChild(now); reading.appendChild(document.createTextNode(" ")); reading.appendChild(rest);
    var use = document.createElement("button");
    use.type = "button"; use.className = "btn small"; use.textContent = T.use; use.disabled = true;
    use.setAttribute("data-gps-use", "");
    var cancel = document.createElement("button");
    cancel.type = "button"; cancel.className = "btn secondary small"; cancel.textContent = T.cancel;
    use.addEventListener("click", onUse);
    cancel.addEventListener("click", onCancel);
    panel.appendChild(reading); panel.appendChild(use); panel.appendChild(cancel);
    status.parentNode.insertBefore(panel, status.nextSibling);
    return {
      show: function (pos, best, left) {
        if (pos) now.textContent = fill(T.now, { a: Math.round(accuracyOf(pos)) });
        rest.textContent = (best ? fill(T.best, { b: Math.round(accuracyOf(best)) }) + " · " : "") + fill(T.left, { s: left });
        use.disabled = !best;
      },
      remove: function () { panel.remove(); }
    };
  }

  // Wait up to `o.waitMs` for the best reading; `o.onPosition(pos)` with it, or `o.onFail()` with the
  // page's own words in the status line: `o.none` (no GPS at all), `o.off` (denied, or no position source
  // before any reading: the browser's own message is English), `o.noFix` (no reading in time, "{s}" seconds).
  // `o.showAccuracy` leaves "± N m" in the status line after a reading is taken.
  function readBest(status, o) {
    if (!("geolocation" in navigator)) { if (status) status.textContent = o.none; if (o.onFail) o.onFail(); return; }
    if (status && status._watching) return;  // already waiting: the panel is on screen
    var target = targetFor(status), best = null, done = false, started = Date.now(), watch = null, timer = null, tick = null;
    var before = status ? status.textContent : "";  // e.g. an answer's current point, shown again on cancel
    function left() { return Math.max(0, Math.ceil((o.waitMs - (Date.now() - started)) / 1000)); }
    function finish(pos, message) {
      if (done) return;
      done = true;
      if (watch !== null) navigator.geolocation.clearWatch(watch);
      clearTimeout(timer); clearInterval(tick);
      if (panel) panel.remove();
      if (status) {
        status._watching = false;
        status.textContent = message !== undefined ? message
          : pos ? (o.showAccuracy ? "± " + Math.round(accuracyOf(pos)) + " m" : "") : before;
      }
      if (pos) o.onPosition(pos);
    }
    var panel = status ? panelUnder(status, function () { finish(best); }, function () { finish(null); }) : null;
    if (status) { status._watching = true; status.textContent = fill(T.waiting, { t: target }); }
    if (panel) panel.show(null, null, left());
    watch = navigator.geolocation.watchPosition(function (pos) {
      if (done) return;
      if (!best || accuracyOf(pos) < accuracyOf(best)) best = pos;
      if (panel) panel.show(pos, best, left());
      if (accuracyOf(pos) <= target) finish(best);
    }, function (err) {
      // Denied, or no position source at all (no reading yet), ends it; a slow fix or a signal lost after a
      // reading keeps waiting until the time is up.
      if (done || err.code === 3 || (err.code === 2 && best)) return;
      finish(null, o.off);
      if (o.onFail) o.onFail();
    }, { enableHighAccuracy: true, timeout: o.waitMs, maximumAge: 0 });
    tick = setInterval(function () { if (panel) panel.show(null, best, left()); }, 1000);
    timer = setTimeout(function () {
      if (best) { finish(best); return; }
      finish(null, fill(o.noFix, { s: Math.round(o.waitMs / 1000) }));
      if (o.onFail) o.onFail();
    }, o.waitMs);
  }

  return { readBest: readBest };
})();
