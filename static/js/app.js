// Pantau KLA page behaviour. No inline script anywhere (the CSP forbids it): everything hooks on data-* attributes.
(function () {
  "use strict";

  function locate(statusEl, onPosition) {
    var t = document.documentElement.lang === "en"
      ? { busy: "Finding your position…", none: "This device cannot give a position. Type the coordinates instead.", fail: "No position: " }
      : { busy: "Mencari posisi Anda…", none: "Perangkat ini tidak dapat memberi posisi. Ketik koordinat secara manual.", fail: "Posisi tidak didapat: " };
    if (!("geolocation" in navigator)) { if (statusEl) statusEl.textContent = t.none; return; }
    if (statusEl) statusEl.textContent = t.busy;
    navigator.geolocation.getCurrentPosition(function (pos) {
      if (statusEl) statusEl.textContent = "± " + Math.round(pos.coords.accuracy) + " m";
      onPosition(pos.coords);
    }, function (err) {
      if (statusEl) statusEl.textContent = t.fail + err.message;
    }, { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 });
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
