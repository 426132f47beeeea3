// The checklist page: GPS readings, the hand-set map, save-state feedback. No inline script (CSP).
(function () {
  "use strict";
  // Leaflet renders an attribution as HTML; a basemap file's metadata is text from outside, shown as text.
  function asText(text) { var el = document.createElement("span"); el.textContent = text || ""; return el.innerHTML; }
  var en = document.documentElement.lang === "en";
  var T = en
    ? { busy: "Finding your position…", none: "This device has no GPS. Set the position by hand below.", denied: "Position not available: ",
        off: "This device gives no position here (location off or no GPS). Set the position by hand below.",
        notSaved: "Not saved — check the connection and change the answer again.", uploading: "Uploading photo…" }
    : { busy: "Mencari posisi Anda…", none: "Perangkat ini tidak punya GPS. Atur posisi secara manual di bawah.", denied: "Posisi tidak tersedia: ",
        off: "Perangkat ini tidak memberi posisi di sini (lokasi mati atau tanpa GPS). Atur posisi secara manual di bawah.",
        notSaved: "Belum tersimpan — periksa koneksi lalu ubah jawaban sekali lagi.", uploading: "Mengunggah foto…" };
  var pending = 0;

  // GPS: the best reading of up to 45 s (gps.js), then the hand-set map when the device gives none.
  var WAIT_MS = 45000;
  var NO_FIX = en ? "No GPS fix in {s} s. Set the position by hand below."
                  : "Tidak ada sinyal GPS dalam {s} dtk. Atur posisi secara manual di bawah.";

  function readPosition(onPosition, status, onFail) {
    window.PantauGps.readBest(status, { waitMs: WAIT_MS, onPosition: onPosition, onFail: onFail,
                                        none: T.none, off: T.off, noFix: NO_FIX });
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

  function parseCoordinate(text) {
    var value = parseFloat(String(text || "").trim().replace(",", "."));
    return isFinite(value) ? value : null;
  }

  function formatDistance(metres) {
    var lang = document.documentElement.lang || "id";
    if (metres < 1000) return Math.round(metres) + " m";
    return (metres / 1000).toLocaleString(lang, { maximumFractionDigits: metres < 10000 ? 1 : 0 }) + " km";
  }

  // The hand-set position map: the kecamatan outline, the facility's registered point, the chosen point
  // and its distance to the registered one, a metric scale. Tiles only from this app's MBTiles basemap
  // (data-tiles-url); without one the map has a plain background: never another host.
  function initMaps(root) {
    if (!window.L) return;
    root.querySelectorAll("[data-map]").forEach(function (el) {
      if (el._map) { el._map.invalidateSize(); return; }
      if (el.offsetParent === null) return;  // inside a closed <details>: drawn when it opens (toggle below)
      var d = el.dataset, details = el.parentNode, form = details.querySelector("[data-manual-form]");
      var note = details.querySelector("[data-map-distance]");
      var map = L.map(el, { attributionControl: !!d.tilesUrl, zoomSnap: 0.5, maxZoom: 19 });
      el._map = map;
      if (d.tilesUrl) {
        L.tileLayer(d.tilesUrl, { minZoom: +d.tilesMin || 0, maxNativeZoom: +d.tilesMax || 18, maxZoom: 19,
                                  attribution: asText(d.tilesAttribution) }).addTo(map);
        el.classList.add("has-basemap");
      }
      L.control.scale({ imperial: false, position: "bottomleft" }).addTo(map);
      var facility = d.facilityLat ? L.latLng(+d.facilityLat, +d.facilityLon) : null;
      var chosen = d.lat ? L.latLng(+d.lat, +d.lon) : null;
      var outline = null, marker = null, line = null;
      // The whole kecamatan with both points in view: at the points alone (zoom 17) the outline's fill
      // covered the map, which then showed as a plain grey box.
      function frame() {
        var bounds = outline ? L.latLngBounds(outline.getBounds().getSouthWest(), outline.getBounds().getNorthEast()) : null;
        [facility, chosen].forEach(function (p) { if (p) bounds = bounds ? bounds.extend(p) : L.latLngBounds(p, p); });
        if (!bounds) { map.setView([-2.5, 118], 5); return; }
        map.fitBounds(bounds, { padding: [16, 16], maxZoom: 16, animate: false });
      }
      frame();
      fetch(d.boundary, { credentials: "same-origin" }).then(function (r) { return r.ok ? r.json() : null; }).then(function (gj) {
        if (!gj) { if (note && !chosen) note.textContent = d.textNoOutline || ""; return; }
        outline = L.geoJSON(gj, { interactive: false, style: { color: "#00539b", weight: 3, fillColor: "#e3eefa", fillOpacity: 0.25 } }).addTo(map);
        outline.bringToBack();
        frame();
      });
      if (facility) {
        L.circleMarker(facility, { radius: 9, color: "#8a4b00", weight: 3, fillColor: "#ffbf00", fillOpacity: 1 })
          .addTo(map).bindTooltip(d.textRegistered || (en ? "Registered location" : "Lokasi terdaftar"),
                                  { permanent: true, direction: "top", offset: [0, -8], className: "map-point-label" });
      }
      function showDistance() {
        if (!note) return;
        note.className = "map-distance";
        if (!chosen || !facility) { note.textContent = ""; return; }
        var metres = map.distance(chosen, facility);
        var text = (d.textDistance || "{d}").replace("{d}", formatDistance(metres));
        if (metres > +d.farM) { text += " — " + d.textAbsurd; note.classList.add("absurd"); }
        else if (metres > +d.warnM) { text += " — " + d.textFar; note.classList.add("far"); }
        note.textContent = text;
      }
      function place(latlng, reframe) {
        chosen = L.latLng(latlng);
        if (marker) marker.setLatLng(chosen);
        else marker = L.circleMarker(chosen, { radius: 10, color: "#003a6e", weight: 3, fillColor: "#00539b", fillOpacity: 0.9 })
          .addTo(map).bindTooltip(d.textChosen || "", { direction: "bottom", offset: [0, 8] });
        if (facility) {
          if (line) line.setLatLngs([chosen, facility]);
          else line = L.polyline([chosen, facility], { color: "#003a6e", weight: 2, dashArray: "6 6", interactive: false }).addTo(map);
        }
        showDistance();
        if (reframe && !map.getBounds().contains(chosen)) frame();
      }
      if (!chosen) {
        // Coordinates kept as typed after a refusal: shown on the map with their distance.
        var typedLat = parseCoordinate(form.querySelector("[name=lat]").value), typedLon = parseCoordinate(form.querySelector("[name=lon]").value);
        if (typedLat !== null && typedLon !== null && Math.abs(typedLat) <= 90 && Math.abs(typedLon) <= 180) chosen = L.latLng(typedLat, typedLon);
      }
      if (chosen) place(chosen, false);
      map.on("click", function (e) {
        place(e.latlng, false);
        form.querySelector("[name=lat]").value = e.latlng.lat.toFixed(7);
        form.querySelector("[name=lon]").value = e.latlng.lng.toFixed(7);
        form.querySelector("[name=source]").value = "map";
      });
      form.addEventListener("input", function () {
        form.querySelector("[name=source]").value = "manual";
        var lat = parseCoordinate(form.querySelector("[name=lat]").value);
        var lon = parseCoordinate(form.querySelector("[name=lon]").value);
        if (lat !== null && lon !== null && Math.abs(lat) <= 90 && Math.abs(lon) <= 180) place([lat, lon], true);
      });
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

  // The position panel answers a refused (422) or to-be-confirmed (409) position with itself, message
  // beside the form (marked X-Position-Panel): swap it in, as htmx leaves 4xx responses unswapped by
  // default. Any other refusal (a submitted audit, an expired form) is shown by app.js beside the form.
  document.addEventListener("htmx:beforeSwap", function (e) {
    var target = e.detail.target;
    if (target && target.id === "position" && e.detail.xhr.getResponseHeader("X-Position-Panel") === "1") {
      e.detail.shouldSwap = true;
      e.detail.isError = false;
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
