"""Machine-readable views of the picture (CONTRACTS.md ``state --json``).

The dispatch simulator's ``--state-out`` writes the same shape from its own truth, so the two
can be compared field by field.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from console.domain.destinations import DestinationSet, capacity_view
from console.domain.model import Call, CallStatus, CallType, Position, Team, TeamStatus
from console.domain.program import FollowUp
from console.domain.projection import State


def iso(d: datetime | None) -> str | None:
    return None if d is None else d.astimezone(UTC).isoformat()


def call_json(c: Call) -> dict[str, Any]:
    return {
        "id": c.id,
        "status": f"unknown:{c.status_code}" if c.status is CallStatus.UNKNOWN else c.status.value,
        "priority": c.priority,
        "type": f"unknown:{c.source_type}" if c.type is CallType.UNRECOGNISED else c.type.value,
        "team": c.team,
        "safety_flags": [f.value for f in c.safety_flags],
        "received_at": iso(c.received_at),
        **({"priority_given": False} if not c.priority_given else {}),
        **({"codes": [list(p) for p in c.codes]} if c.codes else {}),
    }


def team_json(t: Team, pos: Position | None) -> dict[str, Any]:
    return {
        "id": t.id,
        "status": f"unknown:{t.status_code}" if t.status is TeamStatus.UNKNOWN else t.status.value,
        "call": t.call,
        "provider": t.provider,
        "lat": None if pos is None else round(pos.lat, 6),
        "lon": None if pos is None else round(pos.lon, 6),
        **({"codes": [list(p) for p in t.codes]} if t.codes else {}),
    }


def destinations_json(
    state: State, destinations: DestinationSet, now: datetime
) -> list[dict[str, Any]]:
    """The site's destinations at ``now``: open by their hours or not, and the capacity figure
    (free beds or slots; 0 when not accepting) with its age. A stale figure is given as null
    (its age says why), never as current."""
    out = []
    figures = destinations.figures(state.destinations)
    for d in sorted(destinations.destinations, key=lambda d: d.id):
        view = capacity_view(figures.get(d.id), now, destinations.capacity_stale_s)
        cur = view.current
        out.append(
            {
                "id": d.id,
                "kind": d.kind.value,
                "open_now": d.status(now).open_now,
                "capacity": None if cur is None else (cur.available if cur.accepting else 0),
                "capacity_age_s": None if view.age_s is None else round(view.age_s, 1),
            }
        )
    return out


def state_json(
    state: State,
    as_of: datetime | None = None,
    destinations: DestinationSet | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Every call the feed has carried (closed ones too) and every team, sorted by id; the
    site's destinations when it has them (judged at ``now``, default the wall clock)."""
    when = as_of or state.as_of or datetime.now(UTC)
    out: dict[str, Any] = {
        "as_of": iso(when),
        "calls": [call_json(state.calls[k]) for k in sorted(state.calls)],
        "teams": [team_json(state.teams[k], state.positions.get(k)) for k in sorted(state.teams)],
        **followups_json(state, when),
    }
    if destinations:
        out["destinations"] = destinations_json(state, destinations, now or datetime.now(UTC))
    return out


def followup_status(f: FollowUp, now: datetime) -> str:
    """``open``, ``overdue`` (open past its due time) or ``closed``."""
    if not f.is_open:
        return "closed"
    return "overdue" if f.overdue(now) else "open"


def followups_json(state: State, now: datetime) -> dict[str, Any]:
    """``{"followups": [...]}`` when the log holds any (opened ones, sorted by id), else ``{}``:
    no person details, only the call they follow."""
    fus = [state.followups[k] for k in sorted(state.followups)]
    rows = [
        {
            "id": f.id,
            "call": f.call_id,
            "owner": f.owner,
            "due_at": iso(f.due_at),
            "status": followup_status(f, now),
        }
        for f in fus
        if f.opened_at is not None
    ]
    return {"followups": rows} if rows else {}
