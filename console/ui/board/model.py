"""The team board's item model: one row per team, status and time in it, check-in, current call,
and its sort/filter proxy."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from console.domain.checkin import checkin_since
from console.domain.commands import (
    Command,
    CommandRecord,
)
from console.domain.model import Call, Position, Team, TeamStatus
from console.domain.rules import is_stale
from console.ui.core.labels import team_details, team_status_text
from console.ui.tables.model import (
    NEVER_KEY,
    OVERDUE_MARK,
    PENDING_MARK,
    STALE_MARK,
    Cell,
    Column,
    RecordTableModel,
    StatusTextProxy,
    format_age,
    minutes_text,
    natural_key,
    pending_by,
    since_key,
)

_TEAM_STATUS_ORDER = {s: i for i, s in enumerate(TeamStatus)}


@dataclass(frozen=True, slots=True)
class _TeamView:
    team: Team
    position: Position | None
    pending: tuple[str, ...] = ()
    call: Call | None = None
    """The call the team is on (its type, setting and cautions set the check-in interval)."""


class TeamBoardModel(RecordTableModel):
    """The team board: one row per team."""

    COLUMNS = (
        Column("team", "Team", f"Team id; {STALE_MARK} marks a stale or unknown position"),
        Column("provider", "Provider", "Provider agency"),
        Column("status", "Status", "Team status; ⟳ a command awaiting dispatch's answer"),
        Column(
            "in_status",
            "In status",
            "Time in the current status (mm:ss, or h:mm h)",
            ticking=True,
            align_right=True,
        ),
        Column(
            "checkin",
            "Check-in",
            "Time since the last check-in; ! marks an overdue check-in on scene",
            ticking=True,
            align_right=True,
        ),
        Column("call", "Call", "The call the team is working"),
        Column("capabilities", "Capabilities", "Narcan, vehicle seats, youth-certified, languages"),
    )

    def set_picture(
        self,
        teams: Iterable[Team],
        now: datetime,
        positions: Mapping[str, Position] | None = None,
        pending: Iterable[Command | CommandRecord] = (),
        calls: Mapping[str, Call] | None = None,
    ) -> None:
        """Show ``teams`` at ``now``, with their last positions (for staleness), commands
        awaiting dispatch's answer and the calls they are on (for the check-in policy)."""
        positions = positions or {}
        calls = calls or {}
        by_team = pending_by(pending, "team")
        self._apply(
            (
                _TeamView(
                    t,
                    positions.get(t.id),
                    tuple(by_team.get(t.id, ())),
                    calls.get(t.call) if t.call and t.status is TeamStatus.ON_SCENE else None,
                )
                for t in teams
            ),
            now,
        )

    def team(self, team_id: str) -> Team | None:
        view = self._records.get(team_id)
        return view.team if view is not None else None

    def _record_id(self, record: Any) -> str:
        return str(record.team.id)

    def _record_status(self, record: Any) -> str:
        return str(record.team.status.value)

    def _static_cell(self, col: int, record: Any) -> Cell:
        t: Team = record.team
        key = self.COLUMNS[col].key
        if key == "team":
            return Cell(t.id, natural_key(t.id), t.name or None)
        if key == "provider":
            return Cell(t.provider, t.provider.casefold())
        if key == "status":
            text = team_status_text(t)
            tip = "\n".join(team_details(t))
            pend: tuple[str, ...] = record.pending
            if pend:
                text += f"  {PENDING_MARK} " + "; ".join(pend)
                tip += "; waiting for dispatch: " + "; ".join(pend)
            return Cell(
                text,
                _TEAM_STATUS_ORDER.get(t.status, 99),
                tip,
                fg=f"team_status_fg:{t.status.value}",
            )
        if key == "call":
            return Cell(t.call or "", natural_key(t.call or "~"))
        if key == "capabilities":
            caps = t.capabilities
            parts: list[str] = []
            if caps.narcan:
                parts.append("Narcan")
            if caps.has_vehicle:
                parts.append(f"{caps.vehicle_seats} seats")
            if caps.juvenile_certified:
                parts.append("youth")
            langs = [lang for lang in caps.languages if lang != "en"]
            if langs:
                parts.append("/".join(langs))
            tip_parts = [
                "carries Narcan" if caps.narcan else "no Narcan",
                f"vehicle with {caps.vehicle_seats} seat(s)" if caps.has_vehicle else "no vehicle",
                "youth-certified" if caps.juvenile_certified else "not youth-certified",
                "languages: " + (", ".join(caps.languages) or "none listed"),
            ]
            text = " · ".join(parts)
            return Cell(text, text.casefold(), "; ".join(tip_parts))
        raise AssertionError(key)

    def _ticking_cell(self, col: int, record: Any, now: datetime) -> Cell:
        t: Team = record.team
        key = self.COLUMNS[col].key
        if key == "in_status":
            since = t.status_since or t.updated_at
            secs = (now - since).total_seconds()
            stale = t.status.on_duty and is_stale(record.position, now, self._thresholds)
            text = format_age(secs)
            tip = f"{team_status_text(t)} for {minutes_text(secs)}"
            if stale:
                pos: Position | None = record.position
                where = (
                    "no position reported"
                    if pos is None
                    else f"position {minutes_text((now - pos.at).total_seconds())} old"
                )
                return Cell(
                    f"{text} {STALE_MARK}",
                    since_key(since),
                    f"{tip}; {where}",
                    fg="muted_fg",
                    accessible=f"{text}, {where}",
                )
            return Cell(text, since_key(since), tip)
        if key == "checkin":
            if t.status is TeamStatus.ON_SCENE:
                # On scene the clock runs from the later of the last check-in and arrival.
                since = checkin_since(t)
                gap = (now - since).total_seconds()
                interval = self._thresholds.checkin_interval(t, record.call)
                limit = interval.seconds
                rule = f" ({interval.rule})"
                last = (
                    "no check-in since arriving"
                    if (t.last_checkin is None or t.last_checkin < since)
                    else "last check-in"
                )
                if gap > limit:
                    return Cell(
                        f"{OVERDUE_MARK} {format_age(gap)}",
                        since_key(since),
                        f"on scene, no check-in for {minutes_text(gap)}, limit {minutes_text(limit)}"
                        f"{rule}: overdue",
                        fg="overdue_fg",
                        bg="overdue_bg",
                        bold=True,
                        accessible=f"Check-in overdue: {minutes_text(gap)}",
                    )
                return Cell(
                    format_age(gap),
                    since_key(since),
                    f"on scene, {last} {minutes_text(gap)} ago, limit {minutes_text(limit)}{rule}",
                )
            if t.last_checkin is None:
                return Cell("—", NEVER_KEY, "no check-in yet")
            ago = (now - t.last_checkin).total_seconds()
            return Cell(
                format_age(ago), since_key(t.last_checkin), f"last check-in {minutes_text(ago)} ago"
            )
        raise AssertionError(key)


ON_DUTY_TEAM_STATUSES = frozenset(s.value for s in TeamStatus if s.on_duty)


class TeamBoardProxy(StatusTextProxy):
    """Sort/filter for the board; ``set_on_duty_only(True)`` hides off-duty and out-of-service."""

    def set_on_duty_only(self, on: bool) -> None:
        self.set_status_filter(ON_DUTY_TEAM_STATUSES if on else None)
