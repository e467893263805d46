"""Machine-readable views of the picture (CONTRACTS.md ``state --json``).

The dispatch simulator's ``--state-out`` writes the same shape from its own truth, so the two
can be compared field by field.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

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


def state_json(state: State, as_of: datetime | None = None) -> dict[str, Any]:
    """Every call the feed has carried (closed ones too) and every team, sorted by id."""
    when = as_of or state.as_of or datetime.now(UTC)
    return {
        "as_of": iso(when),
        "calls": [call_json(state.calls[k]) for k in sorted(state.calls)],
        "teams": [team_json(state.teams[k], state.positions.get(k)) for k in sorted(state.teams)],
        **followups_json(state, when),
    }


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
