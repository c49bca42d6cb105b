/* The ICS Provider Map's own Leaflet code: one canvas layer that draws up to 100,000
 * sites (grid clusters with sector mix when zoomed out, individual sites in the
 * viewport when zoomed in), and legends that follow their layer on and off the map.
 * geo/maps/layers.py inlines this file; geo/maps/payload.py documents the payload
 * and geo/maps/codec.py its encoding, which decode() below mirrors.
 * Every string in the payload was HTML-escaped on the server. */
(function (css) {
  "use strict";
  if (window.IcsMap) return;
  var TAU = Math.PI * 2;

  function unpackVarints(b64, n) {
    var out = new Float64Array(n);
    if (!n) return out;
    var s = atob(b64), pos = 0;
    for (var i = 0; i < n; i++) {
      var value = 0, mult = 1, b;
      do {
        b = s.charCodeAt(pos++);
        value += (b & 127) * mult;
        mult *= 128;
      } while (b & 128);
      out[i] = value;
    }
    return out;
  }

  function undelta(values, scale) {
    var acc = 0;
    for (var i = 0; i < values.length; i++) {
      var v = values[i];
      acc += v % 2 ? -(v + 1) / 2 : v / 2;
      values[i] = acc / scale;
    }
    return values;
  }

  function decode(p) {
    var n = p.count, cols = {}, name;
    for (name in p.columns) cols[name] = unpackVarints(p.columns[name], n);
    ["provider", "service", "reason", "basis", "evidence"].forEach(function (key) { cols[key] = cols[key] || new Float64Array(n); });
    var d = { n: n, unmapped: p.unmapped, p: p, cols: cols, strings: {}, digits: {} };
    for (name in p.strings) d.strings[name] = p.strings[name].split("'");
    d.lat = undelta(cols.lat, p.coord_scale);
    d.lon = undelta(cols.lon, p.coord_scale);
    d.mx = new Float64Array(n);
    d.my = new Float64Array(n);
    for (var i = 0; i < n; i++) {
      var s = Math.sin((d.lat[i] * Math.PI) / 180);
      d.mx[i] = (d.lon[i] + 180) / 360;
      d.my[i] = 0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI);
    }
    p.code_digits.forEach(function (digit) { d.digits[digit[0]] = new Int32Array(n); });
    for (i = 0; i < n; i++) {
      var code = cols.code[i];
      for (var j = 0; j < p.code_digits.length; j++) {
        var radix = p.code_digits[j][1], v = code % radix;
        d.digits[p.code_digits[j][0]][i] = v;
        code = (code - v) / radix;
      }
    }
    var iv = [p.sectors.indexOf("Independent"), p.sectors.indexOf("Voluntary")];
    // Flagged: I+V sites outside NHS planning (not engaged, or no evidence of NHS commissioning by their ICB).
    var outside = (p.outside || ["not engaged"]).map(function (s) { return p.statuses.indexOf(s); });
    d.flagged = new Uint8Array(n);
    for (i = 0; i < n; i++) {
      d.flagged[i] = iv.indexOf(d.digits.sector[i]) >= 0 && outside.indexOf(d.digits.status[i]) >= 0 ? 1 : 0;
    }
    return d;
  }

  function unpackBits(b64, n) {
    var out = new Uint8Array(n), s = atob(b64);
    for (var i = 0; i < n; i++) out[i] = (s.charCodeAt(i >> 3) >> (i & 7)) & 1;
    return out;
  }

  // Served payloads, fetched and decoded once per frame: a filter change sends only a mask.
  // The few newest are kept (a vintage switch brings another); the browser's HTTP cache
  // keeps the responses themselves across visits.
  var served = [], KEEP_SERVED = 4;

  function appPath(url) {
    var path = window.location.pathname, at = path.indexOf("/component/");
    return (at >= 0 ? path.slice(0, at) : "") + "/" + url;
  }

  function load(url) {
    for (var k = 0; k < served.length; k++) if (served[k].url === url) return served[k].data;
    var data = fetch(appPath(url), { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (payload) {
        var t0 = performance.now(), d = decode(payload);
        d.decodeMs = performance.now() - t0;
        return d;
      });
    var held = { url: url, data: data };
    data.catch(function () { if (served.indexOf(held) >= 0) served.splice(served.indexOf(held), 1); });
    served.push(held);
    if (served.length > KEEP_SERVED) served.shift();
    return data;
  }

  function entry(table, index) { return index > 0 ? table[index - 1] : ""; }

  function countLabel(n) {
    return n >= 10000 ? Math.round(n / 1000) + "k" : n >= 1000 ? (n / 1000).toFixed(1) + "k" : String(n);
  }

  var SitesLayer = L.Layer.extend({
    options: {
      pane: "icsSitesPane", detailZoom: 11, maxIndividual: 2000, cellSize: 56,
      colours: [], sectorLabels: [], flaggedLabel: "I+V not engaged",
    },

    // `payload` is decoded now; null when setData brings it later (IcsMap.sitesFrom).
    initialize: function (payload, options) {
      L.setOptions(this, options);
      this._d = null;
      this.stats = null;
      if (payload) {
        var t0 = performance.now(), d = decode(payload);
        d.decodeMs = performance.now() - t0;
        this.setData(d, null);
      }
    },

    // The decoded sites, and a packed mask of those to show (null: all of them).
    setData: function (d, mask) {
      this._d = d;
      this.decodeMs = d.decodeMs;
      this._shown = mask === null ? null : unpackBits(mask, d.n);
      this.shown = d.n;
      if (this._shown) {
        this.shown = 0;
        for (var i = 0; i < d.n; i++) this.shown += this._shown[i];
      }
      this._xs = this._ys = this._visible = null;
      if (this._map) this._redraw();
    },

    fail: function (message) {
      this.failure = message;
      window.IcsMap.failures.push(message);
      if (!this._map || this._notice) return;
      this._notice = L.control({ position: "topright" });
      this._notice.onAdd = function () {
        var div = L.DomUtil.create("div", "ics-legend ics-warn");
        div.textContent = message;
        return div;
      };
      this._notice.addTo(this._map);
    },

    // IcsMap.layers lists the site layers on a map now, for tests and measurements.
    onAdd: function (map) {
      window.IcsMap.layers.push(this);
      var pane = map.getPane(this.options.pane) || map.createPane(this.options.pane);
      pane.style.zIndex = 450;
      pane.style.pointerEvents = "none";
      this._canvas = L.DomUtil.create("canvas", "ics-sites-canvas leaflet-zoom-hide", pane);
      this._tip = L.tooltip({ direction: "top", className: "ics-site-tip", opacity: 0.95 });
      map.on("moveend zoomend resize viewreset", this._schedule, this);
      map.on("mousemove", this._onMouseMove, this);
      map.on("mouseout", this._hideTip, this);
      map.on("click", this._onClick, this);
      this._redraw();
      if (this.failure) this.fail(this.failure);
    },

    onRemove: function (map) {
      var layers = window.IcsMap.layers;
      if (layers.indexOf(this) >= 0) layers.splice(layers.indexOf(this), 1);
      L.DomUtil.remove(this._canvas);
      if (this._notice) this._notice.remove();
      this._notice = null;
      map.off("moveend zoomend resize viewreset", this._schedule, this);
      map.off("mousemove", this._onMouseMove, this);
      map.off("mouseout", this._hideTip, this);
      map.off("click", this._onClick, this);
      this._hideTip();
      this._hits = [];
    },

    _schedule: function () {
      if (this._queued) return;
      this._queued = true;
      L.Util.requestAnimFrame(function () {
        this._queued = false;
        this._redraw();
      }, this);
    },

    _redraw: function () {
      var map = this._map;
      if (!map || !this._d) return;
      var t0 = performance.now(), d = this._d, n = d.n, size = map.getSize(), only = this._shown;
      var dpr = window.devicePixelRatio || 1, canvas = this._canvas;
      L.DomUtil.setPosition(canvas, map.containerPointToLayerPoint([0, 0]));
      canvas.width = Math.round(size.x * dpr);
      canvas.height = Math.round(size.y * dpr);
      canvas.style.width = size.x + "px";
      canvas.style.height = size.y + "px";
      var ctx = canvas.getContext("2d");
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.clearRect(0, 0, size.x, size.y);
      var zoom = map.getZoom(), scale = 256 * Math.pow(2, zoom), origin = map.getPixelBounds().min;
      var xs = this._xs || (this._xs = new Float32Array(n));
      var ys = this._ys || (this._ys = new Float32Array(n));
      var visible = this._visible || (this._visible = new Int32Array(n));
      var k = 0, pad = 30;
      for (var i = 0; i < n; i++) {
        if (only && !only[i]) continue;
        var x = d.mx[i] * scale - origin.x, y = d.my[i] * scale - origin.y;
        if (x > -pad && y > -pad && x < size.x + pad && y < size.y + pad) {
          visible[k++] = i;
          xs[i] = x;
          ys[i] = y;
        }
      }
      var individual = zoom >= this.options.detailZoom || k <= this.options.maxIndividual;
      this._hits = individual
        ? this._drawSites(ctx, visible.subarray(0, k), zoom)
        : this._drawClusters(ctx, visible.subarray(0, k), zoom);
      this.stats = {
        mode: individual ? "sites" : "clusters", visible: k, marks: this._hits.length,
        zoom: zoom, ms: performance.now() - t0, at: performance.now(),
      };
      window.IcsMap.lastDraw = this.stats;
      window.IcsMap.draws.push(this.stats);
      this.fire("icsdraw", this.stats);
    },

    _radius: function (zoom) { return zoom >= 14 ? 6 : zoom >= 12 ? 5 : zoom >= 9 ? 4 : 3; },

    // Plain sectors first, then independent/voluntary, then the not-engaged squares on top.
    _drawSites: function (ctx, indexes, zoom) {
      var d = this._d, sector = d.digits.sector, groups = [], order = [0, 1, 4, 2, 3], g;
      for (g = 0; g < 10; g++) groups.push([]);
      for (var j = 0; j < indexes.length; j++) {
        var i = indexes[j];
        groups[sector[i] + (d.flagged[i] ? 5 : 0)].push(i);
      }
      var r = this._radius(zoom), hits = [];
      var drawOrder = order.concat(order.map(function (s) { return s + 5; }));
      for (var o = 0; o < drawOrder.length; o++) {
        g = drawOrder[o];
        var members = groups[g], square = g >= 5;
        if (!members.length) continue;
        ctx.beginPath();
        for (j = 0; j < members.length; j++) {
          var x = this._xs[members[j]], y = this._ys[members[j]];
          if (square) {
            ctx.rect(x - r, y - r, 2 * r, 2 * r);
          } else {
            ctx.moveTo(x + r, y);
            ctx.arc(x, y, r, 0, TAU);
          }
          hits.push({ x: x, y: y, r: r + 2, site: members[j] });
        }
        ctx.fillStyle = this.options.colours[g % 5];
        ctx.fill();
        ctx.lineWidth = square ? 2 : 1;
        ctx.strokeStyle = square ? "#000" : "#fff";
        ctx.stroke();
      }
      return hits;
    },

    _drawClusters: function (ctx, indexes, zoom) {
      var d = this._d, cell = this.options.cellSize, byKey = new Map(), clusters = [], singles = [];
      for (var j = 0; j < indexes.length; j++) {
        var i = indexes[j];
        var key = (Math.floor(this._xs[i] / cell) + 2) * 65536 + Math.floor(this._ys[i] / cell) + 2;
        var c = byKey.get(key);
        if (!c) {
          c = { n: 0, sx: 0, sy: 0, sectors: [0, 0, 0, 0, 0], flagged: 0, first: i };
          byKey.set(key, c);
          clusters.push(c);
        }
        c.n++;
        c.sx += this._xs[i];
        c.sy += this._ys[i];
        c.sectors[d.digits.sector[i]]++;
        c.flagged += d.flagged[i];
      }
      var hits = [];
      for (j = 0; j < clusters.length; j++) {
        if (clusters[j].n === 1) singles.push(clusters[j].first);
      }
      hits = hits.concat(this._drawSites(ctx, singles, zoom));
      for (j = 0; j < clusters.length; j++) {
        c = clusters[j];
        if (c.n > 1) hits.push(this._drawCluster(ctx, c));
      }
      return hits;
    },

    _drawCluster: function (ctx, c) {
      var x = c.sx / c.n, y = c.sy / c.n, radius = 7 + 5 * Math.log10(c.n), start = -Math.PI / 2;
      for (var s = 0; s < 5; s++) {
        if (!c.sectors[s]) continue;
        var angle = (TAU * c.sectors[s]) / c.n;
        ctx.beginPath();
        ctx.moveTo(x, y);
        ctx.arc(x, y, radius, start, start + angle);
        ctx.closePath();
        ctx.fillStyle = this.options.colours[s];
        ctx.fill();
        start += angle;
      }
      ctx.beginPath();
      ctx.arc(x, y, radius * 0.6, 0, TAU);
      ctx.fillStyle = "#fff";
      ctx.fill();
      if (c.flagged) {
        ctx.beginPath();
        ctx.arc(x, y, radius + 2.5, -Math.PI / 2, -Math.PI / 2 + (TAU * c.flagged) / c.n);
        ctx.lineWidth = 3;
        ctx.strokeStyle = "#000";
        ctx.stroke();
      }
      ctx.fillStyle = "#111";
      ctx.font = "bold 10px system-ui, sans-serif";
      ctx.textAlign = "center";
      ctx.textBaseline = "middle";
      ctx.fillText(countLabel(c.n), x, y);
      return { x: x, y: y, r: radius + 3, cluster: c };
    },

    _hitAt: function (point) {
      var hits = this._hits || [];
      for (var j = hits.length - 1; j >= 0; j--) {
        var h = hits[j], dx = h.x - point.x, dy = h.y - point.y;
        if (dx * dx + dy * dy <= h.r * h.r) return h;
      }
      return null;
    },

    _onMouseMove: function (e) {
      this._pointer = e.containerPoint;
      if (this._hoverQueued) return;
      this._hoverQueued = true;
      L.Util.requestAnimFrame(function () {
        this._hoverQueued = false;
        this._hover();
      }, this);
    },

    _hover: function () {
      if (!this._map || !this._pointer) return;
      var hit = this._hitAt(this._pointer);
      L.DomUtil[hit ? "addClass" : "removeClass"](this._map.getContainer(), "ics-over-site");
      if (!hit) return this._hideTip();
      var latlng = this._map.containerPointToLatLng([hit.x, hit.y]);
      this._tip.options.offset = [0, -hit.r];
      this._tip.setLatLng(latlng).setContent(hit.cluster ? this._clusterTip(hit.cluster) : this._siteTip(hit.site));
      if (!this._map.hasLayer(this._tip)) this._tip.addTo(this._map);
    },

    _hideTip: function () {
      if (this._tip && this._map && this._map.hasLayer(this._tip)) this._map.removeLayer(this._tip);
    },

    _onClick: function (e) {
      var hit = this._hitAt(e.containerPoint);
      if (!hit) return;
      var map = this._map, latlng = map.containerPointToLatLng([hit.x, hit.y]);
      if (hit.cluster) {
        map.setView(latlng, Math.min(map.getZoom() + 2, map.getMaxZoom()));
      } else {
        this._hideTip();
        L.popup({ maxWidth: 340, className: "ics-site-popup-wrap" })
          .setLatLng(latlng).setContent(this.popupHtml(hit.site)).openOn(map);
      }
    },

    siteName: function (i) {
      var d = this._d;
      return d.cols.name ? entry(d.strings.name, d.cols.name[i]) : d.strings.name[i];
    },

    _siteTip: function (i) {
      var d = this._d, sector = d.digits.sector[i];
      return "<b>" + this.siteName(i) + "</b><br>" + this.options.sectorLabels[sector] +
        (d.flagged[i] ? " · " + this.options.flaggedLabel : "");
    },

    _clusterTip: function (c) {
      var parts = [], labels = this.options.sectorLabels;
      for (var s = 0; s < 5; s++) if (c.sectors[s]) parts.push(labels[s] + " " + c.sectors[s].toLocaleString("en-GB"));
      return "<b>" + c.n.toLocaleString("en-GB") + " sites</b><br>" + parts.join(" · ") +
        "<br>" + this.options.flaggedLabel + ": " + c.flagged.toLocaleString("en-GB") + "<br><i>Click to zoom in</i>";
    },

    popupHtml: function (i) {
      var d = this._d, p = d.p, s = d.strings, dg = d.digits, cols = d.cols;
      var capacity = cols.capacity[i] ? ((cols.capacity[i] - 1) / p.capacity_scale).toLocaleString("en-GB") : "unknown";
      var border = cols.border[i] ? (((cols.border[i] - 1) * p.border_unit_m) / 1000).toFixed(1) + " km to another ICB" : "not measured";
      var icb = entry(s.icb_name, dg.icb[i]) || "outside every ICB";
      var code = entry(s.icb_code, dg.icb[i]);
      var assignment = dg.assignment[i] ? p.assignments[dg.assignment[i] - 1] : "";
      var differs = entry(s.official, dg.official[i]);
      var agreement = p.agreement[dg.agrees[i]];
      var official = differs
        ? '<span class="ics-warn">' + differs + " in the provider list differs from the map</span>"
        : agreement === "differs" ? '<span class="ics-warn">differs from the map</span>' : agreement;
      var rows = [
        ["Provider", entry(s.provider, cols.provider[i]) || "not given"],
        ["Sector", this.options.sectorLabels[dg.sector[i]]],
        ["Service", entry(s.service, cols.service[i]) || "not given"],
        ["Capacity", capacity],
        ["Planning", p.statuses[dg.status[i]] + (entry(s.basis, cols.basis[i]) ? " (basis: " + entry(s.basis, cols.basis[i]) + ")" : "")],
        ["Evidence", entry(s.evidence, cols.evidence[i]) || (entry(s.basis, cols.basis[i]) === "open data" ? "none found in the sources loaded" : "")],
        ["ICB", icb + (code ? " (" + code + ")" : "") + (assignment && assignment !== "inside" ? "; " + assignment : "")],
        ["Why", entry(s.reason, cols.reason[i])],
        ["Official ICB", official],
        ["Border", border],
      ];
      return '<div class="ics-site-popup"><h4>' + this.siteName(i) + "</h4><table>" +
        rows.filter(function (r) { return r[1]; }).map(function (r) {
          return "<tr><th>" + r[0] + "</th><td>" + r[1] + "</td></tr>";
        }).join("") + "</table></div>";
    },
  });

  function legend(layer, html, position) {
    var control = L.control({ position: position || "bottomright" });
    control.onAdd = function () {
      var div = L.DomUtil.create("div", "ics-legend");
      div.innerHTML = html;
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      return div;
    };
    layer.on("add", function () { control.addTo(layer._map); });
    layer.on("remove", function () { control.remove(); });
    if (layer._map) control.addTo(layer._map);
    return control;
  }

  function addStyles() {
    var style = document.createElement("style");
    style.id = "ics-map-css";
    style.textContent = css;
    document.head.appendChild(style);
    var hatch = document.createElement("div");
    hatch.innerHTML =
      '<svg aria-hidden="true" style="position:absolute;width:0;height:0"><defs>' +
      '<pattern id="ics-no-data" patternUnits="userSpaceOnUse" width="6" height="6" patternTransform="rotate(45)">' +
      '<rect width="6" height="6" fill="#e6e6e6"/><rect width="2" height="6" fill="#8a8a8a"/></pattern></defs></svg>';
    document.body.appendChild(hatch.firstChild);
  }

  function sitesFrom(url, mask, options) {
    var layer = new SitesLayer(null, options);
    load(url).then(
      function (d) { layer.setData(d, mask); },
      function (error) { layer.fail("The provider sites could not be loaded (" + error.message + "); reload the page."); }
    );
    return layer;
  }

  window.IcsMap = {
    layers: [], draws: [], failures: [], lastDraw: null, decode: decode, legend: legend,
    sitesLayer: function (payload, options) { return new SitesLayer(payload, options); },
    sitesFrom: sitesFrom,
  };
  addStyles();
})(__ICS_MAP_CSS__);
