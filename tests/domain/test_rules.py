from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from console.domain.commands import (
    AssignTeam,
    ChangePriority,
    CommandRejected,
    EscalateCall,
    ReassignCall,
    SetTeamService,
)
from console.domain.events import AlertKind
from console.domain.model import (
    Call,
    CallStatus,
    CallType,
    Capabilities,
    EscalationTarget,
    Position,
    SafetyFlag,
    Team,
    TeamStatus,
)
from console.domain.rules import (
    RecommendationFactors,
    ServiceHours,
    Thresholds,
    great_circle_km,
    ineligibility,
    recommend,
    safety_screen,
    timer_alerts,
    validate_command,
)

NOW = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
CALL_AT = (41.7637, -72.6851)


def call(**kw: object) -> Call:
    base: dict[str, object] = dict(
        id="HCR-1",
        status=CallStatus.PENDING,
        priority=2,
        type=CallType.MENTAL_HEALTH,
        received_at=NOW - timedelta(minutes=3),
        updated_at=NOW,
        lat=CALL_AT[0],
        lon=CALL_AT[1],
    )
    base.update(kw)
    return Call(**base)  # type: ignore[arg-type]


def team(tid: str, **kw: object) -> Team:
    base: dict[str, object] = dict(
        id=tid, status=TeamStatus.AVAILABLE, updated_at=NOW, provider="CRT"
    )
    base.update(kw)
    return Team(**base)  # type: ignore[arg-type]


def test_safety_screen_names_flag_and_escalation() -> None:
    r = safety_screen(call(safety_flags=(SafetyFlag.WEAPON, SafetyFlag.MEDICAL_EMERGENCY)))
    assert not r.civilian_ok
    assert "weapon" in r.message and "medical emergency" in r.message
    assert r.escalate_to == (EscalationTarget.POLICE, EscalationTarget.EMS)
    assert safety_screen(call()).civilian_ok


@pytest.mark.parametrize(
    ("c", "caps", "why"),
    [
        (call(juvenile=True), Capabilities(), "youth-certified"),
        (call(language="es"), Capabilities(), "no es speaker"),
        (call(type=CallType.OVERDOSE), Capabilities(), "Narcan"),
        (call(transport_needed=True), Capabilities(), "no transport vehicle"),
        (call(transport_needed=True, transport_seats=3), Capabilities(vehicle_seats=2), "3 needed"),
    ],
)
def test_eligibility_reasons(c: Call, caps: Capabilities, why: str) -> None:
    reasons = ineligibility(c, team("CRT-1", capabilities=caps))
    assert any(why in r for r in reasons), reasons


def test_off_duty_out_of_service_and_busy_teams_never_eligible() -> None:
    c = call()
    assert ineligibility(c, team("A", status=TeamStatus.OFF_DUTY)) == ["off duty"]
    assert ineligibility(c, team("B", status=TeamStatus.OUT_OF_SERVICE)) == ["out of service"]
    assert ineligibility(c, team("C", status=TeamStatus.ON_SCENE, call="HCR-9")) == [
        "busy on HCR-9"
    ]
    assert ineligibility(c, team("D")) == []


def test_recommendation_ranks_by_eta_with_reasons_and_lists_ineligible() -> None:
    c = call(type=CallType.OVERDOSE)
    teams = [
        team("FAR", capabilities=Capabilities(narcan=True)),
        team("NEAR", capabilities=Capabilities(narcan=True)),
        team("NONARCAN"),
    ]
    pos = {
        "FAR": Position(CALL_AT[0] + 0.05, CALL_AT[1], NOW),
        "NEAR": Position(CALL_AT[0] + 0.01, CALL_AT[1], NOW),
        "NONARCAN": Position(CALL_AT[0], CALL_AT[1], NOW),
    }
    rec = recommend(c, teams, pos, {"NEAR": 3}, RecommendationFactors(circuity=1.4, speed_kmh=30))
    assert [x.team_id for x in rec.ranked] == ["NEAR", "FAR"]
    near = rec.ranked[0]
    expected_eta = great_circle_km(CALL_AT[0] + 0.01, CALL_AT[1], *CALL_AT) * 1.4 / 30 * 3600
    assert near.eta_s == pytest.approx(expected_eta)
    assert f"{expected_eta / 60:.1f} min away" in near.reasons
    assert "carries Narcan" in near.reasons and "3 calls this shift" in near.reasons
    assert dict(rec.ineligible)["NONARCAN"] == ("carries no Narcan (suspected overdose)",)


def test_workload_breaks_near_ties() -> None:
    teams = [team("BUSY"), team("FRESH")]
    pos = {
        "BUSY": Position(CALL_AT[0] + 0.001, CALL_AT[1], NOW),
        "FRESH": Position(CALL_AT[0] + 0.002, CALL_AT[1], NOW),
    }
    rec = recommend(call(), teams, pos, {"BUSY": 5, "FRESH": 1})
    assert [x.team_id for x in rec.ranked] == ["FRESH", "BUSY"]


def test_unsafe_call_has_no_best_team() -> None:
    rec = recommend(call(safety_flags=(SafetyFlag.VIOLENCE,)), [team("A")], {}, {})
    assert rec.best is None and rec.ranked == ()
    assert "call fails the safety screen" in dict(rec.ineligible)["A"]


def test_timers() -> None:
    th = Thresholds(
        pending_s={1: 120, 2: 600, 3: 1800},
        pending_by_type_s={"overdose": 60},
        checkin_interval_s=1800,
        position_stale_s=300,
    )
    calls = [
        call(id="P1", priority=1, received_at=NOW - timedelta(minutes=3)),
        call(id="P2", priority=2, received_at=NOW - timedelta(minutes=3)),
        call(id="OD", priority=3, type=CallType.OVERDOSE, received_at=NOW - timedelta(seconds=90)),
    ]
    teams = [
        team(
            "T1",
            status=TeamStatus.ON_SCENE,
            call="X",
            status_since=NOW - timedelta(minutes=40),
            updated_at=NOW - timedelta(minutes=40),
        )
    ]
    pos = {"T1": Position(*CALL_AT, NOW - timedelta(minutes=10))}
    alerts = {a.id: a for a in timer_alerts(calls, teams, pos, NOW, th)}
    kinds = sorted((a.kind.value, a.subject) for a in alerts.values())
    assert kinds == [
        ("checkin_overdue", "T1"),
        ("pending_overdue", "OD"),
        ("pending_overdue", "P1"),
        ("position_stale", "T1"),
    ]
    assert alerts["pending_overdue:P1"].kind is AlertKind.PENDING_OVERDUE


def test_command_validation() -> None:
    calls = {
        "HCR-1": call(),
        "HCR-2": call(id="HCR-2", status=CallStatus.CLEARED),
        "HCR-3": call(id="HCR-3", safety_flags=(SafetyFlag.WEAPON,)),
        "HCR-4": call(id="HCR-4", status=CallStatus.EN_ROUTE, team="A", teams=("A",)),
    }
    teams = {"A": team("A", status=TeamStatus.EN_ROUTE, call="HCR-4"), "B": team("B")}
    validate_command(AssignTeam(call_id="HCR-1", team_id="B"), calls, teams)
    with pytest.raises(CommandRejected, match="busy on HCR-4"):
        validate_command(AssignTeam(call_id="HCR-1", team_id="A"), calls, teams)
    with pytest.raises(CommandRejected, match="closed"):
        validate_command(AssignTeam(call_id="HCR-2", team_id="B"), calls, teams)
    with pytest.raises(CommandRejected, match="weapon"):
        validate_command(AssignTeam(call_id="HCR-3", team_id="B"), calls, teams)
    with pytest.raises(CommandRejected, match="reason is required"):
        validate_command(ReassignCall(call_id="HCR-4", team_id="B"), calls, teams)
    validate_command(ReassignCall(call_id="HCR-4", team_id="B", reason="closer"), calls, teams)
    with pytest.raises(CommandRejected, match="reason is required"):
        validate_command(
            EscalateCall(call_id="HCR-1", target=EscalationTarget.POLICE), calls, teams
        )
    with pytest.raises(CommandRejected, match="mobile crisis is closed"):
        validate_command(
            EscalateCall(call_id="HCR-1", target=EscalationTarget.MOBILE_CRISIS, reason="x"),
            calls,
            teams,
            mobile_crisis_hours=ServiceHours(time(8), time(12), UTC),
            now=NOW,
        )
    with pytest.raises(CommandRejected, match="already priority 2"):
        validate_command(ChangePriority(call_id="HCR-1", priority=2), calls, teams)
    with pytest.raises(CommandRejected, match="working HCR-4"):
        validate_command(SetTeamService(team_id="A", in_service=False), calls, teams)
    with pytest.raises(CommandRejected, match="changed meanwhile"):
        validate_command(AssignTeam(call_id="HCR-1", team_id="B", expected_version=0), calls, teams)


def test_service_hours_across_midnight() -> None:
    h = ServiceHours(time(20), time(6))
    assert h.open_at(time(23)) and h.open_at(time(2)) and not h.open_at(time(12))


def test_service_hours_are_judged_in_their_own_time_zone() -> None:
    from datetime import timezone

    eastern = timezone(timedelta(hours=-5))
    hours = ServiceHours(time(8), time(20), eastern)
    assert hours.open_at_instant(datetime(2026, 11, 26, 14, 0, tzinfo=UTC))  # 09:00 local
    assert not hours.open_at_instant(datetime(2026, 11, 27, 2, 0, tzinfo=UTC))  # 21:00 local
