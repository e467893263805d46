"""What each marker on the map looks like, computed from the live picture.

Plain data, no Qt: the view diffs these specs against what the page already shows and sends
only the changes. Ages are rounded to whole minutes so a picture that did not change in
substance produces no traffic between two ticks of the minute.

Colour is never the only signal: every status and condition also shows as label text or a
symbol (``OVERDUE`` and ``!``, ``⚠`` unsafe, ``pos 9m old`` for a stale position).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, TypedDict

from console.domain.model import Call, CallStatus, Position, Team, TeamStatus
from console.domain.rules import Thresholds, is_stale
from console.ui.core.labels import (
    PRIORITY_NOT_GIVEN_TIP,
    call_status_text,
    call_type_text,
    code_lines,
    priority_text,
    short_priority,
    team_status_text,
)

TEAM_STATUS_COLORS: dict[TeamStatus, str] = {
    TeamStatus.AVAILABLE: "#2e7d32",
    TeamStatus.ASSIGNED: "#7b1fa2",
    TeamStatus.EN_ROUTE: "#1565c0",
    TeamStatus.ON_SCENE: "#827717",
    TeamStatus.TRANSPORTING: "#00838f",
    TeamStatus.AT_DESTINATION: "#5d4037",
    TeamStatus.OUT_OF_SERVICE: "#212121",
    TeamStatus.OFF_DUTY: "#9e9e9e",
    TeamStatus.UNKNOWN: "#ad1457",
}

TEAM_STATUS_ABBR: dict[TeamStatus, str] = {
    TeamStatus.AVAILABLE: "AVL",
    TeamStatus.ASSIGNED: "ASG",
    TeamStatus.EN_ROUTE: "ENR",
    TeamStatus.ON_SCENE: "ONS",
    TeamStatus.TRANSPORTING: "TRN",
    TeamStatus.AT_DESTINATION: "DST",
    TeamStatus.OUT_OF_SERVICE: "OOS",
    TeamStatus.OFF_DUTY: "OFF",
    TeamStatus.UNKNOWN: "UNK",
}

PRIORITY_COLORS: dict[int, str] = {1: "#c62828", 2: "#ef6c00", 3: "#546e7a"}
OVERDUE_COLOR = "#d50000"

CALL_STATUS_ABBR: dict[CallStatus, str] = {
    CallStatus.PENDING: "PEND",
    CallStatus.ASSIGNED: "ASG",
    CallStatus.EN_ROUTE: "ENR",
    CallStatus.ON_SCENE: "ONS",
    CallStatus.TRANSPORTING: "TRN",
    CallStatus.CLEARED: "CLR",
    CallStatus.ESCALATED: "ESC",
    CallStatus.CANCELLED: "CAN",
    CallStatus.UNKNOWN: "UNK",
}

# Stacking: what needs attention is drawn on top.
Z_OVERDUE = 4000
Z_UNSAFE = 3000
Z_PENDING = 2000
Z_TEAM = 1000
Z_COVERED = 0


class MarkerSpec(TypedDict):
    """One marker as the page's ``rcMap.apply`` expects it."""

    key: str
    id: str
    kind: str
    lat: float
    lon: float
    color: str
    label: str
    sym: str
    classes: list[str]
    badge: str
    z: int
    cluster: bool
    tip: list[str]
    link: str
    """For a team working a call: that call's marker key (the page draws a line to it)."""


def marker_key(kind: str, ident: str) -> str:
    return f"{kind}:{ident}"


def fmt_minutes(seconds: float) -> str:
    """``7m``, ``1h05``: short enough for a map label."""
    minutes = max(0, int(seconds // 60))
    if minutes < 60:
        return f"{minutes}m"
    return f"{minutes // 60}h{minutes % 60:02d}"


def valid_latlon(lat: float | None, lon: float | None) -> bool:
    """A place Leaflet can draw (a bad coordinate from dispatch must not break the page)."""
    return (
        lat is not None
        and lon is not None
        and math.isfinite(lat)
        and math.isfinite(lon)
        and -90.0 <= lat <= 90.0
        and -180.0 <= lon <= 180.0
    )


def team_visible(team: Team, pos: Position | None) -> bool:
    """Teams on the map: everyone not off duty whose position is known and valid."""
    return (
        pos is not None
        and team.status is not TeamStatus.OFF_DUTY
        and valid_latlon(pos.lat, pos.lon)
    )


def call_visible(call: Call) -> bool:
    return call.is_open and valid_latlon(call.lat, call.lon)


def team_marker(team: Team, pos: Position, now: datetime, thresholds: Thresholds) -> MarkerSpec:
    since = team.status_since or team.updated_at
    in_status = fmt_minutes((now - since).total_seconds())
    abbr = TEAM_STATUS_ABBR[team.status]
    classes = ["team", f"st-{team.status.value}"]
    badge = ""
    stale = is_stale(pos, now, thresholds)
    pos_age = fmt_minutes((now - pos.at).total_seconds())
    if stale:
        classes.append("stale")
        badge = "?"
    label = f"{team.id} {abbr} {in_status}"
    if stale:
        label += f" · pos {pos_age} old"
    tip = [
        f"{team.id}{' — ' + team.name if team.name else ''}",
        f"{team_status_text(team)} for {in_status}",
    ]
    if team.provider:
        tip.append(f"Provider: {team.provider}")
    if team.call:
        tip.append(f"Call: {team.call}")
    if team.destination:
        tip.append(f"Destination: {team.destination}")
    if team.last_checkin is not None:
        tip.append(f"Last check-in {fmt_minutes((now - team.last_checkin).total_seconds())} ago")
    tip.append(f"Position {pos_age} old" + (" — STALE" if stale else ""))
    return MarkerSpec(
        key=marker_key("team", team.id),
        id=team.id,
        kind="team",
        lat=round(pos.lat, 6),
        lon=round(pos.lon, 6),
        color=TEAM_STATUS_COLORS[team.status],
        label=label,
        sym="",
        classes=classes,
        badge=badge,
        z=Z_TEAM,
        cluster=False,
        tip=tip,
        link=marker_key("call", team.call) if team.call and team.status.busy else "",
    )


def call_marker(call: Call, now: datetime, thresholds: Thresholds) -> MarkerSpec:
    assert call.lat is not None and call.lon is not None
    waited = (now - call.received_at).total_seconds()
    age = fmt_minutes(waited)
    pending = call.status is CallStatus.PENDING
    limit = thresholds.pending_limit(call)
    overdue = pending and waited > limit
    classes = ["call", f"p{call.priority}", f"cs-{call.status.value}"]
    classes.append("pending" if pending else "covered")
    if pending and not overdue and waited > limit / 2:
        classes.append("aging")
    badge = ""
    z = Z_PENDING if pending else Z_COVERED
    if call.is_unsafe:
        classes.append("unsafe")
        badge = "⚠"
        z = max(z, Z_UNSAFE)
    if overdue:
        classes.append("overdue")
        badge = "!" + badge
        z = Z_OVERDUE
    label = f"{call.id} {short_priority(call)} {CALL_STATUS_ABBR[call.status]} {age}"
    if call.team and not pending:
        label += f" {call.team}"
    if overdue:
        label = f"OVERDUE {label}"
    if call.is_unsafe:
        label = f"⚠ {label}"
    tip = [f"{call.id} — P{priority_text(call)} {call_type_text(call)}"]
    if not call.priority_given:
        tip.append(PRIORITY_NOT_GIVEN_TIP)
    tip.append(f"{call_status_text(call)}, received {age} ago")
    if overdue:
        tip.append(f"OVERDUE: pending past {fmt_minutes(limit)}")
    if call.is_unsafe:
        tip.append("UNSAFE: " + ", ".join(f.value.replace("_", " ") for f in call.safety_flags))
    if call.teams or call.team:
        tip.append("Team: " + ", ".join(call.teams or (call.team or "",)))
    if call.address or call.neighborhood:
        tip.append(", ".join(x for x in (call.address, call.neighborhood) if x))
    if call.summary:
        tip.append(call.summary[:200])
    tip += code_lines(call.codes)
    return MarkerSpec(
        key=marker_key("call", call.id),
        id=call.id,
        kind="call",
        lat=round(call.lat, 6),
        lon=round(call.lon, 6),
        color=OVERDUE_COLOR if overdue else PRIORITY_COLORS.get(call.priority, "#546e7a"),
        label=label,
        sym=short_priority(call),
        classes=classes,
        badge=badge,
        z=z,
        # Calls a team already covers may be clustered when zoomed out; pending, overdue and
        # unsafe calls never are, so nothing that needs a decision hides in a cluster.
        cluster=not pending and not call.is_unsafe,
        tip=tip,
        link="",
    )


def picture_markers(
    calls: Iterable[Call],
    teams: Iterable[Team],
    positions: Mapping[str, Position],
    now: datetime,
    thresholds: Thresholds,
) -> dict[str, MarkerSpec]:
    """Every marker the map should show for this picture, keyed by ``kind:id``."""
    out: dict[str, MarkerSpec] = {}
    for team in teams:
        pos = positions.get(team.id)
        if pos is not None and team_visible(team, pos):
            spec = team_marker(team, pos, now, thresholds)
            out[spec["key"]] = spec
    for call in calls:
        if call_visible(call):
            spec = call_marker(call, now, thresholds)
            out[spec["key"]] = spec
    return out


def _minutes(now: datetime, then: datetime | None) -> int:
    return -1 if then is None else int((now - then).total_seconds() // 60)


class MarkerCache:
    """``picture_markers`` that reuses the spec of a record that has not changed.

    The projection swaps whole records, never mutates them, so the same object means the same
    record; its spec is then the same as long as everything time-dependent it shows (whole
    minutes, overdue / aging / stale) is the same too. That makes a refresh cost about one
    comparison per marker instead of rebuilding every label, and lets the diff skip unchanged
    specs by identity.
    """

    def __init__(self) -> None:
        self._thresholds: Thresholds | None = None
        self._teams: dict[str, tuple[Team, Position, tuple[Any, ...], MarkerSpec]] = {}
        self._calls: dict[str, tuple[Call, tuple[Any, ...], MarkerSpec]] = {}

    def picture(
        self,
        calls: Iterable[Call],
        teams: Iterable[Team],
        positions: Mapping[str, Position],
        now: datetime,
        thresholds: Thresholds,
    ) -> dict[str, MarkerSpec]:
        if thresholds is not self._thresholds:
            self._teams, self._calls, self._thresholds = {}, {}, thresholds
        out: dict[str, MarkerSpec] = {}
        seen_teams: dict[str, tuple[Team, Position, tuple[Any, ...], MarkerSpec]] = {}
        for team in teams:
            pos = positions.get(team.id)
            if pos is None or not team_visible(team, pos):
                continue
            times = (
                _minutes(now, team.status_since or team.updated_at),
                _minutes(now, pos.at),
                _minutes(now, team.last_checkin),
                is_stale(pos, now, thresholds),
            )
            hit = self._teams.get(team.id)
            if hit is not None and hit[0] is team and hit[1] is pos and hit[2] == times:
                spec = hit[3]
            else:
                spec = team_marker(team, pos, now, thresholds)
            seen_teams[team.id] = (team, pos, times, spec)
            out[spec["key"]] = spec
        seen_calls: dict[str, tuple[Call, tuple[Any, ...], MarkerSpec]] = {}
        for call in calls:
            if not call_visible(call):
                continue
            waited = (now - call.received_at).total_seconds()
            limit = thresholds.pending_limit(call)
            ctimes = (int(waited // 60), waited > limit, waited > limit / 2)
            chit = self._calls.get(call.id)
            if chit is not None and chit[0] is call and chit[1] == ctimes:
                spec = chit[2]
            else:
                spec = call_marker(call, now, thresholds)
            seen_calls[call.id] = (call, ctimes, spec)
            out[spec["key"]] = spec
        self._teams, self._calls = seen_teams, seen_calls
        return out


def diff_markers(
    shown: Mapping[str, MarkerSpec], wanted: Mapping[str, MarkerSpec]
) -> dict[str, Any]:
    """``{"upsert": [...], "remove": [...]}``: what turns ``shown`` into ``wanted``."""
    upsert = [
        spec for key, spec in wanted.items() if (old := shown.get(key)) is not spec and old != spec
    ]
    remove = [key for key in shown if key not in wanted]
    return {"upsert": upsert, "remove": remove}


def legend_entries() -> dict[str, list[dict[str, str]]]:
    """The map legend's colours, from the dicts the markers use: team statuses a marker can
    show (off-duty teams are not on the map) and call priorities."""
    return {
        "teams": [
            {"abbr": TEAM_STATUS_ABBR[st], "text": st.value.replace("_", " "), "color": color}
            for st, color in TEAM_STATUS_COLORS.items()
            if st is not TeamStatus.OFF_DUTY
        ],
        "priorities": [
            {"abbr": f"P{p}", "text": f"priority {p}", "color": color}
            for p, color in sorted(PRIORITY_COLORS.items())
        ],
        "overdue": [{"abbr": "!", "text": "OVERDUE", "color": OVERDUE_COLOR}],
    }
