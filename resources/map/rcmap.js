/* Live markers of the Responder Console map.
 *
 * The page is built once; afterwards the console sends diffs ({seq, upsert: [spec], remove:
 * [key]}) to rcMap.apply(). Markers are kept by key ("team:T-03", "call:C-1042") and updated in
 * place: moved with setLatLng, restyled by changing their own element, never recreated. Text from
 * dispatch is only ever set with textContent. Clicks go back over the QWebChannel bridge.
 */
(function () {
  "use strict";

  const DENSE = 120;
  const LABEL_GAP = 4; // px between a symbol and its label (rcmap.css .rc-lbl)
  const BEAT_MS = 700;  // overdue rings: one beat (grow and fade, then back) every 1.4 s

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }

  function sameList(a, b) {
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }

  // Vector basemap styles (the demo pack, a site's GeoJSON), per theme. Muted: the basemap is
  // the background for teams and calls, never competing with their colours.
  const BASE_STYLE = {
    light: {
      boundary: { color: "#455a64", weight: 2.5, opacity: 0.9, fill: false },
      areas: { color: "#90a4ae", weight: 1.2, opacity: 0.9, dashArray: "5 4", fill: false },
      streets: { color: "#c2cad1", weight: 1, opacity: 1 },
      casing: { color: "#b4bec7", weight: 5, opacity: 1 },
      arterials: { color: "#ffffff", weight: 3, opacity: 1 },
      lines: { color: "#78909c", weight: 1.2, opacity: 0.9, fillOpacity: 0.05 },
    },
    dark: {
      boundary: { color: "#8fa3b3", weight: 2.5, opacity: 0.9, fill: false },
      areas: { color: "#4a5866", weight: 1.2, opacity: 0.9, dashArray: "5 4", fill: false },
      streets: { color: "#262d36", weight: 1, opacity: 1 },
      casing: { color: "#1c2128", weight: 5, opacity: 1 },
      arterials: { color: "#3a4450", weight: 3, opacity: 1 },
      lines: { color: "#5f7180", weight: 1.2, opacity: 0.9, fillOpacity: 0.05 },
    },
  };
  const LABEL_MIN_ZOOM = 12;
  const HOSPITAL_NAME_ZOOM = 15;

  class RcMap {
    constructor(map, opts, control) {
      this.map = map;
      this.opts = opts || {};
      this.control = control || null;
      this.markers = new Map();
      this.specs = new Map();
      this.selected = null;
      this.following = null;
      this.bridge = null;
      this.applied = 0;
      // The cluster layer needs a maximum zoom even when no tile layer supplies one.
      if (map.options.maxZoom === undefined) map.setMaxZoom(19);
      if (map.options.minZoom === undefined) map.setMinZoom(3);
      this.linkLayer = L.layerGroup().addTo(map);
      this.links = new Map();
      this.plain = L.layerGroup().addTo(map);
      this.cluster = typeof L.markerClusterGroup === "function"
        ? L.markerClusterGroup({
          maxClusterRadius: 40,
          disableClusteringAtZoom: 15,
          showCoverageOnHover: false,
          // A square like the calls it stands for, with their number; neutral, not an alarm.
          // A dashed pill that says how many calls it holds: neither a call's square nor a
          // team's circle.
          iconCreateFunction: (cluster) => L.divIcon({
            html: el("div", "rc-cluster-box", cluster.getChildCount() + " calls"),
            className: "rc-cluster",
            iconSize: null,
            iconAnchor: [22, 10],
          }),
        }).addTo(map)
        : this.plain;
      this.tileErrors = 0;
      this.tileLoads = 0;
      // Notices sit in a bar above the map, which shrinks to make room: they never hide a
      // marker.
      this.notices = el("div", "rc-notices");
      document.body.insertBefore(this.notices, document.body.firstChild);
      for (const text of this.opts.notices || []) this.addNotice(text);
      this.basemap = [];
      this._basemap();
      this._watchTiles();
      this._legend();
      map.on("dragstart", () => this._stopFollowing());
      map.on("zoomend", () => {
        this._zoomClass();
        this._declutterSoon();
      });
      // The cluster layer adds and removes markers as the view moves.
      map.on("moveend", () => this._declutterSoon());
      this._zoomClass();
      this.setDark(!!this.opts.dark);
      // Overdue rings beat by a class toggled on the container, not a CSS animation: an
      // endless animation makes Chromium composite a new frame at display rate for as long as
      // one call is overdue, most of a core on a dispatch PC; a toggle costs one frame a beat.
      this.beat = setInterval(() => map.getContainer().classList.toggle("rc-beat"), BEAT_MS);
      this._connectBridge();
    }

    _connectBridge() {
      if (typeof QWebChannel === "undefined" || typeof qt === "undefined" || !qt.webChannelTransport) {
        return;
      }
      new QWebChannel(qt.webChannelTransport, (channel) => {
        this.bridge = channel.objects.rcBridge || null;
        if (this.bridge) this.bridge.pageReady();
      });
    }

    _watchTiles() {
      this.map.eachLayer((layer) => {
        if (!(layer instanceof L.TileLayer)) return;
        layer.on("tileload", () => {
          this.tileLoads++;
          this.removeNotice(this._tileNotice);
        });
        layer.on("tileerror", () => {
          this.tileErrors++;
          if (this.tileLoads === 0 && this.tileErrors >= 4 && !this._tileNotice) {
            this._tileNotice = this.addNotice("Basemap tiles unreachable: showing teams and calls only");
          }
        });
      });
    }

    // The vector basemap: drawn on one canvas in its own pane, above any tiles and under the
    // overlays and markers; neighbourhood names and hospitals in a pane of their own.
    _basemap() {
      const layers = this.opts.basemap || [];
      if (!layers.length) return;
      const map = this.map;
      map.createPane("rcBase").style.zIndex = 250;
      const labels = map.createPane("rcLabels");
      labels.style.zIndex = 450;
      labels.style.pointerEvents = "none";
      map.createPane("rcPlaces").style.zIndex = 460;
      const renderer = L.canvas({ pane: "rcBase", padding: 0.5 });
      const theme = BASE_STYLE[this.opts.dark ? "dark" : "light"];
      for (const spec of layers) {
        let layer;
        const count = spec.data.type === "FeatureCollection" ? spec.data.features.length : 1;
        if (spec.kind === "points") {
          layer = L.geoJSON(spec.data, {
            pane: "rcPlaces",
            pointToLayer: (f, ll) => {
              const name = (f.properties && f.properties.name) || "";
              const root = el("div", "rc-place");
              root.appendChild(el("span", "rc-place-sym", "H"));
              root.appendChild(el("span", "rc-place-name", name));
              const m = L.marker(ll, {
                pane: "rcPlaces",
                icon: L.divIcon({ className: "rc-place-icon", html: root, iconSize: null, iconAnchor: [7, 7] }),
                keyboard: false,
                zIndexOffset: -1000,
              });
              if (name) m.bindTooltip(name, { direction: "top", offset: [0, -6], className: "rc-tooltip" });
              return m;
            },
          });
        } else if (spec.kind === "arterials") {
          // A casing under the line reads as a road, not as one more boundary.
          const casing = L.geoJSON(spec.data, { renderer: renderer, interactive: false, style: () => theme.casing });
          const top = L.geoJSON(spec.data, { renderer: renderer, interactive: false, style: () => theme.arterials });
          layer = L.layerGroup([casing, top]);
          layer.rcParts = [["casing", casing], ["arterials", top]];
        } else {
          const style = BASE_STYLE.light[spec.kind] ? spec.kind : "lines";
          layer = L.geoJSON(spec.data, {
            renderer: renderer,
            interactive: false,
            style: () => theme[style],
            pointToLayer: (f, ll) => L.circleMarker(ll, { renderer: renderer, radius: 3 }),
          });
          layer.rcParts = [[style, layer]];
        }
        layer.addTo(map);
        if (this.control) this.control.addOverlay(layer, spec.name);
        this.basemap.push({ name: spec.name, kind: spec.kind, features: count, layer: layer });
      }
      const labelLayer = L.layerGroup();
      for (const lb of this.opts.labels || []) {
        L.marker([lb.lat, lb.lon], {
          pane: "rcLabels",
          interactive: false,
          keyboard: false,
          icon: L.divIcon({ className: "rc-area-label", html: el("span", "", lb.name), iconSize: null }),
        }).addTo(labelLayer);
      }
      if ((this.opts.labels || []).length) {
        labelLayer.addTo(map);
        if (this.control) this.control.addOverlay(labelLayer, "Neighborhood names");
        this.basemap.push({ name: "Neighborhood names", kind: "labels", features: this.opts.labels.length, layer: labelLayer });
      }
      if (this.opts.basemapAttribution && map.attributionControl) {
        map.attributionControl.addAttribution(this.opts.basemapAttribution);
      }
    }

    _styleBasemap(dark) {
      const theme = BASE_STYLE[dark ? "dark" : "light"];
      for (const b of this.basemap) {
        for (const [style, part] of b.layer.rcParts || []) part.setStyle(theme[style]);
      }
    }

    // What the vector basemap holds: for tests and diagnostics.
    basemapSummary() {
      return this.basemap.map((b) => ({
        name: b.name,
        kind: b.kind,
        features: b.features,
        onMap: this.map.hasLayer(b.layer),
      }));
    }

    _legend() {
      const lg = this.opts.legend || {};
      const Legend = L.Control.extend({
        onAdd: () => {
          const outer = el("div", "rc-legend leaflet-bar");
          // The legend folds to its title (a click), so it never has to sit on markers.
          const head = el("a", "rc-lg-head", "Legend");
          head.href = "#";
          head.setAttribute("role", "button");
          head.title = "Show or hide the legend";
          outer.appendChild(head);
          const box = el("div", "rc-lg-body");
          outer.appendChild(box);
          L.DomEvent.on(head, "click", (e) => {
            L.DomEvent.preventDefault(e);
            outer.classList.toggle("rc-lg-folded");
            this._legendChosen = true;
          });
          const sym = (cls, text, color) => {
            const s = el("span", "rc-lg-sym " + cls, text);
            if (color) s.style.setProperty("--rc-color", color);
            return s;
          };
          const row = (s, text) => {
            const r = el("div", "rc-lg-row");
            r.appendChild(s);
            r.appendChild(el("span", "rc-lg-text", text));
            box.appendChild(r);
          };
          const grid = (title, cls, items) => {
            box.appendChild(el("div", "rc-lg-title", title));
            const g = el("div", "rc-lg-grid");
            for (const it of items) {
              const r = el("div", "rc-lg-row");
              r.title = it.text;
              r.appendChild(sym(cls, cls === "rc-lg-call" ? it.abbr : "", it.color));
              r.appendChild(el("span", "rc-lg-text", cls === "rc-lg-call" ? it.text : it.abbr + " " + it.text));
              g.appendChild(r);
            }
            box.appendChild(g);
          };
          if (lg.teams) grid("Teams (id, status, time in status)", "rc-lg-team", lg.teams);
          if (lg.priorities) grid("Calls (priority, status, age)", "rc-lg-call", lg.priorities);
          box.appendChild(el("div", "rc-lg-title", "Signs"));
          row(sym("rc-lg-overdue", "!"), "OVERDUE: pending too long");
          row(sym("rc-lg-unsafe", "⚠"), "Unsafe: safety flags");
          row(sym("rc-lg-stale", "?"), "Stale position (faded, dashed)");
          row(sym("rc-lg-link", ""), "Team to the call it works");
          row(sym("rc-lg-group", "3 calls"), "Covered calls grouped: zoom in");
          if ((this.opts.basemap || []).some((b) => b.kind === "points")) {
            row(sym("rc-lg-place", "H"), "Hospital");
          }
          L.DomEvent.disableClickPropagation(outer);
          return outer;
        },
      });
      this.legend = new Legend({ position: "bottomleft" }).addTo(this.map);
      // On a small map (a window at 1280x800) the legend is folded to its title, so it does
      // not cover markers; a click opens it, and from then on it stays as the supervisor left it.
      this._legendChosen = false;
      const fit = () => {
        if (this._legendChosen) return;
        const size = this.map.getSize();
        this.legend.getContainer().classList.toggle("rc-lg-folded", size.x < 720 || size.y < 560);
      };
      fit();
      this.map.on("resize", fit);
    }

    legendColors() {
      const out = {};
      for (const s of document.querySelectorAll(".rc-legend .rc-lg-sym")) {
        const c = s.style.getPropertyValue("--rc-color");
        if (!c) continue;
        const kind = s.classList.contains("rc-lg-team") ? "team" : "call";
        (out[kind] = out[kind] || []).push([s.parentNode.lastChild.textContent, getComputedStyle(s).backgroundColor]);
      }
      return out;
    }

    addNotice(text) {
      const n = el("div", "rc-notice", text);
      this.notices.appendChild(n);
      this._layoutNotices();
      return n;
    }

    removeNotice(node) {
      if (node && node.parentNode) node.parentNode.removeChild(node);
      if (node === this._tileNotice) this._tileNotice = null;
      this._layoutNotices();
    }

    // The map takes the height the notice bar leaves.
    _layoutNotices() {
      const h = this.notices.children.length ? this.notices.offsetHeight : 0;
      if (h === this._noticeHeight) return;
      this._noticeHeight = h;
      const c = this.map.getContainer();
      c.style.height = h ? "calc(100% - " + h + "px)" : "100%";
      this.map.invalidateSize({ pan: false });
    }

    noticeTexts() {
      return Array.from(this.notices.children).map((n) => n.textContent);
    }

    _zoomClass() {
      const z = this.map.getZoom();
      const c = this.map.getContainer();
      c.classList.toggle("rc-zoom-hi", z >= 15);
      c.classList.toggle("rc-zoom-lo", z < LABEL_MIN_ZOOM);
      c.classList.toggle("rc-places-named", z >= HOSPITAL_NAME_ZOOM);
    }

    // Leaflet drops a setView asked for while a zoom animation runs: wait for it to end.
    _whenIdle(fn) {
      if (this.map._animatingZoom) this.map.once("zoomend", () => this._whenIdle(fn));
      else fn();
    }

    _group(spec) {
      return spec.cluster ? this.cluster : this.plain;
    }

    // The marker's own element: the divIcon reuses this node whenever Leaflet (or the cluster
    // layer) re-creates the icon, so changing it in place is enough to restyle the marker.
    _root(spec) {
      const root = el("div");
      root.appendChild(el("span", "rc-sym"));
      root.appendChild(el("span", "rc-badge"));
      root.appendChild(el("span", "rc-lbl"));
      this._paint(root, spec);
      return root;
    }

    _paint(root, spec) {
      const classes = ["rc-m"].concat(spec.classes.map((c) => "rc-" + c));
      if (this.selected === spec.key) classes.push("rc-selected");
      // Until re-measured (declutter, on the next frame).
      for (const c of ["rc-lbl-off", "rc-lbl-left"]) if (root.classList.contains(c)) classes.push(c);
      root.className = classes.join(" ");
      root.style.setProperty("--rc-color", spec.color);
      root.children[0].textContent = spec.sym;
      root.children[1].textContent = spec.badge;
      root.children[1].style.display = spec.badge ? "" : "none";
      root.children[2].textContent = spec.label;
    }

    _icon(spec, root) {
      return L.divIcon({
        className: "rc-icon",
        iconSize: null,
        iconAnchor: spec.kind === "call" ? [10, 10] : [9, 9],
        tooltipAnchor: [0, -10],
        html: root,
      });
    }

    _tip(spec) {
      const box = el("div", "rc-tip");
      spec.tip.forEach((line, i) => box.appendChild(el("div", i === 0 ? "rc-tip-title" : "rc-tip-line", line)));
      return box;
    }

    // What needs a decision first is drawn on top, and keeps its label first (declutter): the
    // selected marker, then overdue, unsafe and pending calls, teams working a call, other
    // teams, calls a team covers. Leaflet adds the marker's screen y (less than the 500 between
    // classes wherever two markers overlap).
    _z(spec) {
      return spec.z + (spec.kind === "team" && spec.link ? 500 : 0) + (this.selected === spec.key ? 10000 : 0);
    }

    _clicked(key) {
      const spec = this.specs.get(key);
      if (!spec) return;
      this.select(key, false);
      if (this.bridge) this.bridge.markerClicked(spec.kind, spec.id);
    }

    apply(diff) {
      const t0 = performance.now();
      for (const key of diff.remove || []) {
        const m = this.markers.get(key);
        const spec = this.specs.get(key);
        if (m && spec) this._group(spec).removeLayer(m);
        this.markers.delete(key);
        this.specs.delete(key);
        if (this.selected === key) this.selected = null;
        if (this.following === key) this.following = null;
      }
      for (const s of diff.upsert || []) {
        const old = this.specs.get(s.key);
        let m = this.markers.get(s.key);
        this.specs.set(s.key, s);
        if (!m || !old) {
          const root = this._root(s);
          m = L.marker([s.lat, s.lon], {
            icon: this._icon(s, root),
            zIndexOffset: this._z(s),
            keyboard: false,
            riseOnHover: true,
          });
          m._rcRoot = root;
          const key = s.key;
          m.on("click", () => this._clicked(key));
          m.bindTooltip(this._tip(s), { direction: "top", className: "rc-tooltip" });
          this._group(s).addLayer(m);
          this.markers.set(s.key, m);
          continue;
        }
        const regroup = old.cluster !== s.cluster;
        if (regroup) this._group(old).removeLayer(m);
        const moved = old.lat !== s.lat || old.lon !== s.lon;
        if (moved) m.setLatLng([s.lat, s.lon]);
        if (old.color !== s.color || old.label !== s.label || old.badge !== s.badge || old.sym !== s.sym || !sameList(old.classes, s.classes)) {
          this._paint(m._rcRoot, s);
        }
        if (old.z !== s.z || !old.link !== !s.link) m.setZIndexOffset(this._z(s));
        if (!sameList(old.tip, s.tip)) m.setTooltipContent(this._tip(s));
        if (regroup) this._group(s).addLayer(m);
        if (moved && this.following === s.key) this._whenIdle(() => this.map.panTo(m.getLatLng()));
      }
      this._updateLinks();
      // A crowded map keeps only the labels that need a decision (teams, overdue calls) until
      // zoomed in; every marker still has its symbol and its tooltip.
      this.map.getContainer().classList.toggle("rc-dense", this.markers.size > DENSE);
      this._declutterSoon();
      if (diff.seq) this.applied = diff.seq;
      return { seq: diff.seq || 0, count: this.markers.size, ms: performance.now() - t0 };
    }

    // Labels never overlap: on the next frame, each shown label is kept only if it covers no
    // label kept before it and no symbol of a marker that matters as much, in the order the
    // markers are drawn (_z), so a label only ever lies over symbols drawn beneath it. A label
    // left out leaves its symbol and its tooltip (the whole text on hover); zooming in gives
    // the room back. A label the map's right edge would cut is put on its symbol's left first.
    _declutterSoon() {
      if (this._declutterFrame) return;
      this._declutterFrame = requestAnimationFrame(() => {
        this._declutterFrame = 0;
        this.declutter();
      });
    }

    // [key, element] of each marker drawn on its own (not in a cluster, not off the map).
    _placed() {
      const out = [];
      for (const [key, m] of this.markers) {
        const root = m._rcRoot;
        if (root && m._icon && root.isConnected) out.push([key, root]);
      }
      return out;
    }

    declutter() {
      const shown = this._placed();
      for (const [, root] of shown) root.classList.remove("rc-lbl-off", "rc-lbl-left");
      // Measure everything first (one layout), then decide, then write.
      const edge = this.map.getContainer().getBoundingClientRect();
      const boxes = shown.map(([key, root]) => {
        let lbl = root.children[2].getBoundingClientRect();
        const sym = root.children[0].getBoundingClientRect();
        // A label the map's right edge would cut goes to its symbol's left (rcmap.css), when
        // the symbol is on the map and the label fits there.
        const left =
          lbl.right > edge.right &&
          sym.right <= edge.right &&
          sym.left - LABEL_GAP - lbl.width >= edge.left;
        if (left) {
          const x = sym.left - LABEL_GAP - lbl.width;
          lbl = { left: x, right: x + lbl.width, top: lbl.top, bottom: lbl.bottom, width: lbl.width, height: lbl.height };
        }
        return { key: key, root: root, lbl: lbl, sym: sym, left: left, rank: this._z(this.specs.get(key)) };
      });
      boxes.sort((a, b) => b.rank - a.rank || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      const hit = (a, b) =>
        a.left < b.right + 2 && b.left < a.right + 2 && a.top < b.bottom + 1 && b.top < a.bottom + 1;
      const kept = [];
      const off = [];
      for (const b of boxes) {
        if (b.lbl.width === 0 || b.lbl.height === 0) continue; // hidden by the zoom or density rules
        // A label may lie over the symbol of a marker that matters less (a call its team
        // covers), never over one that matters as much or more.
        const blocked =
          kept.some((k) => hit(b.lbl, k)) ||
          boxes.some((o) => o !== b && o.rank >= b.rank && o.sym.width > 0 && hit(b.lbl, o.sym));
        if (blocked) off.push(b.root);
        else kept.push(b.lbl);
      }
      for (const b of boxes) if (b.left) b.root.classList.add("rc-lbl-left");
      for (const root of off) root.classList.add("rc-lbl-off");
      this.hiddenLabels = off.length;
      return { kept: kept.length, hidden: off.length };
    }

    // Each shown label's box on screen (tests: no two overlap).
    labelBoxes() {
      const out = [];
      for (const [key, root] of this._placed()) {
        const r = root.children[2].getBoundingClientRect();
        if (r.width > 0 && r.height > 0) out.push({ key: key, left: r.left, top: r.top, right: r.right, bottom: r.bottom });
      }
      return out;
    }

    // A dashed line in the team's colour from each busy team to the call it works.
    _updateLinks() {
      const seen = new Set();
      for (const [key, s] of this.specs) {
        if (s.kind !== "team" || !s.link) continue;
        const c = this.specs.get(s.link);
        if (!c) continue;
        seen.add(key);
        const pts = [[s.lat, s.lon], [c.lat, c.lon]];
        let line = this.links.get(key);
        if (!line) {
          line = L.polyline(pts, { color: s.color, weight: 2, opacity: 0.8, dashArray: "6 6", interactive: false, className: "rc-link" });
          line.rcTo = s.link;
          this.linkLayer.addLayer(line);
          this.links.set(key, line);
        } else {
          const cur = line.getLatLngs();
          if (!cur[0].equals(pts[0]) || !cur[1].equals(pts[1])) line.setLatLngs(pts);
          if (line.options.color !== s.color) line.setStyle({ color: s.color });
          line.rcTo = s.link;
        }
      }
      for (const [key, line] of this.links) {
        if (!seen.has(key)) {
          this.linkLayer.removeLayer(line);
          this.links.delete(key);
        }
      }
    }

    linkList() {
      return Array.from(this.links, ([from, line]) => ({ from: from, to: line.rcTo }));
    }

    // Destinations (shelters, detox, EDs...): their own layer and pane, under teams and calls.
    // Open ones a filled green diamond, closing soon an amber one, closed a hollow grey
    // square with a cross: told apart by shape as well as colour. Only what changed is
    // touched; the console sends the whole (short) list whenever one of them changes.
    setDestinations(list) {
      if (!this.destLayer) {
        this.map.createPane("rcDest").style.zIndex = 470;
        this.destLayer = L.layerGroup().addTo(this.map);
        this.destMarkers = new Map();
        if (this.control) this.control.addOverlay(this.destLayer, "Destinations");
        this._destLegend();
      }
      const seen = new Set();
      for (const d of list) {
        seen.add(d.id);
        const sig = [d.state, d.label, d.tip.join("\n"), d.lat, d.lon].join("|");
        let m = this.destMarkers.get(d.id);
        if (m && m.rcSig === sig) continue;
        const root = el("div", "rc-dest rc-dest-" + d.state);
        root.appendChild(el("span", "rc-dest-sym", d.state === "closed" ? "×" : ""));
        root.appendChild(el("span", "rc-dest-lbl", d.label));
        const icon = L.divIcon({ className: "rc-dest-icon", html: root, iconSize: null, iconAnchor: [7, 7] });
        if (!m) {
          m = L.marker([d.lat, d.lon], { pane: "rcDest", icon: icon, keyboard: false, zIndexOffset: -500 });
          m.bindTooltip(this._tip({ tip: d.tip }), { direction: "top", offset: [0, -6], className: "rc-tooltip" });
          m.addTo(this.destLayer);
          this.destMarkers.set(d.id, m);
        } else {
          m.setLatLng([d.lat, d.lon]);
          m.setIcon(icon);
          m.setTooltipContent(this._tip({ tip: d.tip }));
        }
        m.rcSig = sig;
        m.rcState = d.state;
      }
      for (const [id, m] of this.destMarkers) {
        if (!seen.has(id)) {
          this.destLayer.removeLayer(m);
          this.destMarkers.delete(id);
        }
      }
      return this.destMarkers.size;
    }

    // The legend learns the destination symbols when the first destinations arrive.
    _destLegend() {
      const box = this.legend && this.legend.getContainer().querySelector(".rc-lg-body");
      if (!box) return;
      box.appendChild(el("div", "rc-lg-title", "Destinations"));
      for (const [state, text] of [["open", "open"], ["closing_soon", "closing within 30 min"], ["closed", "closed"]]) {
        const r = el("div", "rc-lg-row rc-lg-dest");
        const sym = el("span", "rc-dest rc-dest-" + state);
        sym.appendChild(el("span", "rc-dest-sym", state === "closed" ? "×" : ""));
        r.appendChild(sym);
        r.appendChild(el("span", "rc-lg-text", text));
        box.appendChild(r);
      }
    }

    // Bring a destination into view with its tooltip open (chosen in the destinations panel).
    showDestination(id) {
      const m = this.destMarkers && this.destMarkers.get(id);
      if (!m) return false;
      this._whenIdle(() => {
        this.map.once("moveend", () => m.openTooltip());
        this.map.setView(m.getLatLng(), Math.max(this.map.getZoom(), 15));
      });
      return true;
    }

    // What the destination layer shows: for tests and diagnostics.
    destinationSnapshot() {
      const out = [];
      for (const [id, m] of this.destMarkers || []) {
        const icon = m._icon || null;
        const sym = icon ? icon.querySelector(".rc-dest-sym") : null;
        const cs = sym ? getComputedStyle(sym) : null;
        out.push({
          id: id,
          state: m.rcState,
          rendered: !!icon,
          onMap: this.map.hasLayer(m),
          background: cs ? cs.backgroundColor : null,
          border: cs ? cs.borderTopColor : null,
          transform: cs ? cs.transform : null,
          radius: cs ? cs.borderTopLeftRadius : null,
        });
      }
      return out;
    }

    // Drop every marker: the console resends the whole picture after a failed update.
    reset() {
      this.plain.clearLayers();
      if (this.cluster !== this.plain) this.cluster.clearLayers();
      this.markers.clear();
      this.specs.clear();
      this.linkLayer.clearLayers();
      this.links.clear();
      return true;
    }

    select(key, reveal) {
      const prev = this.selected;
      this.selected = this.specs.has(key) ? key : null;
      for (const k of [prev, this.selected]) {
        const m = k && this.markers.get(k);
        if (m) {
          const s = this.specs.get(k);
          this._paint(m._rcRoot, s);
          m.setZIndexOffset(this._z(s));
        }
      }
      const m = this.selected && this.markers.get(this.selected);
      if (m && reveal) this._whenIdle(() => this._reveal(m));
      this._declutterSoon();
      return this.selected;
    }

    _reveal(m) {
      const clustered = this.cluster !== this.plain && this.cluster.hasLayer(m) && !m._icon;
      if (clustered) {
        // Clustering stops at zoom 15: going there shows the marker itself.
        this.map.setView(m.getLatLng(), Math.max(this.map.getZoom(), 15));
      } else if (!this.map.getBounds().contains(m.getLatLng())) {
        this.map.panTo(m.getLatLng());
      }
    }

    follow(key) {
      this.following = key && this.specs.has(key) ? key : null;
      const m = this.following && this.markers.get(this.following);
      if (m) this._whenIdle(() => this.map.panTo(m.getLatLng()));
      return this.following;
    }

    _stopFollowing() {
      if (this.following === null) return;
      this.following = null;
      if (this.bridge) this.bridge.followStopped();
    }

    fitAll() {
      const pts = [];
      for (const s of this.specs.values()) pts.push([s.lat, s.lon]);
      this._whenIdle(() => {
        if (pts.length) {
          this.map.fitBounds(L.latLngBounds(pts).pad(0.05), { maxZoom: 16, padding: [24, 24] });
        } else if (this.opts.overlayBounds) {
          this.map.fitBounds(this.opts.overlayBounds);
        }
      });
    }

    zoomTo(key) {
      const m = this.markers.get(key);
      if (!m) return false;
      this.select(key, false);
      // At zoom 16 no call is clustered, so the marker itself is on the map afterwards.
      this._whenIdle(() => {
        this.map.once("moveend", () => m.openTooltip());
        this.map.setView(m.getLatLng(), Math.max(this.map.getZoom(), 16));
      });
      return true;
    }

    setDark(dark) {
      this.map.getContainer().classList.toggle("rc-dark", !!dark);
      document.body.classList.toggle("rc-dark", !!dark);
      document.documentElement.style.background = dark ? "#161a1f" : "#e9edf1";
      this._styleBasemap(!!dark);
      return !!dark;
    }

    snapshot() {
      const out = [];
      for (const [key, s] of this.specs) {
        const m = this.markers.get(key);
        const ll = m.getLatLng();
        const icon = m._icon || null;
        const sym = icon ? icon.querySelector(".rc-sym") : null;
        out.push({
          key: key,
          id: s.id,
          kind: s.kind,
          lat: ll.lat,
          lon: ll.lng,
          color: s.color,
          label: s.label,
          classes: s.classes.slice(),
          badge: s.badge,
          selected: this.selected === key,
          rendered: !!icon,
          domColor: sym ? getComputedStyle(sym).borderTopColor : null,
          domLabel: icon ? icon.querySelector(".rc-lbl").textContent : null,
          domClasses: icon ? Array.from(icon.querySelector(".rc-m").classList) : null,
        });
      }
      return out;
    }
  }

  window.RcMap = {
    attach: function (map, opts, control) {
      window.rcMap = new RcMap(map, opts, control);
      return window.rcMap;
    },
  };
})();
