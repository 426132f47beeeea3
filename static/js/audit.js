// The checklist page: GPS readings, the hand-set map, save-state feedback. No inline script (CSP).
(function () {
  "use strict";
  var en = document.documentElement.lang === "en";
  var T = en
    ? { busy: "Finding your position…", none: "This device has no GPS. Set the position by hand below.", denied: "Position not available: ",
        off: "This device gives no position here (location off or no GPS). Set the position by hand below.",
        notSaved: "Not saved — check the connection and change the answer again.", uploading: "Uploading photo…" }
    : { busy: "Mencari posisi Anda…", none: "Perangkat ini tidak punya GPS. Atur posisi secara manual di bawah.", denied: "Posisi tidak tersedia: ",
        off: "Perangkat ini tidak memberi posisi di sini (lokasi mati atau tanpa GPS). Atur posisi secara manual di bawah.",
        notSaved: "Belum tersimpan — periksa koneksi lalu ubah jawaban sekali lagi.", uploading: "Mengunggah foto…" };
  var pending = 0;

  function readPosition(onPosition, status, onFail) {
    if (!("geolocation" in navigator)) { if (status) status.textContent = T.none; if (onFail) onFail(); return; }
    if (status) status.textContent = T.busy;
    navigator.geolocation.getCurrentPosition(function (pos) {
      if (status) status.textContent = "";
      onPosition(pos);
    }, function (err) {
      // Denied or unavailable (the desktop window without a position source, location switched off):
      // say so in the user's language; the browser's own message is English.
      if (status) status.textContent = err.code === 3 ? T.denied + err.message : T.off;
      if (onFail) onFail();
    }, { enableHighAccuracy: true, timeout: 30000, maximumAge: 0 });
  }

  function takeGps(form) {
    readPosition(function (pos) {
      form.querySelector("[name=lat]").value = pos.coords.latitude.toFixed(7);
      form.querySelector("[name=lon]").value = pos.coords.longitude.toFixed(7);
      form.querySelector("[name=accuracy]").value = pos.coords.accuracy == null ? "" : pos.coords.accuracy.toFixed(1);
      form.querySelector("[name=taken_at]").value = String(Math.round(pos.timestamp));
      htmx.trigger(form, "submit");
    }, form.querySelector("[data-gps-status]"), function () {
      var manual = document.querySelector("[data-manual]");
      if (manual) { manual.open = true; initMaps(manual); }
    });
  }

  function initMaps(root) {
    if (!window.L) return;
    root.querySelectorAll("[data-map]").forEach(function (el) {
      if (el._map || el.offsetParent === null) return;
      var map = L.map(el, { attributionControl: false, zoomSnap: 0.5 });
      el._map = map;
      var d = el.dataset, marker = null, form = el.parentNode.querySelector("[data-manual-form]");
      var points = [];
      if (d.lat) points.push([+d.lat, +d.lon]);
      if (d.facilityLat) points.push([+d.facilityLat, +d.facilityLon]);
      if (points.length) map.fitBounds(L.latLngBounds(points).pad(0.6), { maxZoom: 17 });
      else map.setView([-2.5, 118], 5);
      fetch(d.boundary, { credentials: "same-origin" }).then(function (r) { return r.ok ? r.json() : null; }).then(function (gj) {
        if (!gj) return;
        var layer = L.geoJSON(gj, { style: { color: "#00539b", weight: 3, fillColor: "#e3eefa", fillOpacity: 0.35 } }).addTo(map);
        if (!points.length) map.fitBounds(layer.getBounds());
      });
      if (d.facilityLat) {
        L.circleMarker([+d.facilityLat, +d.facilityLon], { radius: 9, color: "#8a4b00", weight: 3, fillColor: "#ffbf00", fillOpacity: 1 })
          .addTo(map).bindTooltip(en ? "Registered location" : "Lokasi terdaftar");
      }
      function place(latlng) {
        if (marker) marker.setLatLng(latlng);
        else marker = L.circleMarker(latlng, { radius: 10, color: "#003a6e", weight: 3, fillColor: "#00539b", fillOpacity: 0.9 }).addTo(map);
      }
      if (d.lat) place([+d.lat, +d.lon]);
      map.on("click", function (e) {
        place(e.latlng);
        form.querySelector("[name=lat]").value = e.latlng.lat.toFixed(7);
        form.querySelector("[name=lon]").value = e.latlng.lng.toFixed(7);
        form.querySelector("[name=source]").value = "map";
      });
      form.addEventListener("input", function () { form.querySelector("[name=source]").value = "manual"; });
    });
  }

  document.addEventListener("click", function (event) {
    var gps = event.target.closest("[data-take-gps]");
    if (gps) { takeGps(gps.closest("form")); return; }
    var answerGps = event.target.closest("[data-gps-answer]");
    if (answerGps) {
      var form = answerGps.closest("form");
      readPosition(function (pos) {
        form.querySelector("[data-gps-value]").value = [pos.coords.latitude.toFixed(7), pos.coords.longitude.toFixed(7),
          (pos.coords.accuracy || 0).toFixed(1)].join(" ");
        htmx.trigger(form, "change");
      }, form.querySelector("[data-gps-text]"));
    }
  });

  document.addEventListener("toggle", function (event) {
    if (event.target.matches && event.target.matches("[data-manual]") && event.target.open) initMaps(event.target);
  }, true);

  // Uploads and positions in flight keep the page from closing unnoticed; answers and notes have their
  // own outbox (answers.js).
  document.addEventListener("htmx:beforeRequest", function (e) {
    pending++;
    var status = e.detail.elt.querySelector && e.detail.elt.querySelector("[data-upload-status]");
    if (status) status.textContent = T.uploading;
  });
  document.addEventListener("htmx:afterRequest", function () { pending = Math.max(0, pending - 1); });
  window.addEventListener("beforeunload", function (e) { if (pending > 0) { e.preventDefault(); e.returnValue = ""; } });

  htmx.onLoad(function (root) {
    initMaps(root);
    var auto = root.querySelector ? root.querySelector("[data-gps-form][data-auto=yes]") : null;
    if (auto && !auto._asked) { auto._asked = true; takeGps(auto); }
  });
})();
