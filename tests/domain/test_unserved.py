"""Why an eligible call went unserved: inferred only where the records prove it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta

import pytest

from console.domain.model import (
    Call,
    CallStatus,
    CallType,
    Capabilities,
    SafetyFlag,
    Team,
    TeamStatus,
)
from console.domain.program import UnservedReason
from console.domain.projection import State
from console.domain.rules import ServiceHours
from console.domain.unserved import infer_unserved_reason, is_eligible_unserved

T0 = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
"""Received at 14:00 UTC; the call closes 20 minutes later."""
CLOSED = T0 + timedelta(minutes=20)
ALL_DAY = ServiceHours(tz=UTC)
DAYTIME = ServiceHours(time(8, 0), time(20, 0), tz=UTC)


def _call(**kw: object) -> Call:
    base = Call(
        id="C1",
        status=CallStatus.ESCALATED,
        priority=2,
        type=CallType.MENTAL_HEALTH,
        received_at=T0,
        updated_at=CLOSED,
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def _team(tid: str, status: TeamStatus, since: datetime = T0, **kw: object) -> Team:
    return Team(
        id=tid,
        status=status,
        updated_at=since,
        status_since=since,
        call=kw.pop("call", "C9" if status.busy else None),  # type: ignore[arg-type]
        capabilities=kw.pop("capabilities", Capabilities()),  # type: ignore[arg-type]
    )


def _state(*teams: Team) -> State:
    return State(teams={t.id: t for t in teams})


def _infer(call: Call, st: State, hours: ServiceHours = ALL_DAY) -> UnservedReason | None:
    return infer_unserved_reason(call, st, hours)


def test_outside_program_hours_is_proved_by_when_the_call_arrived() -> None:
    night = _call(received_at=T0.replace(hour=23), updated_at=T0.replace(hour=23, minute=30))
    st = _state(_team("CRT-1", TeamStatus.AVAILABLE))
    assert _infer(night, st, DAYTIME) is UnservedReason.OUTSIDE_PROGRAM_HOURS
    assert _infer(_call(), st, DAYTIME) is None  # in hours, a team was free: not proved


def test_no_team_on_duty() -> None:
    st = _state(
        _team("CRT-1", TeamStatus.OFF_DUTY),
        _team("CRT-2", TeamStatus.OUT_OF_SERVICE, T0 - timedelta(hours=2)),
    )
    assert _infer(_call(), st) is UnservedReason.NO_TEAM_ON_DUTY


def test_all_teams_busy_at_the_moment_the_call_closed() -> None:
    st = _state(
        _team("CRT-1", TeamStatus.ON_SCENE, T0 + timedelta(minutes=5)),
        _team("CRT-2", TeamStatus.TRANSPORTING, T0 - timedelta(minutes=30)),
        _team("CRT-3", TeamStatus.OFF_DUTY),
    )
    assert _infer(_call(), st) is UnservedReason.ALL_TEAMS_BUSY
    # cancelled or cleared by dispatch counts the same way
    assert _infer(_call(status=CallStatus.CANCELLED), st) is UnservedReason.ALL_TEAMS_BUSY
    cleared = _call(status=CallStatus.CLEARED, cleared_at=CLOSED)
    assert _infer(cleared, st) is UnservedReason.ALL_TEAMS_BUSY


def test_one_free_team_means_nothing_is_proved() -> None:
    st = _state(
        _team("CRT-1", TeamStatus.ON_SCENE),
        _team("CRT-2", TeamStatus.AVAILABLE),
    )
    assert _infer(_call(), st) is None


def test_a_team_whose_status_changed_after_the_close_proves_nothing() -> None:
    later = CLOSED + timedelta(minutes=1)
    busy_later = _state(
        _team("CRT-1", TeamStatus.ON_SCENE), _team("CRT-2", TeamStatus.EN_ROUTE, later)
    )
    assert _infer(_call(), busy_later) is None
    off_later = _state(
        _team("CRT-1", TeamStatus.OFF_DUTY), _team("CRT-2", TeamStatus.OFF_DUTY, later)
    )
    assert _infer(_call(), off_later) is None
    # ... unless it could not have taken the call anyway (a capability it lacks)
    youth = _call(juvenile=True)
    st = _state(
        _team("CRT-1", TeamStatus.AVAILABLE),
        _team("CRT-2", TeamStatus.AVAILABLE, later),
    )
    assert _infer(youth, st) is UnservedReason.NO_CAPABLE_TEAM


@pytest.mark.parametrize(
    ("need", "caps"),
    [
        ({"juvenile": True}, Capabilities(juvenile_certified=False)),
        ({"language": "es"}, Capabilities(languages=("en",))),
        ({"transport_needed": True, "transport_seats": 3}, Capabilities(vehicle_seats=2)),
        ({"type": CallType.OVERDOSE}, Capabilities(narcan=False)),
    ],
)
def test_no_team_with_a_needed_capability(need: dict[str, object], caps: Capabilities) -> None:
    st = _state(
        _team("CRT-1", TeamStatus.AVAILABLE, capabilities=caps),
        _team("CRT-2", TeamStatus.ON_SCENE, capabilities=caps),
        _team(
            "CRT-3",
            TeamStatus.OFF_DUTY,
            capabilities=Capabilities(
                juvenile_certified=True, languages=("en", "es"), vehicle_seats=4, narcan=True
            ),
        ),
    )
    assert _infer(_call(**need), st) is UnservedReason.NO_CAPABLE_TEAM
    # the same call with a capable team on duty and free: nothing proved
    able = Capabilities(
        juvenile_certified=True, languages=("en", "es"), vehicle_seats=4, narcan=True
    )
    st.teams["CRT-4"] = _team("CRT-4", TeamStatus.AVAILABLE, capabilities=able)
    assert _infer(_call(**need), st) is None
    # ... and busy on another call: all capable teams busy
    st.teams["CRT-4"] = _team("CRT-4", TeamStatus.EN_ROUTE, capabilities=able)
    assert _infer(_call(**need), st) is UnservedReason.ALL_TEAMS_BUSY


def test_only_eligible_unserved_calls_get_a_reason() -> None:
    st = _state(_team("CRT-1", TeamStatus.OFF_DUTY))
    assert _infer(_call(safety_flags=(SafetyFlag.WEAPON,)), st) is None  # not eligible
    assert _infer(_call(status=CallStatus.PENDING), st) is None  # still open
    assert _infer(_call(team="CRT-1", teams=("CRT-1",)), st) is None  # a team went
    st.assignments[("C1", "CRT-1")] = T0 + timedelta(minutes=1)
    assert not is_eligible_unserved(_call(), st)
    assert _infer(_call(), st) is None  # dispatch sent a team at some point
    assert is_eligible_unserved(_call())


def test_no_team_known_proves_nothing_and_unknown_statuses_are_not_on_duty_proof() -> None:
    assert _infer(_call(), State()) is None
    st = _state(_team("CRT-1", TeamStatus.UNKNOWN), _team("CRT-2", TeamStatus.ON_SCENE))
    assert _infer(_call(), st) is None


def test_program_hours_are_judged_in_their_own_zone() -> None:
    from zoneinfo import ZoneInfo

    eastern = ServiceHours(time(8, 0), time(20, 0), tz=ZoneInfo("America/New_York"))
    st = _state(_team("CRT-1", TeamStatus.AVAILABLE))
    # 14:00 UTC is 09:00 in New York: in hours; 02:00 UTC is 21:00 the evening before: outside
    assert _infer(_call(), st, eastern) is None
    late = _call(received_at=T0.replace(hour=2), updated_at=T0.replace(hour=2, minute=20))
    assert _infer(late, st, eastern) is UnservedReason.OUTSIDE_PROGRAM_HOURS
