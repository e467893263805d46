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

  class RcMap {
    constructor(map, opts) {
      this.map = map;
      this.opts = opts || {};
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
          iconCreateFunction: (cluster) => L.divIcon({
            html: el("div", "rc-cluster-box", String(cluster.getChildCount())),
            className: "rc-cluster",
            iconSize: [26, 26],
          }),
        }).addTo(map)
        : this.plain;
      this.tileErrors = 0;
      this.tileLoads = 0;
      this.notices = el("div", "rc-notices");
      map.getContainer().appendChild(this.notices);
      for (const text of this.opts.notices || []) this.addNotice(text);
      this._watchTiles();
      this._legend();
      map.on("dragstart", () => this._stopFollowing());
      map.on("zoomend", () => this._zoomClass());
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

    _legend() {
      const Legend = L.Control.extend({
        onAdd: () => {
          const box = el("div", "rc-legend leaflet-bar");
          const rows = [
            ["rc-lg-team", "", "Team: id, status, time in status"],
            ["rc-lg-call", "P1", "Call: priority, status, age"],
            ["rc-lg-overdue", "!", "OVERDUE: pending too long"],
            ["rc-lg-unsafe", "⚠", "Unsafe: safety flags"],
            ["rc-lg-stale", "?", "Stale position (faded, dashed)"],
            ["rc-lg-link", "", "Team to the call it works"],
          ];
          for (const [cls, sym, text] of rows) {
            const row = el("div", "rc-lg-row");
            row.appendChild(el("span", "rc-lg-sym " + cls, sym));
            row.appendChild(el("span", "rc-lg-text", text));
            box.appendChild(row);
          }
          L.DomEvent.disableClickPropagation(box);
          return box;
        },
      });
      this.legend = new Legend({ position: "bottomleft" }).addTo(this.map);
    }

    addNotice(text) {
      const n = el("div", "rc-notice", text);
      this.notices.appendChild(n);
      return n;
    }

    removeNotice(node) {
      if (node && node.parentNode) node.parentNode.removeChild(node);
      if (node === this._tileNotice) this._tileNotice = null;
    }

    noticeTexts() {
      return Array.from(this.notices.children).map((n) => n.textContent);
    }

    _zoomClass() {
      this.map.getContainer().classList.toggle("rc-zoom-hi", this.map.getZoom() >= 15);
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

    _z(spec) {
      return spec.z + (this.selected === spec.key ? 10000 : 0);
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
        if (old.z !== s.z) m.setZIndexOffset(this._z(s));
        if (!sameList(old.tip, s.tip)) m.setTooltipContent(this._tip(s));
        if (regroup) this._group(s).addLayer(m);
        if (moved && this.following === s.key) this._whenIdle(() => this.map.panTo(m.getLatLng()));
      }
      this._updateLinks();
      // A crowded map keeps only the labels that need a decision (teams, overdue calls) until
      // zoomed in; every marker still has its symbol and its tooltip.
      this.map.getContainer().classList.toggle("rc-dense", this.markers.size > DENSE);
      if (diff.seq) this.applied = diff.seq;
      return { seq: diff.seq || 0, count: this.markers.size, ms: performance.now() - t0 };
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
    attach: function (map, opts) {
      window.rcMap = new RcMap(map, opts);
      return window.rcMap;
    },
  };
})();
