"""MapView: the live map widget, a long-lived Leaflet page with a bridge.

The page is built once (folium, written to a private temporary directory and loaded from the
file; ``setHtml`` has a 2 MB limit). Until it reports ready, scripts are queued. Afterwards each
``update_picture`` computes the difference between the markers the page shows and those the
picture needs, and sends it in one ``runJavaScript`` call; the page is never rebuilt. Clicks
come back over a ``QWebChannel`` object. If the renderer process dies, the page is loaded again
and repopulated from the last picture.
"""

from __future__ import annotations

import atexit
import json
import logging
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QBuffer, QByteArray, QFile, QIODevice, QObject, Qt, QUrl, Signal, Slot
from PySide6.QtGui import QColor, QDesktopServices
from PySide6.QtWebChannel import QWebChannel
from PySide6.QtWebEngineCore import (
    QWebEnginePage,
    QWebEngineProfile,
    QWebEngineScript,
    QWebEngineSettings,
    QWebEngineUrlRequestJob,
    QWebEngineUrlScheme,
    QWebEngineUrlSchemeHandler,
)
from PySide6.QtWebEngineWidgets import QWebEngineView
from PySide6.QtWidgets import QWidget

from console.config import Basemap
from console.domain.model import Call, Position, Team
from console.domain.rules import Thresholds
from console.ui.map.env import MBTILES_SCHEME
from console.ui.map.markers import (
    MarkerCache,
    MarkerSpec,
    diff_markers,
    legend_entries,
    marker_key,
    valid_latlon,
)
from console.ui.map.mbtiles import MBTiles
from console.ui.map.page import (
    DARK_BG,
    LIGHT_BG,
    OSM_ATTRIBUTION,
    OSM_TILE_URL,
    BasemapLayer,
    MapConfigError,
    Overlay,
    PageOptions,
    load_geojson_basemap,
    load_overlay,
    load_pack,
    render_page,
    write_page,
)

log = logging.getLogger(__name__)

HARTFORD = (41.7658, -72.6851)
READY_CHECK = (
    'typeof L === "object" && typeof window.rcMap === "object"'
    ' ? String(window.rcMap.token || "") : null'
)


class MapBridge(QObject):
    """The object the page sees as ``rcBridge``: the only way the page talks to Python."""

    marker_clicked = Signal(str, str)
    page_ready = Signal()
    follow_stopped = Signal()

    @Slot(str, str)
    def markerClicked(self, kind: str, ident: str) -> None:  # JS-facing name
        self.marker_clicked.emit(kind, ident)

    @Slot()
    def pageReady(self) -> None:
        self.page_ready.emit()

    @Slot()
    def followStopped(self) -> None:
        self.follow_stopped.emit()


class _MapPage(QWebEnginePage):
    """The map page never navigates away: a link (the tile attribution, say) opens outside."""

    def __init__(self, parent: QObject, open_external: Callable[[QUrl], object]) -> None:
        super().__init__(parent)
        self.home: QUrl | None = None
        self.errors: list[str] = []
        self._open_external = open_external

    def javaScriptConsoleMessage(  # Qt's name
        self,
        level: QWebEnginePage.JavaScriptConsoleMessageLevel,
        message: str,
        line: int,
        source: str,
    ) -> None:
        """The page's console goes to the log; errors are also kept for diagnostics."""
        where = f"{source.rsplit('/', 1)[-1]}:{line}"
        if level == QWebEnginePage.JavaScriptConsoleMessageLevel.ErrorMessageLevel:
            self.errors.append(f"{message} ({where})")
            del self.errors[:-50]
            log.error("map page: %s (%s)", message, where)
        elif level == QWebEnginePage.JavaScriptConsoleMessageLevel.WarningMessageLevel:
            log.warning("map page: %s (%s)", message, where)
        else:
            log.debug("map page: %s (%s)", message, where)

    def acceptNavigationRequest(  # Qt's name
        self, url: QUrl | str, type: QWebEnginePage.NavigationType, isMainFrame: bool
    ) -> bool:
        url = QUrl(url)
        if (
            not isMainFrame
            or self.home is None
            or (url.isLocalFile() and url.toLocalFile() == self.home.toLocalFile())
        ):
            return True
        if type == QWebEnginePage.NavigationType.NavigationTypeLinkClicked and url.scheme() in (
            "http",
            "https",
        ):
            self._open_external(url)
        else:
            log.warning("map: blocked navigation to %s", url.toString())
        return False


class MBTilesHandler(QWebEngineUrlSchemeHandler):
    """Serves ``rcmbtiles://<file id>/{z}/{x}/{y}`` from the MBTiles files views registered:
    the tiles come from the file, no server needed. One per browser profile."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.files: dict[str, MBTiles] = {}
        self.served = 0
        self.missing = 0

    def add(self, tiles: MBTiles) -> str:
        ident = uuid.uuid4().hex[:12]
        self.files[ident] = tiles
        return ident

    def discard(self, ident: str) -> None:
        tiles = self.files.pop(ident, None)
        if tiles is not None:
            tiles.close()

    def requestStarted(self, job: QWebEngineUrlRequestJob) -> None:  # Qt's name
        url = job.requestUrl()
        tiles = self.files.get(url.host())
        parts = url.path().strip("/").split("/")
        data = None
        if tiles is not None and len(parts) == 3:
            try:
                z, x, y = int(parts[0]), int(parts[1]), int(parts[2].split(".", 1)[0])
            except ValueError:
                pass
            else:
                data = tiles.tile(z, x, y)
        if tiles is None or data is None:
            self.missing += 1
            job.fail(QWebEngineUrlRequestJob.Error.UrlNotFound)
            return
        self.served += 1
        buf = QBuffer(job)
        buf.setData(QByteArray(data))
        buf.open(QIODevice.OpenModeFlag.ReadOnly)
        job.reply(QByteArray(tiles.mime.encode()), buf)


def mbtiles_handler(profile: QWebEngineProfile) -> MBTilesHandler:
    """The profile's MBTiles handler, installed on first use."""
    name = QByteArray(MBTILES_SCHEME.encode())
    handler = profile.urlSchemeHandler(name)
    if isinstance(handler, MBTilesHandler):
        return handler
    handler = MBTilesHandler(profile)
    profile.installUrlSchemeHandler(name, handler)
    return handler


def _qwebchannel_js() -> str:
    f = QFile(":/qtwebchannel/qwebchannel.js")
    if not f.open(QIODevice.OpenModeFlag.ReadOnly):
        raise RuntimeError("qwebchannel.js is missing from the Qt resources")
    try:
        return bytes(f.readAll().data()).decode("utf-8")
    finally:
        f.close()


class MapView(QWebEngineView):
    """Live map of teams and open calls. See the module docstring for how it updates."""

    ready = Signal()
    call_clicked = Signal(str)
    team_clicked = Signal(str)
    follow_stopped = Signal()
    applied = Signal(int)
    """The page has applied the update with this sequence number."""

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        tile_url: str | None = OSM_TILE_URL,
        tile_attribution: str = OSM_ATTRIBUTION,
        overlays: Iterable[tuple[str, Path]] = (),
        center: tuple[float, float] = HARTFORD,
        zoom: int = 13,
        dark: bool = False,
        basemap: Basemap | None = None,
    ) -> None:
        """``basemap`` (``map.basemap``), when given, replaces ``tile_url``: the shipped pack,
        a site's GeoJSON, a tile server or an MBTiles file. A basemap that cannot be used is
        logged and shown as a one-line notice naming the setting; teams and calls still show."""
        if not valid_latlon(*center):
            raise MapConfigError(f"map center {center!r} is not a (latitude, longitude) pair")
        if not 1 <= zoom <= 19:
            raise MapConfigError(f"map zoom {zoom!r} is outside 1..19")
        super().__init__(parent)
        self._ready = False
        self._bridge_connected = False
        self._queue: list[tuple[str, Callable[[Any], None] | None]] = []
        self._shown: dict[str, MarkerSpec] = {}
        self._wanted: dict[str, MarkerSpec] = {}
        self._picture: (
            tuple[list[Call], list[Team], dict[str, Position], datetime, Thresholds] | None
        ) = None
        self._in_flight = 0
        self._cache = MarkerCache()
        self._seq = 0
        self._selected: str | None = None
        self._following: str | None = None
        self._dark = dark
        self._destinations: list[dict[str, Any]] | None = None
        """The destination layer as last sent (resent to a reloaded page)."""
        self._closing = False
        self._resync = False
        self._token = 0
        self.load_count = 0
        self.last_apply_ms = 0.0
        """Time the page itself spent on the last update (the rest is the round trip)."""

        loaded: list[Overlay] = []
        notices: list[str] = []
        for name, path in overlays:
            try:
                loaded.append(load_overlay(name, Path(path)))
            except MapConfigError as e:
                log.error("%s", e)
                notices.append(str(e))
        self.overlay_errors = list(notices)
        self.open_external: Callable[[QUrl], object] = QDesktopServices.openUrl
        """Opens a link clicked in the map (replaceable, e.g. in tests)."""
        page = _MapPage(self, lambda url: self.open_external(url))
        self.setPage(page)
        # Before the first paint: the dark theme never flashes white while the page loads.
        page.setBackgroundColor(QColor(DARK_BG if dark else LIGHT_BG))

        layers: list[BasemapLayer] = []
        base_attr = ""
        max_native = 19
        self.mbtiles_id: str | None = None
        self.basemap_error: str | None = None
        if basemap is not None:
            tile_url = None
            try:
                if basemap.kind == "pack":
                    layers, base_attr = load_pack(basemap.source, key=basemap.key)
                elif basemap.kind == "geojson":
                    layers = [load_geojson_basemap(Path(basemap.source), key=basemap.key)]
                elif basemap.kind == "tiles":
                    tile_url = basemap.source
                elif basemap.kind == "mbtiles":
                    tiles = MBTiles(Path(basemap.source), key=basemap.key)
                    scheme = QWebEngineUrlScheme.schemeByName(QByteArray(MBTILES_SCHEME.encode()))
                    if scheme.name() != QByteArray(MBTILES_SCHEME.encode()):
                        tiles.close()
                        raise MapConfigError(
                            f"{basemap.key}: MBTiles cannot be shown: the map was not set up "
                            "before the application started (prepare_webengine_env)"
                        )
                    handler = mbtiles_handler(page.profile())
                    ident = handler.add(tiles)
                    self.mbtiles_id = ident
                    self.destroyed.connect(lambda *_: handler.discard(ident))
                    tile_url = f"{MBTILES_SCHEME}://{ident}/{{z}}/{{x}}/{{y}}"
                    tile_attribution = tiles.attribution or tile_attribution
                    max_native = min(19, max(tiles.max_zoom, 1))
            except MapConfigError as e:
                log.error("%s", e)
                self.basemap_error = str(e)
                notices.insert(0, str(e))
        self._options = PageOptions(
            tile_url=tile_url or None,
            tile_attribution=tile_attribution,
            overlays=tuple(loaded),
            center=center,
            zoom=zoom,
            dark=dark,
            notices=tuple(notices),
            basemap=tuple(layers),
            basemap_attribution=base_attr,
            tile_max_zoom=max_native,
            legend=legend_entries(),
            basemap_failed=self.basemap_error is not None,
        )

        # The page is a local file; without this Chromium refuses it every http(s) tile.
        page.settings().setAttribute(
            QWebEngineSettings.WebAttribute.LocalContentCanAccessRemoteUrls, True
        )
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.NoContextMenu)
        self._bridge = MapBridge(self)
        self._bridge.marker_clicked.connect(self._on_marker_clicked)
        self._bridge.page_ready.connect(self._on_bridge_ready)
        self._bridge.follow_stopped.connect(self._on_follow_stopped)
        self._channel = QWebChannel(page)
        self._channel.registerObject("rcBridge", self._bridge)
        page.setWebChannel(self._channel)
        script = QWebEngineScript()
        script.setName("qwebchannel")
        script.setSourceCode(_qwebchannel_js())
        script.setInjectionPoint(QWebEngineScript.InjectionPoint.DocumentCreation)
        script.setWorldId(QWebEngineScript.ScriptWorldId.MainWorld)
        script.setRunsOnSubFrames(False)
        page.scripts().insert(script)

        self.loadStarted.connect(self._on_load_started)
        self.loadFinished.connect(self._on_load_finished)
        page.renderProcessTerminated.connect(self._on_render_terminated)

        self._dir = Path(tempfile.mkdtemp(prefix="rc-map-"))
        # The directory outlives no view; the lambda holds the path, not the view.
        directory = self._dir
        self.destroyed.connect(lambda *_: shutil.rmtree(directory, ignore_errors=True))
        atexit.register(shutil.rmtree, directory, ignore_errors=True)  # if never destroyed
        html, _ = render_page(self._options)
        self.page_path = write_page(self._dir, html)
        page.home = QUrl.fromLocalFile(str(self.page_path))
        self.load(page.home)

    # -- state ------------------------------------------------------------------------------

    @property
    def is_ready(self) -> bool:
        return self._ready

    @property
    def marker_count(self) -> int:
        """Markers sent to the page (teams and calls it shows or is about to)."""
        return len(self._shown)

    @property
    def is_idle(self) -> bool:
        """Ready, with no update in flight or waiting: the page shows the latest picture."""
        return self._ready and not self._in_flight and self._picture is None

    @property
    def bridge_connected(self) -> bool:
        return self._bridge_connected

    @property
    def page_errors(self) -> list[str]:
        """The last JavaScript errors the page reported (newest last)."""
        page = self.page()
        return list(page.errors) if isinstance(page, _MapPage) else []

    @property
    def bridge(self) -> MapBridge:
        return self._bridge

    # -- page lifecycle -----------------------------------------------------------------------

    def _on_load_started(self) -> None:
        self.load_count += 1

    def _on_load_finished(self, ok: bool) -> None:
        # Also fires for a navigation the page refused; the document token tells a fresh
        # document (populate it) from the one already showing the picture (nothing to do).
        self.page().runJavaScript(READY_CHECK, 0, lambda r: self._on_ready_check(ok, r))

    def _on_ready_check(self, ok: bool, result: Any) -> None:
        if not isinstance(result, str):
            # loadFinished(True) also fires when every script failed: Leaflet is the proof.
            self._ready = False
            if ok:
                log.error(
                    "map page loaded without Leaflet (%s); the map stays empty", self.page_path
                )
            else:
                log.error("map page failed to load: %s", self.page_path)
            return
        if self._ready and result == str(self._token):
            return
        self._token += 1
        self._run_now(f"window.rcMap.token = {self._token}", None)
        self._ready = True
        self._shown = {}
        self._resync = False
        self._in_flight = 0
        self._push()
        if self._selected:
            self._queue.insert(0, (f"rcMap.select({json.dumps(self._selected)}, false)", None))
        if self._following:
            self._queue.insert(0, (f"rcMap.follow({json.dumps(self._following)})", None))
        self._queue.insert(0, (f"rcMap.setDark({json.dumps(self._dark)})", None))
        if self._destinations is not None:
            self._queue.insert(0, (self._destinations_js(), None))
        queued, self._queue = self._queue, []
        for js, cb in queued:
            self._run_now(js, cb)
        self.ready.emit()

    def _on_bridge_ready(self) -> None:
        self._bridge_connected = True

    def _on_render_terminated(self, status: Any, code: int) -> None:
        if (
            self._closing
            or status == QWebEnginePage.RenderProcessTerminationStatus.NormalTerminationStatus
        ):
            return
        log.error("map renderer ended (%s, exit code %s); loading the page again", status, code)
        self._ready = False
        self._bridge_connected = False
        self._shown = {}
        self._in_flight = 0
        self.load(QUrl.fromLocalFile(str(self.page_path)))

    # -- scripts --------------------------------------------------------------------------------

    def _run_now(self, js: str, callback: Callable[[Any], None] | None) -> None:
        if callback is None:
            self.page().runJavaScript(js, 0)
        else:
            self.page().runJavaScript(js, 0, callback)

    def run_js(self, js: str, callback: Callable[[Any], None] | None = None) -> None:
        """Run ``js`` in the page now, or as soon as the page is ready (queued in order)."""
        if self._ready:
            self._run_now(js, callback)
        else:
            self._queue.append((js, callback))

    # -- the picture ----------------------------------------------------------------------------

    def update_picture(
        self,
        calls: Iterable[Call],
        teams: Iterable[Team],
        positions: Mapping[str, Position],
        now: datetime,
        thresholds: Thresholds,
    ) -> int:
        """Show this picture; sends only the markers that changed.

        Returns the update's sequence number (``applied`` is emitted with it once the page
        has it), or 0 when nothing was sent now: nothing changed, the page is not ready yet,
        or the previous update is still being applied. In the last two cases the latest
        picture is sent as soon as the page can take it, so a fast feed costs one diff per
        page round trip, not one per event.
        """
        self._picture = (list(calls), list(teams), dict(positions), now, thresholds)
        if not self._ready or self._in_flight:
            return 0
        return self._push()

    def _push(self, force: bool = False) -> int:
        if self._picture is not None:
            self._wanted = self._cache.picture(*self._picture)
            self._picture = None
        if self._resync:
            # The page may hold a partial update: start it over from the whole picture.
            self._resync = False
            self._shown = {}
            self._run_now("rcMap.reset()", None)
        if self._selected is not None and self._selected not in self._wanted:
            # The highlighted marker left the map: the highlight goes with it (as the page
            # drops it), never to another marker, and does not come back by itself.
            self._selected = None
        diff = diff_markers(self._shown, self._wanted)
        if not diff["upsert"] and not diff["remove"] and not force:
            return 0
        self._seq += 1
        seq = self._seq
        diff["seq"] = seq
        self._shown = dict(self._wanted)
        self._in_flight = seq
        payload = json.dumps(diff, separators=(",", ":"), ensure_ascii=False)
        self._run_now(
            f'(r => r.seq + " " + r.ms)(rcMap.apply({payload}))',
            lambda result: self._confirmed(seq, result),
        )
        return seq

    def _confirmed(self, seq: int, result: Any) -> None:
        if seq != self._in_flight:
            return  # an answer from a page that has since been reloaded
        self._in_flight = 0
        got_seq, _, ms = str(result).partition(" ")
        if got_seq == str(seq):
            self.last_apply_ms = float(ms or 0.0)
            self.applied.emit(seq)
        else:
            log.error(
                "map: the page failed to apply update %d (%r); resending it whole next", seq, result
            )
            self._resync = True
        if self._picture is not None and self._ready:
            self._push()

    # -- destinations -----------------------------------------------------------------------------

    def set_destinations(self, items: list[dict[str, Any]]) -> bool:
        """Show the site's destinations (``id``, ``lat``, ``lon``, ``state`` = open /
        closing_soon / closed, ``label``, ``tip`` lines) in their own layer; sent only when
        the list changed, and again to a reloaded page. True when it was sent (or queued)."""
        if items == self._destinations:
            return False
        self._destinations = items
        if self._ready:
            self._run_now(self._destinations_js(), None)
        return True

    def show_destination(self, destination_id: str) -> None:
        """Bring a destination into view, its tooltip open."""
        self.run_js(f"rcMap.showDestination({json.dumps(destination_id)})")

    def _destinations_js(self) -> str:
        payload = json.dumps(self._destinations or [], separators=(",", ":"), ensure_ascii=False)
        return f"rcMap.setDestinations({payload})"

    # -- commands -------------------------------------------------------------------------------

    def select_call(self, call_id: str | None) -> None:
        """Highlight a call (from the queue); does not emit ``call_clicked``."""
        self._select(marker_key("call", call_id) if call_id else None)

    def select_team(self, team_id: str | None) -> None:
        self._select(marker_key("team", team_id) if team_id else None)

    def _select(self, key: str | None) -> None:
        self._selected = key
        self.run_js(f"rcMap.select({json.dumps(key)}, true)")

    def follow_team(self, team_id: str | None) -> None:
        """Keep the team in view as it moves; ``None`` (or dragging the map) stops."""
        self._following = marker_key("team", team_id) if team_id else None
        self.run_js(f"rcMap.follow({json.dumps(self._following)})")

    def fit_all(self) -> None:
        self.run_js("rcMap.fitAll()")

    def zoom_to_call(self, call_id: str) -> None:
        self.run_js(f"rcMap.zoomTo({json.dumps(marker_key('call', call_id))})")

    def set_dark(self, dark: bool) -> None:
        self._dark = dark
        self.page().setBackgroundColor(QColor(DARK_BG if dark else LIGHT_BG))
        self.run_js(f"rcMap.setDark({json.dumps(dark)})")

    # -- from the page --------------------------------------------------------------------------

    def _on_marker_clicked(self, kind: str, ident: str) -> None:
        if kind == "call":
            self._selected = marker_key("call", ident)
            self.call_clicked.emit(ident)
        elif kind == "team":
            self._selected = marker_key("team", ident)
            self.team_clicked.emit(ident)
        else:
            log.warning("map: click on unknown marker kind %r", kind)

    def _on_follow_stopped(self) -> None:
        self._following = None
        self.follow_stopped.emit()

    # -- teardown -------------------------------------------------------------------------------

    def dispose(self) -> None:
        """Close and delete the view now (QtWebEngine wants its page gone before the profile)."""
        from PySide6.QtCore import QCoreApplication, QEvent

        self._closing = True
        self.close()
        self.deleteLater()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
