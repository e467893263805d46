"""The configuration file: one versioned TOML file, defaults for everything, clear refusals.

The commented default file shipped in ``console.resources`` (``default-config.toml``) is the one
source of the default values: a site's file is laid over it key by key, so a key missing from
the site's file keeps its default. Every value is checked before anything starts; a bad one is
refused with a :class:`ConfigError` that names the key, the value and what is allowed.

Qt-free on purpose: the headless sync service reads the same file.
"""

from __future__ import annotations

import importlib.resources
import json
import logging
import math
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import platformdirs

from console.domain.checkin import (
    LADDER_ACTIONS,
    SETTINGS,
    CheckinPolicy,
    CheckinRule,
    LadderStep,
)
from console.domain.destinations import DestinationError, DestinationSet, parse_destinations
from console.domain.followup import FollowUpPolicy
from console.domain.model import CallType, Disposition
from console.domain.program import Outcome
from console.domain.rules import RecommendationFactors, ServiceHours, Thresholds
from console.files import private_dir
from console.wire.limits import FeedLimits
from console.wire.registry import (
    SITE_CODE_KINDS,
    SiteCodes,
    install_site_codes,
    site_code_targets,
)

log = logging.getLogger(__name__)

APP_NAME = "responder-console"
CONFIG_VERSION = 1
"""Layout version this program writes and understands; older files are migrated."""
CONFIG_FILENAME = "config.toml"
DB_ENV = "RESPONDER_CONSOLE_DB"
"""Environment variable that overrides ``database.url`` (``--db`` overrides both)."""
DEFAULT_CONFIG_RESOURCE = "default-config.toml"
ROSTER_RESOURCE = "roster.toml"
SAMPLE_DESTINATIONS_RESOURCE = "sample-destinations-hartford.toml"
"""The demo's destinations: Hartford's hospitals plus fictional shelters and clinics."""
DEFAULT_OPERATORS_FILE = Path("/etc/responder-console/operators.toml")
SIGNING_KEY_FILENAME = "shift-signing.key"
THEMES = ("dark", "light")
INTERVALS = (
    "received_to_dispatched",
    "dispatched_to_enroute",
    "enroute_to_onscene",
    "received_to_onscene",
    "onscene_to_cleared",
)
"""Response intervals of ``report --json`` a target may be set for."""


class ConfigError(ValueError):
    """A configuration file or value the program cannot use; the message says which and why."""


# -- where things live -------------------------------------------------------------------------


def user_config_file() -> Path:
    """The per-user config file (it may not exist yet)."""
    return Path(platformdirs.user_config_dir(APP_NAME)) / CONFIG_FILENAME


def user_data_dir() -> Path:
    """The per-user data folder: default database, logs."""
    return Path(platformdirs.user_data_dir(APP_NAME))


def default_database_url(data_dir: Path | None = None) -> str:
    path = (data_dir or user_data_dir()) / "console.sqlite"
    return f"sqlite:///{path.as_posix()}"


def _checkout_resources() -> Path | None:
    """``resources/`` beside this ``console`` package when running from a source checkout.

    Preferred over ``console.resources`` as installed: an editable install of another
    checkout must not hand this code that checkout's resources."""
    d = Path(__file__).resolve().parents[1] / "resources"
    return d if (d / "__init__.py").is_file() and (d / DEFAULT_CONFIG_RESOURCE).is_file() else None


def resource_path(name: str) -> Path:
    """A file shipped in ``console.resources``, from an installed package or a source checkout."""
    checkout = _checkout_resources()
    if checkout is not None:
        return checkout / name
    try:
        base = importlib.resources.files("console.resources")
        candidate = Path(str(base / name))
        if candidate.exists():
            return candidate
    except ModuleNotFoundError:
        pass
    # Running from a source tree that is not installed: resources/ sits beside console/.
    return Path(__file__).resolve().parents[1] / "resources" / name


def default_config_text() -> str:
    """The commented default configuration file."""
    path = resource_path(DEFAULT_CONFIG_RESOURCE)
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        raise ConfigError(
            f"the built-in default configuration ({DEFAULT_CONFIG_RESOURCE}) is missing from "
            f"this installation (looked in {path.parent}); reinstall Responder Console"
        ) from None


def redact_url(url: str) -> str:
    """``url`` with any password replaced by ``***``: safe to log or show."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return re.sub(r"(//[^/@:]*:)[^/@]*@", r"\1***@", url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = f"{user}:***@{host}"
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is not None:
        netloc += f":{port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


# -- the configuration objects -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Overlay:
    name: str
    path: Path


BASEMAP_KINDS = ("pack", "tiles", "mbtiles", "geojson", "none")
DEMO_BASEMAP = "demo"
"""``map.basemap`` value for the Hartford pack shipped with the program."""


@dataclass(frozen=True, slots=True)
class Basemap:
    """What the map draws under the teams and calls (``map.basemap``)."""

    kind: str
    """``pack`` (the shipped demo pack), ``tiles`` (a tile server), ``mbtiles`` (a tile file),
    ``geojson`` (a site's own vector file) or ``none``."""
    source: str = ""
    """Pack name, URL template or file path."""
    key: str = "map.basemap"
    """The setting it came from, for error messages."""


@dataclass(frozen=True, slots=True)
class MapConfig:
    basemap: Basemap
    tile_attribution: str
    center: tuple[float, float]
    zoom: int
    overlays: tuple[Overlay, ...] = ()

    @property
    def tile_url(self) -> str:
        """The tile URL template when the basemap is a tile server, else ``""``."""
        return self.basemap.source if self.basemap.kind == "tiles" else ""


@dataclass(frozen=True, slots=True)
class DispatchLink:
    """How the dispatch link is secured and timed ([dispatch] besides ``url``)."""

    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    allow_unencrypted: bool = False
    subscribe_timeout_s: float = 10.0
    silence_timeout_s: float | None = None
    retrieval_url: str | None = None
    """The EIDO retrieval service (NENA Incident Data API) asked for open calls a reconnect
    did not re-send; None: such calls are only marked "not confirmed since"."""


@dataclass(frozen=True, slots=True)
class Config:
    """Everything the program reads from its configuration, checked and typed."""

    database_url: str
    dispatch_url: str
    thresholds: Thresholds
    link_stale_s: float
    map: MapConfig
    roster_path: Path
    recommendation: RecommendationFactors
    mobile_crisis_hours: ServiceHours
    theme: str
    targets: Mapping[str, float]
    max_write_failures: int = 5
    """Failed database writes in a row after which the sync service stops (exit 1)."""
    feed_limits: FeedLimits = field(default_factory=FeedLimits)
    """What dispatch may send (``[dispatch]`` max_depth, max_frame_bytes, ...)."""
    source: Path | None = None
    """The file read (None: built-in defaults only)."""
    database_url_from: str = "default"
    """Where ``database_url`` came from: ``default``, ``config`` or the environment variable."""
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)
    dispatch: DispatchLink = field(default_factory=DispatchLink)
    """TLS files and timeouts of the dispatch link."""
    """The merged TOML document (current layout), e.g. for a settings dialog."""
    operators_file: Path = DEFAULT_OPERATORS_FILE
    """Who may act on a one-seat (SQLite) console: ``[operators] name = "role"``, owned by the
    site's administrator (console.store.identity)."""
    signing_key_file: Path | None = None
    """The key exported shift files are signed with (None: ``shift-signing.key`` in the user
    data folder)."""
    deidentify_k: int = 5
    """``security.deidentify_k``: the fewest calls any location of a de-identified shift file
    stands for (console.replay.deidentify)."""
    program_hours: ServiceHours = field(default_factory=ServiceHours)
    """When the program's civilian teams take calls (``[program_hours]``; around the clock
    without it): a call received outside them went unserved for that reason, and gets a
    follow-up."""
    codes: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """``[codes]``: the site's own CAD codes per kind -> the console's words."""
    default_priority: int = 2
    """``[dispatch] default_priority``: the priority of a call dispatch gave none."""
    destinations: DestinationSet = field(default_factory=DestinationSet)
    """``[destinations]``: the site's destinations (from its file) and their limits."""
    followup: FollowUpPolicy = field(default_factory=FollowUpPolicy)
    """``[followup]`` and ``[program_hours]``: when a call gets a follow-up, its owner and due."""
    alarm_repeat_s: float = 60.0
    """``[ui] alarm_repeat_s``: an unacknowledged critical alert sounds again this often
    (0: once only)."""
    scheduled_teams: int = 0
    """``[program] scheduled_teams``: teams the program schedules in each of its hours
    (``[program_hours]``); 0: not stated, the monthly report shows no scheduled team-hours."""

    @property
    def database_url_redacted(self) -> str:
        return redact_url(self.database_url)


# -- checking values ---------------------------------------------------------------------------


def _show(value: object) -> str:
    """A value as it would be written in the file."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return repr(value)


def _refuse(key: str, value: object, expected: str, *, shown: str | None = None) -> ConfigError:
    return ConfigError(
        f"{key}: {shown if shown is not None else _show(value)} is not allowed (expected {expected})"
    )


def _table(value: object, key: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _refuse(key, value, "a table")
    return value


def _check_keys(table: Mapping[str, Any], key: str, known: tuple[str, ...]) -> None:
    for k in table:
        if k not in known:
            where = f"{key}.{k}" if key else k
            raise ConfigError(f"{where}: unknown key (known keys here: {', '.join(known)})")


def _number(
    value: object,
    key: str,
    *,
    what: str = "a number of seconds",
    gt: float | None = None,
    ge: float | None = None,
    le: float | None = None,
) -> float:
    bounds = []
    if gt is not None:
        bounds.append(f"> {gt:g}")
    if ge is not None:
        bounds.append(f">= {ge:g}")
    if le is not None:
        bounds.append(f"<= {le:g}")
    expected = f"{what} {' and '.join(bounds)}".strip()
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _refuse(key, value, expected)
    x = float(value)
    if (
        not math.isfinite(x)
        or (gt is not None and not x > gt)
        or (ge is not None and not x >= ge)
        or (le is not None and not x <= le)
    ):
        raise _refuse(key, value, expected)
    return x


def _string(value: object, key: str, expected: str = "a string") -> str:
    if not isinstance(value, str):
        raise _refuse(key, value, expected)
    return value


_BASEMAP_EXPECTED = (
    '"demo", a tile URL template with {z}, {x} and {y}, a .mbtiles or .geojson file,'
    ' or "" for no basemap'
)


def _basemap(value: object, key: str, base: Path | None) -> Basemap:
    """``map.basemap``: the demo pack, a tile server, an MBTiles file or a GeoJSON file."""
    s = _string(value, key, _BASEMAP_EXPECTED).strip()
    if not s:
        return Basemap("none", "", key)
    if s == DEMO_BASEMAP:
        return Basemap("pack", "hartford", key)
    if "://" in s and not s.lower().startswith("file://"):
        scheme = s.split("://", 1)[0].lower()
        if scheme not in ("http", "https") or not all(ph in s for ph in ("{z}", "{x}", "{y}")):
            raise _refuse(key, s, _BASEMAP_EXPECTED)
        return Basemap("tiles", s, key)
    suffix = Path(s).suffix.lower()
    if suffix == ".mbtiles":
        return Basemap("mbtiles", str(_path(s, key, base, must_exist=True)), key)
    if suffix in (".geojson", ".json"):
        return Basemap("geojson", str(_path(s, key, base, must_exist=True)), key)
    raise _refuse(key, s, _BASEMAP_EXPECTED)


def _describe_basemap(b: Basemap) -> str:
    if b.kind == "none":
        return "(no basemap)"
    if b.kind == "pack":
        return f"{DEMO_BASEMAP} (offline {b.source} pack)"
    if b.kind == "tiles":
        return b.source
    return f"{b.source} ({b.kind})"


def _url(value: object, key: str, schemes: tuple[str, ...], *, secret: bool = False) -> str:
    expected = f"a URL starting with {' or '.join(s + '://' for s in schemes)}"
    s = _string(value, key, expected)
    shown = _show(redact_url(s)) if secret else None
    try:
        parts = urlsplit(s)
    except ValueError:
        raise _refuse(key, s, expected, shown=shown) from None
    base = parts.scheme.split("+", 1)[0].lower()
    if base not in schemes or "://" not in s:
        raise _refuse(key, s, expected, shown=shown)
    if base in ("ws", "wss", "http", "https") and not parts.hostname:
        raise _refuse(key, s, expected + " and a host", shown=shown)
    if base in ("ws", "wss", "http", "https"):
        try:
            parts.port  # noqa: B018 - raises on a bad port
        except ValueError:
            raise _refuse(
                key, s, expected + " with a port between 0 and 65535", shown=shown
            ) from None
    if base == "sqlite" and not s.startswith(parts.scheme + ":///") and s != parts.scheme + "://":
        raise _refuse(key, s, "an SQLite URL like sqlite:////path/to/console.sqlite", shown=shown)
    return s


def _hhmm(value: object, key: str, *, end: bool = False) -> time:
    expected = 'a time "HH:MM" (24-hour clock' + (', "24:00" for midnight)' if end else ")")
    s = _string(value, key, expected)
    m = re.fullmatch(r"(\d{1,2}):(\d{2})", s.strip())
    if not m:
        raise _refuse(key, s, expected)
    h, mi = int(m.group(1)), int(m.group(2))
    if end and (h, mi) == (24, 0):
        return time(23, 59, 59)
    if h > 23 or mi > 59:
        raise _refuse(key, s, expected)
    return time(h, mi)


def _path(value: object, key: str, base: Path | None, *, must_exist: bool) -> Path:
    s = _string(value, key, "a file path")
    if not s.strip():
        raise _refuse(key, s, "a file path")
    p = Path(s).expanduser()
    if not p.is_absolute() and base is not None:
        p = base / p
    if must_exist and not p.is_file():
        raise ConfigError(f"{key}: {_show(s)} is not allowed (no such file: {p})")
    return p


# -- versions ------------------------------------------------------------------------------------


DISPATCH_LIMIT_KEYS = ("max_depth", "max_frame_bytes", "max_document_bytes", "clock_skew_s")


def _feed_limits(disp: Mapping[str, Any]) -> FeedLimits:
    base = FeedLimits()

    def count(key: str, default: int, lo: int, hi: int, what: str) -> int:
        v = disp.get(key, default)
        x = _number(v, f"dispatch.{key}", what=what, ge=lo, le=hi)
        if x != int(x):
            raise _refuse(f"dispatch.{key}", v, f"{what} (a whole number)")
        return int(x)

    frame = count("max_frame_bytes", base.max_frame_bytes, 4096, 2**30, "a number of bytes")
    document = count(
        "max_document_bytes", base.max_document_bytes, 1024, frame, "a number of bytes"
    )
    return FeedLimits(
        max_depth=count("max_depth", base.max_depth, 16, 500, "a nesting depth"),
        max_frame_bytes=frame,
        max_document_bytes=document,
        clock_skew_s=_number(
            disp.get("clock_skew_s", base.clock_skew_s), "dispatch.clock_skew_s", ge=0
        ),
    )


def _migrate_0_to_1(doc: dict[str, Any]) -> dict[str, Any]:
    """Layout 0 kept pending limits as flat keys ``thresholds.pending_p1_s`` .. ``_p3_s``."""
    th = doc.get("thresholds")
    if isinstance(th, dict):
        moved = {}
        for p in ("1", "2", "3"):
            old = f"pending_p{p}_s"
            if old in th:
                moved[p] = th.pop(old)
        if moved:
            pending = th.setdefault("pending_s", {})
            if isinstance(pending, dict):
                for p, v in moved.items():
                    pending.setdefault(p, v)
    doc["config_version"] = 1
    return doc


_MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {0: _migrate_0_to_1}
"""``version -> function`` turning a document of that layout into the next one."""


def _migrate(doc: dict[str, Any], where: str) -> dict[str, Any]:
    version = doc.get("config_version", CONFIG_VERSION)
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        raise _refuse("config_version", version, f"a whole number from 0 to {CONFIG_VERSION}")
    if version > CONFIG_VERSION:
        raise ConfigError(
            f"{where} has config_version = {version}, newer than this program understands "
            f"(up to {CONFIG_VERSION}); use a newer Responder Console or a file written for "
            "this version"
        )
    if version < CONFIG_VERSION:
        log.info("migrating configuration %s from layout %d to %d", where, version, CONFIG_VERSION)
    while version < CONFIG_VERSION:
        doc = _MIGRATIONS[version](doc)
        version += 1
    doc["config_version"] = CONFIG_VERSION
    return doc


def _merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """``over`` laid over ``base``: tables merge key by key, anything else is replaced."""
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v)
        else:
            out[k] = v
    return out


# -- building the Config -------------------------------------------------------------------------

_TOP = (
    "config_version",
    "database",
    "dispatch",
    "thresholds",
    "map",
    "roster",
    "recommendation",
    "escalation",
    "ui",
    "targets",
    "program",
    "security",
    "codes",
    "destinations",
    "program_hours",
    "followup",
    "checkin",
    "teams",
)


def _build(
    doc: dict[str, Any], source: Path | None, env: Mapping[str, str], data_dir: Path | None
) -> Config:
    _check_keys(doc, "", _TOP)
    base = source.parent if source is not None else None

    db = _table(doc.get("database", {}), "database")
    _check_keys(db, "database", ("url",))
    db_schemes = ("sqlite", "postgresql")
    if env.get(DB_ENV, "").strip():
        db_url = _url(env[DB_ENV].strip(), f"{DB_ENV} (environment)", db_schemes, secret=True)
        db_from = DB_ENV
    elif "url" in db:
        db_url = _url(db["url"], "database.url", db_schemes, secret=True)
        db_from = "config"
    else:
        db_url, db_from = default_database_url(data_dir), "default"

    disp = _table(doc.get("dispatch", {}), "dispatch")
    _check_keys(
        disp,
        "dispatch",
        (
            "url",
            "ca_file",
            "cert_file",
            "key_file",
            "allow_unencrypted",
            "subscribe_timeout_s",
            "silence_timeout_s",
            "max_write_failures",
            "retrieval_url",
            *DISPATCH_LIMIT_KEYS,
            "default_priority",
        ),
    )
    dispatch_url = _url(disp.get("url"), "dispatch.url", ("ws", "wss"))
    tls_files = {
        k: _path(disp[k], f"dispatch.{k}", base, must_exist=True)
        for k in ("ca_file", "cert_file", "key_file")
        if k in disp
    }
    unencrypted = disp.get("allow_unencrypted", False)
    if not isinstance(unencrypted, bool):
        raise _refuse("dispatch.allow_unencrypted", unencrypted, "true or false")
    silence = disp.get("silence_timeout_s")
    retrieval = disp.get("retrieval_url")
    link = DispatchLink(
        **tls_files,
        retrieval_url=None
        if retrieval is None
        else _url(retrieval, "dispatch.retrieval_url", ("http", "https")),
        allow_unencrypted=unencrypted,
        subscribe_timeout_s=_number(
            disp.get("subscribe_timeout_s", 10.0), "dispatch.subscribe_timeout_s", gt=0, le=600
        ),
        silence_timeout_s=None
        if silence is None
        else _number(silence, "dispatch.silence_timeout_s", gt=0, le=86400),
    )
    max_write_failures = _number(
        disp.get("max_write_failures", 5),
        "dispatch.max_write_failures",
        what="a whole number of attempts",
        ge=1,
        le=1_000_000,
    )
    if max_write_failures != int(max_write_failures):
        raise _refuse(
            "dispatch.max_write_failures", max_write_failures, "a whole number of attempts >= 1"
        )
    feed_limits = _feed_limits(disp)
    default_priority = disp.get("default_priority", 2)
    if isinstance(default_priority, bool) or default_priority not in (1, 2, 3):
        raise _refuse("dispatch.default_priority", default_priority, "1, 2 or 3")

    th = _table(doc.get("thresholds", {}), "thresholds")
    _check_keys(
        th,
        "thresholds",
        (
            "pending_s",
            "pending_by_type_s",
            "checkin_interval_s",
            "position_stale_s",
            "link_stale_s",
        ),
    )
    pend = _table(th.get("pending_s", {}), "thresholds.pending_s")
    _check_keys(pend, "thresholds.pending_s", ("1", "2", "3"))
    pending = {
        int(p): _number(v, f"thresholds.pending_s.{p}", gt=0) for p, v in sorted(pend.items())
    }
    by_type_raw = _table(th.get("pending_by_type_s", {}), "thresholds.pending_by_type_s")
    _check_keys(by_type_raw, "thresholds.pending_by_type_s", tuple(t.value for t in CallType))
    by_type = {
        t: _number(v, f"thresholds.pending_by_type_s.{t}", gt=0) for t, v in by_type_raw.items()
    }
    thresholds = Thresholds(
        pending_s=pending,
        pending_by_type_s=by_type,
        checkin_interval_s=_number(
            th.get("checkin_interval_s"), "thresholds.checkin_interval_s", gt=0
        ),
        position_stale_s=_number(th.get("position_stale_s"), "thresholds.position_stale_s", gt=0),
        checkin=_checkin_policy(doc),
    )
    link_stale_s = _number(th.get("link_stale_s"), "thresholds.link_stale_s", gt=0)

    mp = _table(doc.get("map", {}), "map")
    _check_keys(
        mp, "map", ("basemap", "tile_url", "tile_attribution", "center", "zoom", "overlays")
    )
    if "basemap" in mp and "tile_url" in mp:
        raise ConfigError(
            "map.tile_url: give map.basemap or its older spelling map.tile_url, not both"
        )
    bkey = "map.basemap" if "basemap" in mp else "map.tile_url"
    basemap = _basemap(mp.get("basemap", mp.get("tile_url", "")), bkey, base)
    center = mp.get("center")
    if not isinstance(center, list) or len(center) != 2:
        raise _refuse("map.center", center, "[latitude, longitude]")
    lat = _number(center[0], "map.center[0]", what="a latitude", ge=-90, le=90)
    lon = _number(center[1], "map.center[1]", what="a longitude", ge=-180, le=180)
    zoom = mp.get("zoom")
    if isinstance(zoom, bool) or not isinstance(zoom, int) or not 1 <= zoom <= 19:
        raise _refuse("map.zoom", zoom, "a whole number from 1 to 19")
    overlays_raw = mp.get("overlays", [])
    if not isinstance(overlays_raw, list):
        raise _refuse("map.overlays", overlays_raw, "a list of {name, path} tables")
    overlays: list[Overlay] = []
    for i, item in enumerate(overlays_raw):
        k = f"map.overlays[{i}]"
        item = _table(item, k)
        _check_keys(item, k, ("name", "path"))
        name = _string(item.get("name"), f"{k}.name", "a non-empty name")
        if not name.strip():
            raise _refuse(f"{k}.name", name, "a non-empty name")
        overlays.append(Overlay(name, _path(item.get("path"), f"{k}.path", base, must_exist=True)))
    map_cfg = MapConfig(
        basemap=basemap,
        tile_attribution=_string(mp.get("tile_attribution", ""), "map.tile_attribution"),
        center=(lat, lon),
        zoom=zoom,
        overlays=tuple(overlays),
    )

    ro = _table(doc.get("roster", {}), "roster")
    _check_keys(ro, "roster", ("path",))
    if "path" in ro:
        roster_path = _path(ro["path"], "roster.path", base, must_exist=True)
    else:
        roster_path = resource_path(ROSTER_RESOURCE)

    rec = _table(doc.get("recommendation", {}), "recommendation")
    _check_keys(rec, "recommendation", ("circuity", "speed_kmh", "workload_tiebreak_s"))
    recommendation = RecommendationFactors(
        circuity=_number(
            rec.get("circuity"), "recommendation.circuity", what="a factor", ge=1, le=5
        ),
        speed_kmh=_number(
            rec.get("speed_kmh"), "recommendation.speed_kmh", what="a speed in km/h", gt=0, le=200
        ),
        workload_tiebreak_s=_number(
            rec.get("workload_tiebreak_s"), "recommendation.workload_tiebreak_s", ge=0
        ),
    )

    esc = _table(doc.get("escalation", {}), "escalation")
    _check_keys(esc, "escalation", ("mobile_crisis",))
    mc = _table(esc.get("mobile_crisis", {}), "escalation.mobile_crisis")
    _check_keys(mc, "escalation.mobile_crisis", ("start", "end"))
    hours = ServiceHours(
        start=_hhmm(mc.get("start"), "escalation.mobile_crisis.start"),
        end=_hhmm(mc.get("end"), "escalation.mobile_crisis.end", end=True),
    )

    ui = _table(doc.get("ui", {}), "ui")
    _check_keys(ui, "ui", ("theme", "alarm_repeat_s"))
    theme = ui.get("theme")
    if theme not in THEMES:
        raise _refuse("ui.theme", theme, " or ".join(f'"{t}"' for t in THEMES))
    alarm_repeat_s = _number(ui.get("alarm_repeat_s", 60), "ui.alarm_repeat_s", ge=0)

    tg = _table(doc.get("targets", {}), "targets")
    _check_keys(tg, "targets", INTERVALS)
    targets = {k: _number(v, f"targets.{k}", gt=0) for k, v in tg.items()}

    pg = _table(doc.get("program", {}), "program")
    _check_keys(pg, "program", ("scheduled_teams",))
    scheduled_teams = _number(
        pg.get("scheduled_teams", 0), "program.scheduled_teams", what="a number of teams", ge=0
    )
    if scheduled_teams != int(scheduled_teams):
        raise _refuse("program.scheduled_teams", pg.get("scheduled_teams"), "a whole number")

    sec = _table(doc.get("security", {}), "security")
    _check_keys(sec, "security", ("operators_file", "signing_key_file", "deidentify_k"))
    deidentify_k = _number(
        sec.get("deidentify_k", 5), "security.deidentify_k", what="a whole number of calls", ge=1
    )
    if deidentify_k != int(deidentify_k):
        raise _refuse("security.deidentify_k", deidentify_k, "a whole number of calls >= 1")
    operators_file = (
        _path(sec["operators_file"], "security.operators_file", base, must_exist=False)
        if "operators_file" in sec
        else DEFAULT_OPERATORS_FILE
    )
    signing_key_file = (
        _path(sec["signing_key_file"], "security.signing_key_file", base, must_exist=False)
        if "signing_key_file" in sec
        else None
    )
    codes = _codes(_table(doc.get("codes", {}), "codes"), base)
    destinations = _destinations(_table(doc.get("destinations", {}), "destinations"), base)
    followup = _followup_policy(doc)
    program_hours = followup.program_hours or ServiceHours()

    return Config(
        database_url=db_url,
        dispatch_url=dispatch_url,
        dispatch=link,
        feed_limits=feed_limits,
        thresholds=thresholds,
        link_stale_s=link_stale_s,
        map=map_cfg,
        roster_path=roster_path,
        recommendation=recommendation,
        mobile_crisis_hours=hours,
        program_hours=program_hours,
        theme=str(theme),
        targets=targets,
        max_write_failures=int(max_write_failures),
        source=source,
        database_url_from=db_from,
        raw=doc,
        operators_file=operators_file,
        signing_key_file=signing_key_file,
        deidentify_k=int(deidentify_k),
        codes=codes,
        default_priority=int(default_priority),
        destinations=destinations,
        followup=followup,
        alarm_repeat_s=alarm_repeat_s,
        scheduled_teams=int(scheduled_teams),
    )


def _strings(value: object, key: str, allowed: tuple[str, ...] | None = None) -> frozenset[str]:
    what = "a list of strings" + (f" from {', '.join(allowed)}" if allowed else "")
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _refuse(key, value, what)
    if allowed is not None:
        for v in value:
            if v not in allowed:
                raise _refuse(key, v, what)
    return frozenset(value)


FOLLOWUP_CAUSES = (
    *(d.value for d in Disposition),
    *(o.value for o in Outcome),
    "outside_hours",
    "unserved",
    "manual",
)
"""What a follow-up's due time may be set for (``followup.due_by_cause_h``)."""


def _followup_policy(doc: Mapping[str, Any]) -> FollowUpPolicy:
    ph = _table(doc.get("program_hours", {}), "program_hours")
    _check_keys(ph, "program_hours", ("start", "end"))
    hours = None
    if ph:
        hours = ServiceHours(
            start=_hhmm(ph.get("start", "00:00"), "program_hours.start"),
            end=_hhmm(ph.get("end", "24:00"), "program_hours.end", end=True),
        )
    fu = _table(doc.get("followup", {}), "followup")
    _check_keys(
        fu,
        "followup",
        (
            "open_automatically",
            "due_h",
            "default_owner",
            "dispositions",
            "outcomes",
            "due_by_cause_h",
        ),
    )
    automatic = fu.get("open_automatically", True)
    if not isinstance(automatic, bool):
        raise _refuse("followup.open_automatically", automatic, "true or false")
    due = _number(fu.get("due_h", 48), "followup.due_h", what="hours", gt=0, le=24 * 90)
    owner = _string(fu.get("default_owner", "program"), "followup.default_owner")
    if not owner.strip():
        raise _refuse("followup.default_owner", owner, "a non-empty owner (agency or team)")
    by_cause_raw = _table(fu.get("due_by_cause_h", {}), "followup.due_by_cause_h")
    _check_keys(by_cause_raw, "followup.due_by_cause_h", FOLLOWUP_CAUSES)
    by_cause = {
        k: timedelta(
            hours=_number(v, f"followup.due_by_cause_h.{k}", what="hours", gt=0, le=24 * 90)
        )
        for k, v in by_cause_raw.items()
    }
    policy = FollowUpPolicy(
        due=timedelta(hours=due),
        due_by_cause=by_cause,
        default_owner=owner.strip(),
        program_hours=hours,
        automatic=automatic,
    )
    if "dispositions" in fu:
        ds = _strings(
            fu["dispositions"], "followup.dispositions", tuple(d.value for d in Disposition)
        )
        policy = replace(policy, dispositions=ds)
    if "outcomes" in fu:
        os_ = _strings(fu["outcomes"], "followup.outcomes", tuple(o.value for o in Outcome))
        policy = replace(policy, outcomes=frozenset(Outcome(o) for o in os_))
    return policy


def _opt_bool(value: object, key: str) -> bool | None:
    if value is None:
        return None
    if not isinstance(value, bool):
        raise _refuse(key, value, "true or false")
    return value


def _whole(value: object, key: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise _refuse(key, value, f"a whole number from {lo} to {hi}")
    return value


def _checkin_policy(doc: Mapping[str, Any]) -> CheckinPolicy:
    ck = _table(doc.get("checkin", {}), "checkin")
    _check_keys(
        ck,
        "checkin",
        (
            "night_start",
            "night_end",
            "private_location_types",
            "public_location_types",
            "default_team_size",
            "rule",
            "ladder",
        ),
    )
    rules_raw = ck.get("rule", [])
    if not isinstance(rules_raw, list):
        raise _refuse("checkin.rule", rules_raw, "a list of [[checkin.rule]] tables")
    rules: list[CheckinRule] = []
    for i, item in enumerate(rules_raw):
        k = f"checkin.rule[{i}]"
        item = _table(item, k)
        _check_keys(
            item,
            k,
            ("name", "interval_s", "call_types", "setting", "night", "max_team_size", "caution"),
        )
        setting = item.get("setting", "")
        if setting not in ("", *SETTINGS):
            raise _refuse(f"{k}.setting", setting, '"private" or "public"')
        rules.append(
            CheckinRule(
                interval_s=_number(item.get("interval_s"), f"{k}.interval_s", gt=0, le=86400),
                name=_string(item.get("name", ""), f"{k}.name"),
                call_types=_strings(
                    item.get("call_types", []),
                    f"{k}.call_types",
                    tuple(t.value for t in CallType),
                ),
                setting=str(setting),
                night=_opt_bool(item.get("night"), f"{k}.night"),
                max_team_size=None
                if "max_team_size" not in item
                else _whole(item["max_team_size"], f"{k}.max_team_size", 1, 20),
                caution=_opt_bool(item.get("caution"), f"{k}.caution"),
            )
        )
    ladder_raw = ck.get("ladder", [])
    if not isinstance(ladder_raw, list):
        raise _refuse("checkin.ladder", ladder_raw, "a list of [[checkin.ladder]] tables")
    ladder: list[LadderStep] = []
    for i, item in enumerate(ladder_raw):
        k = f"checkin.ladder[{i}]"
        item = _table(item, k)
        _check_keys(item, k, ("after_s", "action"))
        action = item.get("action")
        if action not in LADDER_ACTIONS:
            raise _refuse(f"{k}.action", action, " or ".join(f'"{a}"' for a in LADDER_ACTIONS))
        after = _number(item.get("after_s", 0), f"{k}.after_s", ge=0, le=86400)
        if ladder and after < ladder[-1].after_s:
            raise _refuse(
                f"{k}.after_s", after, f"at least the step before ({ladder[-1].after_s:g})"
            )
        ladder.append(LadderStep(after, str(action)))
    teams = _table(doc.get("teams", {}), "teams")
    sizes: dict[str, int] = {}
    contacts: dict[str, str] = {}
    for tid, entry in teams.items():
        k = f"teams.{tid}"
        entry = _table(entry, k)
        _check_keys(entry, k, ("size", "contact"))
        if "size" in entry:
            sizes[tid] = _whole(entry["size"], f"{k}.size", 1, 20)
        if "contact" in entry:
            contacts[tid] = _string(entry["contact"], f"{k}.contact").strip()
    return CheckinPolicy(
        rules=tuple(rules),
        night_start=_hhmm(ck.get("night_start", "22:00"), "checkin.night_start"),
        night_end=_hhmm(ck.get("night_end", "06:00"), "checkin.night_end"),
        private_location_types=_strings(
            ck.get("private_location_types", []), "checkin.private_location_types"
        ),
        public_location_types=_strings(
            ck.get("public_location_types", []), "checkin.public_location_types"
        ),
        team_sizes=sizes,
        default_team_size=_whole(
            ck.get("default_team_size", 2), "checkin.default_team_size", 1, 20
        ),
        contacts=contacts,
        ladder=tuple(ladder),
    )


def _destinations(table: Mapping[str, Any], base: Path | None) -> DestinationSet:
    _check_keys(table, "destinations", ("file", "capacity_stale_s", "wait_alert_s"))
    stale = _number(table.get("capacity_stale_s", 14400), "destinations.capacity_stale_s", gt=0)
    wait = _number(table.get("wait_alert_s", 2700), "destinations.wait_alert_s", gt=0)
    name = _string(table.get("file", ""), "destinations.file", "a file path")
    if not name.strip():
        return DestinationSet(capacity_stale_s=stale, wait_alert_s=wait)
    if name.strip() == "sample":
        path = resource_path(SAMPLE_DESTINATIONS_RESOURCE)
    else:
        path = _path(name, "destinations.file", base, must_exist=True)
    return load_destinations(path, capacity_stale_s=stale, wait_alert_s=wait)


def load_destinations(
    path: Path, *, capacity_stale_s: float = 14400.0, wait_alert_s: float = 2700.0
) -> DestinationSet:
    """A site's destinations file (TOML, or JSON when it ends in ``.json``); a bad one raises
    :class:`ConfigError` in one line naming the file, the entry and the key."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"destinations file {path} cannot be read: {e}") from None
    try:
        doc = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as e:
        kind = "JSON" if path.suffix.lower() == ".json" else "TOML"
        raise ConfigError(f"destinations file {path} is not valid {kind}: {e}") from None
    if not isinstance(doc, dict):
        raise ConfigError(f"destinations file {path}: expected a table at the top")
    try:
        return parse_destinations(
            doc, str(path), capacity_stale_s=capacity_stale_s, wait_alert_s=wait_alert_s
        )
    except DestinationError as e:
        raise ConfigError(str(e)) from None


def _code_tables(table: Mapping[str, Any], where: str) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for kind, sub in table.items():
        key = f"{where}.{kind}" if where else kind
        if kind not in SITE_CODE_KINDS:
            raise ConfigError(
                f"{key}: unknown table (known tables here: {', '.join(SITE_CODE_KINDS)})"
            )
        sub = _table(sub, key)
        allowed = site_code_targets(kind)
        mapping: dict[str, str] = {}
        for code, word in sub.items():
            if not isinstance(word, str) or word not in allowed:
                raise _refuse(f"{key}.{code}", word, "one of " + ", ".join(sorted(allowed)))
            if not code.strip():
                raise ConfigError(f"{key}: an empty code is not allowed")
            mapping[code] = word
        out[kind] = mapping
    return out


def _codes(table: Mapping[str, Any], base: Path | None) -> dict[str, dict[str, str]]:
    """``[codes]``: the site's CAD codes per kind (``[codes.call_type] "PSYCH" = "mental_health"``),
    or ``file = "codes.toml"`` naming a file of the same tables (without the ``codes.`` prefix).
    Tables given in the configuration file itself win over the codes file's."""
    tables = {k: v for k, v in table.items() if k != "file"}
    out: dict[str, dict[str, str]] = {}
    if "file" in table:
        path = _path(table["file"], "codes.file", base, must_exist=True)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise ConfigError(f"codes.file: {path} cannot be read ({e})") from None
        try:
            out = _code_tables(_parse(text, str(path)), f"{path}:")
        except ConfigError as e:
            raise ConfigError(f"codes.file {path}: {e}") from None
    for kind, mapping in _code_tables(tables, "codes").items():
        out[kind] = {**out.get(kind, {}), **mapping}
    return out


def site_codes(cfg: Config) -> SiteCodes:
    """The reader's code table of ``cfg`` (already checked when the file was loaded)."""
    return SiteCodes.of({k: dict(v) for k, v in cfg.codes.items()}, cfg.default_priority)


def _parse(text: str, where: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{where} is not valid TOML: {e}") from None


def parse_config(
    text: str,
    *,
    source: Path | None = None,
    env: Mapping[str, str] | None = None,
    data_dir: Path | None = None,
) -> Config:
    """A Config from the text of a configuration file laid over the defaults."""
    where = str(source) if source is not None else "the configuration"
    defaults = _parse(default_config_text(), "the built-in default configuration")
    user = _migrate(_parse(text, where), where)
    umap = user.get("map")
    if isinstance(umap, dict) and "tile_url" in umap and "basemap" not in umap:
        # The older spelling of map.basemap: it replaces the default basemap.
        defaults.get("map", {}).pop("basemap", None)
    return _build(_merge(defaults, user), source, os.environ if env is None else env, data_dir)


def load_config(
    path: Path | None = None,
    *,
    env: Mapping[str, str] | None = None,
    data_dir: Path | None = None,
) -> Config:
    """Read the configuration: ``path`` if given (it must exist), else the user's config file if
    there is one, else the defaults. ``env`` (default: ``os.environ``) may override the database
    URL; ``data_dir`` (default: the user data dir) holds the default SQLite file."""
    if path is None:
        candidate = user_config_file()
        if not candidate.is_file():
            log.info("no configuration file at %s; using defaults", candidate)
            return parse_config("", env=env, data_dir=data_dir)
        path = candidate
    path = Path(path).expanduser()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"configuration file {path} not found") from None
    except IsADirectoryError:
        raise ConfigError(f"configuration file {path} is a folder, not a file") from None
    except UnicodeDecodeError:
        raise ConfigError(f"configuration file {path} is not UTF-8 text") from None
    except OSError as e:
        raise ConfigError(f"configuration file {path} cannot be read: {e.strerror}") from None
    cfg = parse_config(text, source=path.resolve(), env=env, data_dir=data_dir)
    log.info(
        "configuration from %s (database %s from %s)",
        path,
        cfg.database_url_redacted,
        cfg.database_url_from,
    )
    # The dispatch reader of this process uses the site's code table of the file it started with.
    install_site_codes(site_codes(cfg))
    return cfg


def ensure_user_config(config_file: Path | None = None, data_dir: Path | None = None) -> Path:
    """First start: create the data folder and, if absent, write the commented default
    configuration. Returns the config file's path; an existing file is never touched."""
    config_file = config_file or user_config_file()
    private_dir(data_dir or user_data_dir(), tighten=True)
    private_dir(config_file.parent, tighten=True)
    try:
        # Exclusive create: two consoles starting at once never overwrite each other's file.
        # Owner only: the file may come to hold a database password.
        fd = os.open(config_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(default_config_text())
        os.chmod(config_file, 0o600)
        log.info("wrote default configuration to %s", config_file)
    except FileExistsError:
        pass
    return config_file


# -- command line: ``responder-console config`` -------------------------------------------------


def summary(cfg: Config) -> list[str]:
    """What the program will use, one line each (the database password redacted)."""
    th = cfg.thresholds
    pending = ", ".join(f"P{p} {v:g} s" for p, v in sorted(th.pending_s.items()))
    by_type = ", ".join(f"{t} {v:g} s" for t, v in sorted(th.pending_by_type_s.items()))
    hours = cfg.mobile_crisis_hours
    return [
        f"file: {cfg.source or '(none: defaults)'}",
        f"database: {cfg.database_url_redacted} (from {cfg.database_url_from})",
        f"dispatch: {cfg.dispatch_url}",
        f"pending limits: {pending}" + (f"; by type: {by_type}" if by_type else ""),
        f"check-in interval: {th.checkin_interval_s:g} s; position stale after "
        f"{th.position_stale_s:g} s; link stale after {cfg.link_stale_s:g} s",
        f"map: {_describe_basemap(cfg.map.basemap)}; {len(cfg.map.overlays)} overlay(s)",
        f"roster: {cfg.roster_path}",
        f"recommendation: circuity {cfg.recommendation.circuity:g}, "
        f"{cfg.recommendation.speed_kmh:g} km/h, tie within "
        f"{cfg.recommendation.workload_tiebreak_s:g} s",
        f"mobile crisis: {hours.start:%H:%M}-{hours.end:%H:%M}",
        f"check-in policy: {len(th.checkin.rules)} rule(s); missed check-in ladder: "
        + (", ".join(f"{st.label} after {st.after_s:g} s" for st in th.checkin.ladder) or "none"),
        f"follow-ups: opened {'automatically and ' if cfg.followup.automatic else ''}by hand, "
        f"due after {cfg.followup.due.total_seconds() / 3600:g} h by default, "
        f"default owner {cfg.followup.default_owner}",
        "program hours: "
        + (
            f"{cfg.program_hours.start:%H:%M}-{cfg.program_hours.end:%H:%M}"
            if cfg.followup.program_hours is not None
            else "around the clock"
        ),
        "teams scheduled per program hour: "
        + (str(cfg.scheduled_teams) if cfg.scheduled_teams else "not stated"),
        f"theme: {cfg.theme}",
    ]
