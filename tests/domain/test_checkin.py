"""The check-in policy (interval by risk, the rule named) and the missed check-in ladder."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from console.domain.alerts import collect_alerts
from console.domain.checkin import (
    CALL_TEAM,
    REQUEST_CHECKIN,
    WELFARE_CHECK,
    CheckinPolicy,
    CheckinRule,
    LadderStep,
    interval_for,
    is_night,
    ladder_alerts,
    ladder_due,
)
from console.domain.events import AlertKind
from console.domain.model import Call, CallStatus, CallType, SafetyFlag, Team, TeamStatus
from console.domain.projection import State
from console.domain.rules import Thresholds, timer_alerts

DAY = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
NIGHT = datetime(2026, 11, 26, 23, 30, tzinfo=UTC)
M = timedelta(minutes=1)

RULES = (
    CheckinRule(900, "private residence at night", setting="private", night=True),
    CheckinRule(1200, "", call_types=frozenset({"substance_use", "overdose"})),
    CheckinRule(600, "caution flag", caution=True),
    CheckinRule(1500, "solo responder", max_team_size=1),
)
POLICY = CheckinPolicy(
    rules=RULES,
    tz=UTC,
    private_location_types=frozenset({"RES"}),
    public_location_types=frozenset({"PARK"}),
    team_sizes={"CRT-9": 1},
)


def call(**kw: object) -> Call:
    base: dict[str, object] = dict(
        id="HCR-1",
        status=CallStatus.ON_SCENE,
        priority=2,
        type=CallType.MENTAL_HEALTH,
        received_at=DAY - 30 * M,
        updated_at=DAY,
        team="CRT-1",
    )
    base.update(kw)
    return Call(**base)  # type: ignore[arg-type]


def on_scene(tid: str = "CRT-1", since: datetime = DAY, checkin: datetime | None = None) -> Team:
    return Team(
        tid,
        TeamStatus.ON_SCENE,
        since,
        provider="CRT",
        status_since=since,
        call="HCR-1",
        last_checkin=checkin,
    )


def test_no_rule_keeps_the_site_interval() -> None:
    iv = interval_for(on_scene(), call(), CheckinPolicy(), 1800)
    assert (iv.seconds, iv.rule) == (1800, "site default")
    assert interval_for(on_scene(), call(), POLICY, 1800).rule == "site default"


def test_setting_and_night_come_from_location_type_and_the_clock() -> None:
    home = call(codes=(("location_type", "RES"),))
    assert interval_for(on_scene(since=NIGHT), home, POLICY, 1800).seconds == 900
    assert interval_for(on_scene(since=DAY), home, POLICY, 1800).seconds == 1800
    park = call(codes=(("location_type", "PARK"),))
    assert interval_for(on_scene(since=NIGHT), park, POLICY, 1800).seconds == 1800
    assert is_night(NIGHT, POLICY) and not is_night(DAY, POLICY)
    assert is_night(datetime(2026, 11, 27, 5, 59, tzinfo=UTC), POLICY)
    assert not is_night(datetime(2026, 11, 27, 6, 0, tzinfo=UTC), POLICY)
    day_shift = CheckinPolicy(night_start=time(8), night_end=time(18), tz=UTC)
    assert is_night(DAY, day_shift)  # a "night" that does not span midnight


def test_type_team_size_and_caution_and_the_strictest_wins() -> None:
    iv = interval_for(on_scene(), call(type=CallType.OVERDOSE), POLICY, 1800)
    assert (iv.seconds, iv.rule) == (1200, "overdose/substance_use")
    assert interval_for(on_scene("CRT-9"), call(), POLICY, 1800).rule == "solo responder"
    flagged = call(type=CallType.OVERDOSE, safety_flags=(SafetyFlag.VIOLENCE,))
    iv = interval_for(on_scene(), flagged, POLICY, 1800)
    assert (iv.seconds, iv.rule) == (600, "caution flag")
    # A caution dispatch sent that the console could not map counts as a caution too.
    cautioned = call(codes=(("caution", "DOG"),))
    assert interval_for(on_scene(), cautioned, POLICY, 1800).seconds == 600


def test_timer_alert_follows_the_policy() -> None:
    th = Thresholds(checkin_interval_s=1800, checkin=POLICY)
    c = call(type=CallType.OVERDOSE)
    t = on_scene(since=DAY - 21 * M)
    [a] = timer_alerts([], [t], {}, DAY, th, {c.id: c})
    assert a.kind is AlertKind.CHECKIN_OVERDUE
    assert "every 20 min (overdose/substance_use)" in a.message
    # Without the call the site default applies: not overdue yet.
    assert timer_alerts([], [t], {}, DAY, th, {}) == []


LADDER = (
    LadderStep(0, REQUEST_CHECKIN),
    LadderStep(300, CALL_TEAM),
    LadderStep(600, WELFARE_CHECK),
)


def test_ladder_steps_come_due_in_order_and_a_checkin_stops_them() -> None:
    policy = CheckinPolicy(ladder=LADDER, contacts={"CRT-1": "860-555-0101"}, tz=UTC)
    c = call()
    t = on_scene(since=DAY)
    due = DAY + 30 * M  # the site default: 30 min

    def steps(now: datetime, team: Team = t) -> list[str]:
        return [s.step.action for s in ladder_due([team], {c.id: c}, now, policy, 1800)]

    assert steps(due) == []
    assert steps(due + timedelta(seconds=1)) == [REQUEST_CHECKIN]
    assert steps(due + 5 * M + timedelta(seconds=1)) == [REQUEST_CHECKIN, CALL_TEAM]
    assert steps(due + 11 * M) == [REQUEST_CHECKIN, CALL_TEAM, WELFARE_CHECK]
    all_steps = ladder_due([t], {c.id: c}, due + 11 * M, policy, 1800)
    assert len({s.id for s in all_steps}) == 3
    assert {s.missed_since for s in all_steps} == {due}
    # A check-in received: a new clock, nothing due until it runs out again.
    back = on_scene(since=DAY, checkin=due + 10 * M)
    assert steps(due + 11 * M, back) == []
    later = ladder_due([back], {c.id: c}, due + 41 * M, policy, 1800)
    assert [s.step.action for s in later] == [REQUEST_CHECKIN]
    assert later[0].id != all_steps[0].id
    # Off scene: no ladder.
    gone = Team("CRT-1", TeamStatus.AVAILABLE, DAY, status_since=DAY)
    assert steps(due + 11 * M, gone) == []
    # No ladder configured: nothing, ever.
    assert ladder_due([t], {c.id: c}, due + 60 * M, CheckinPolicy(), 1800) == []


def test_ladder_alerts_name_the_contact_and_the_latest_step() -> None:
    policy = CheckinPolicy(ladder=LADDER, contacts={"CRT-1": "860-555-0101"}, tz=UTC)
    c = call()
    t = on_scene(since=DAY)
    due = DAY + 30 * M
    [a] = ladder_alerts(ladder_due([t], {c.id: c}, due + 6 * M, policy, 1800))
    assert a.kind is AlertKind.CHECKIN_ESCALATION and a.subject == "CRT-1"
    assert "call the team on 860-555-0101" in a.message
    [b] = ladder_alerts(ladder_due([t], {c.id: c}, due + 11 * M, policy, 1800))
    assert "welfare check" in b.message and b.id != a.id
    assert ladder_alerts(ladder_due([t], {c.id: c}, due + 1 * M, policy, 1800)) == []
    # Raised with the other alerts, through the thresholds that carry the policy.
    st = State(calls={c.id: c}, teams={t.id: t})
    kinds = {x.kind for x in collect_alerts(st, due + 6 * M, Thresholds(checkin=policy))}
    assert kinds == {AlertKind.CHECKIN_OVERDUE, AlertKind.CHECKIN_ESCALATION}
    no_contact = CheckinPolicy(ladder=LADDER, tz=UTC)
    [n] = ladder_alerts(ladder_due([t], {c.id: c}, due + 6 * M, no_contact, 1800))
    assert "no contact number configured" in n.message
