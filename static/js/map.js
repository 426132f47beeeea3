// Region maps: outlines, facility markers, the facility card (htmx), and choropleths. No inline script (CSP):
// every map is a [data-region-map] element whose data-* attributes name JSON endpoints of this app.
//
// Reuse (docs/architecture.md, "Map"): a choropleth needs only
//   <div class="map-canvas" data-region-map data-choropleth-on
//        data-choropleth-url="/…/something.geojson"        features carry properties value, label, class, colour
//        data-choropleth-legend='[{"key","colour","label"}…]' data-choropleth-title="…" data-legend-target="#legend">
// plus optional data-layer-url (outlines), data-focus (a kecamatan code to zoom to) and data-tiles-* (basemap).
(function () {
  "use strict";
  // Leaflet renders an attribution as HTML; a basemap file's metadata is text from outside, shown as text.
  function asText(text) { var el = document.createElement("span"); el.textContent = text || ""; return el.innerHTML; }

  var SVG = "http://www.w3.org/2000/svg";
  var BRAND = "#00539b";

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/geo+json, application/json" } })
      .then(function (r) { if (!r.ok) throw new Error(url + ": HTTP " + r.status); return r.json(); });
  }

  function parse(text, fallback) {
    try { return text ? JSON.parse(text) : fallback; } catch (e) { return fallback; }
  }

  function textNode(tag, text, cls) {
    var el = document.createElement(tag);
    if (cls) el.className = cls;
    el.textContent = text;
    return el;
  }

  function swatch(colour) {
    var svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", "0 0 16 16");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("class", "swatch");
    var rect = document.createElementNS(SVG, "rect");
    rect.setAttribute("x", "1"); rect.setAttribute("y", "1"); rect.setAttribute("width", "14"); rect.setAttribute("height", "14");
    rect.setAttribute("rx", "3"); rect.setAttribute("fill", colour); rect.setAttribute("stroke", "#6b7684");
    svg.appendChild(rect);
    return svg;
  }

  // A legend from data: title and [{key, colour, label}], drawn into target (generic: any choropleth).
  function drawLegend(target, title, entries) {
    if (!target) return;
    target.textContent = "";
    if (title) target.appendChild(textNode("p", title, "legend-title"));
    var list = document.createElement("ul");
    list.className = "legend-list";
    entries.forEach(function (entry) {
      var item = document.createElement("li");
      item.setAttribute("data-key", entry.key);
      item.appendChild(swatch(entry.colour));
      item.appendChild(document.createTextNode(entry.label));
      list.appendChild(item);
    });
    target.appendChild(list);
    target.hidden = false;
  }

  function currentQuery(form) {
    if (!form) return location.search.replace(/^\?/, "");
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, key) { params.append(key, value); });
    return params.toString();
  }

  function withQuery(url, query) {
    var base = url.split("?")[0];
    return query ? base + "?" + query : base;
  }

  function RegionMap(el) {
    var d = el.dataset;
    var self = this;
    this.el = el;
    this.labels = parse(d.labels, {});
    this.form = document.querySelector("[data-map-filter]");
    this.status = document.querySelector("[data-map-status]");
    this.markers = {};
    this.selected = d.selected || "";
    var map = this.map = L.map(el, { zoomSnap: 0.5, attributionControl: !!d.tilesUrl, maxZoom: 19 });
    el._map = map;
    map.createPane("regions").style.zIndex = 400;
    map.createPane("choropleth").style.zIndex = 390;
    map.createPane("facilities").style.zIndex = 450;
    if (d.tilesUrl) {
      var options = { minZoom: +d.tilesMin || 0, maxNativeZoom: +d.tilesMax || 18, maxZoom: 19,
                      attribution: asText(d.tilesAttribution) };
      if (d.tilesBounds) {
        var b = d.tilesBounds.split(",").map(Number);
        options.bounds = L.latLngBounds([b[1], b[0]], [b[3], b[2]]);
      }
      L.tileLayer(d.tilesUrl, options).addTo(map);
      el.classList.add("has-basemap");
    }
    map.setView([-2.5, 118], 5);
    var loading = [];
    if (d.layerUrl) loading.push(getJSON(d.layerUrl).then(function (gj) { self.drawRegions(gj); }));
    if (d.desaUrl) loading.push(getJSON(d.desaUrl).then(function (gj) { self.drawDesa(gj); }));
    Promise.all(loading).then(function () {
      if (d.facilitiesUrl) self.loadFacilities();
      if (d.choroplethUrl && d.choroplethOn !== undefined) self.showChoropleth(true);
    }).catch(function (error) { self.say(String(error)); throw error; });
  }

  RegionMap.prototype.say = function (text) { if (this.status) this.status.textContent = text || ""; };

  RegionMap.prototype.drawRegions = function (gj) {
    var focus = this.el.dataset.focus, self = this;
    this.regions = L.geoJSON(gj, {
      pane: "regions",
      style: function (f) {
        var own = !focus || f.properties.code === focus;
        return { color: own ? BRAND : "#8a96a3", weight: own ? (focus ? 3.5 : 2.5) : 1.5,
                 fillColor: own ? "#e3eefa" : "#f2f4f7", fillOpacity: own ? (focus ? 0.35 : 0.25) : 0.5 };
      },
      onEachFeature: function (f, layer) {
        if (!focus || f.properties.code === focus) {
          layer.bindTooltip(textNode("span", f.properties.name), { permanent: true, direction: "center", className: "region-label" });
        }
        layer.on("click", function () { self.map.closePopup(); });
      }
    }).addTo(this.map);
    var target = this.regions;
    if (focus) {
      this.regions.eachLayer(function (layer) { if (layer.feature.properties.code === focus) target = layer; });
    }
    if (target.getBounds().isValid()) this.map.fitBounds(target.getBounds(), { padding: [12, 12] });
  };

  RegionMap.prototype.drawDesa = function (gj) {
    this.desa = L.geoJSON(gj, { pane: "regions", interactive: false,
      style: { color: "#5b7fa6", weight: 1.2, dashArray: "4 3", fill: false } }).addTo(this.map);
  };

  RegionMap.prototype.loadFacilities = function () {
    var self = this, query = currentQuery(this.form);
    return getJSON(withQuery(this.el.dataset.facilitiesUrl, query)).then(function (gj) {
      if (self.facilities) self.map.removeLayer(self.facilities);
      self.markers = {};
      self.facilities = L.geoJSON(gj, {
        pointToLayer: function (f, latlng) {
          var p = f.properties, waiting = p.review === "waiting";
          var marker = L.circleMarker(latlng, { pane: "facilities", radius: 9, weight: waiting ? 3.5 : 2,
            color: waiting ? "#ffbf00" : "#ffffff", fillColor: p.colour, fillOpacity: 1,
            className: "facility-marker result-" + p.result + " kind-" + p.kind });
          marker.bindTooltip(textNode("span", p.name + (waiting ? " · " + self.labels.waiting : "")), { direction: "top", offset: [0, -8] });
          marker.on("click", function () { self.openCard(p); });
          self.markers[p.id] = marker;
          return marker;
        }
      }).addTo(self.map);
      self.updateCounts(gj.counts);
      self.say(gj.features.length ? "" : self.labels.empty);
      if (self.selected) self.highlight(self.selected);
    }).catch(function (error) { self.say(String(error)); });
  };

  RegionMap.prototype.updateCounts = function (counts) {
    if (!counts || !this.form) return;
    Object.keys(counts).forEach(function (cls) {
      var el = document.querySelector(".filter-chip.result-" + cls + " .count");
      if (el) el.textContent = counts[cls];
    });
  };

  RegionMap.prototype.highlight = function (id) {
    var self = this;
    Object.keys(this.markers).forEach(function (key) {
      var m = self.markers[key], on = key === id;
      m.setRadius(on ? 13 : 9);
      if (on) { m.setStyle({ color: "#10151c", weight: 4 }); m.bringToFront(); }
      else { var waiting = m.feature.properties.review === "waiting";
        m.setStyle({ color: waiting ? "#ffbf00" : "#ffffff", weight: waiting ? 3.5 : 2 }); }
    });
    this.selected = id;
  };

  RegionMap.prototype.openCard = function (p) {
    var url = withQuery(this.el.dataset.cardBase + "/" + encodeURIComponent(p.id), currentQuery(this.form));
    this.highlight(p.id);
    history.replaceState(null, "", url);
    htmx.ajax("GET", url, { target: "#card", swap: "outerHTML" }).then(function () {
      var card = document.getElementById("card");
      if (card) { card.hidden = false; card.scrollIntoView({ behavior: "smooth", block: "nearest" }); card.focus({ preventScroll: true }); }
    });
  };

  RegionMap.prototype.closeCard = function () {
    var card = document.getElementById("card");
    if (card) { card.hidden = true; card.textContent = ""; }
    this.highlight("");
    history.replaceState(null, "", withQuery(this.el.dataset.cardBase, currentQuery(this.form)));
  };

  // A choropleth from any GeoJSON whose features carry colour and label: fills under the outlines.
  RegionMap.prototype.showChoropleth = function (on) {
    var d = this.el.dataset, self = this, target = document.querySelector(d.legendTarget || "");
    if (this.choropleth) { this.map.removeLayer(this.choropleth); this.choropleth = null; }
    if (!on) {
      if (target) target.hidden = true;
      if (this.regions) this.regions.resetStyle();
      return Promise.resolve();
    }
    if (this.regions) this.regions.setStyle({ fillOpacity: 0 });
    return getJSON(withQuery(d.choroplethUrl, currentQuery(this.form))).then(function (gj) {
      self.choropleth = L.geoJSON(gj, {
        pane: "choropleth",
        style: function (f) { return { stroke: false, fillColor: f.properties.colour, fillOpacity: 0.75 }; },
        onEachFeature: function (f, layer) {
          if (f.properties.label) layer.bindTooltip(textNode("span", f.properties.label), { sticky: true, className: "choropleth-tip" });
        }
      }).addTo(self.map);
      if (!self.regions) self.map.fitBounds(self.choropleth.getBounds(), { padding: [12, 12] });
      drawLegend(target, d.choroplethTitle, parse(d.choroplethLegend, []));
    });
  };

  RegionMap.prototype.refilter = function () {
    var query = currentQuery(this.form);
    var path = this.selected ? location.pathname : this.el.dataset.cardBase;
    history.replaceState(null, "", withQuery(path, query));
    // Links that carry the filters: the other view, the kecamatan maps, the downloads.
    document.querySelectorAll(".view-switch a, .kecamatan-links a, .downloads a, .crumbs a, [data-card-close]").forEach(function (a) {
      a.setAttribute("href", withQuery(a.getAttribute("href"), query));
    });
    this.loadFacilities();
    if (this.choropleth) this.showChoropleth(true);
  };

  function init() {
    if (!window.L) return;
    document.querySelectorAll("[data-region-map]").forEach(function (el) {
      if (!el._regionMap) el._regionMap = new RegionMap(el);
    });
  }

  function activeMap() {
    var el = document.querySelector("[data-region-map]");
    return el && el._regionMap;
  }

  document.addEventListener("change", function (event) {
    var t = event.target;
    if (t.closest && t.closest("[data-map-filter]")) {
      var rm = activeMap();
      if (rm) rm.refilter(); else t.form.submit();  // the table page reloads with the new filters
    } else if (t.matches && t.matches("[data-coverage-toggle]")) {
      var m = activeMap();
      if (m) m.showChoropleth(t.checked);
    }
  });

  document.addEventListener("click", function (event) {
    var close = event.target.closest && event.target.closest("[data-card-close]");
    var rm = activeMap();
    if (close && rm) { event.preventDefault(); rm.closeCard(); }
  });

  window.PantauMap = { RegionMap: RegionMap, drawLegend: drawLegend, init: init };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init); else init();
})();
