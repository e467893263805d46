"""Follow-up creation rules, due times, owners, the queue's order and the overdue alert."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from console.domain.alerts import collect_alerts
from console.domain.events import AlertKind
from console.domain.followup import (
    AUTO_OPERATOR,
    FollowUpPolicy,
    cause_for_call,
    due_on_close,
    followup_id,
    manual_command,
    open_for_outcome,
    overdue_alerts,
    queue_order,
)
from console.domain.local import local_event
from console.domain.model import Call, CallStatus, CallType, SafetyFlag, Team, TeamStatus
from console.domain.program import FollowUp, FollowUpAttempt, FollowUpEnd, Outcome
from console.domain.projection import State, fold
from console.domain.rules import ServiceHours, Thresholds

T0 = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
H = timedelta(hours=1)


def cleared(cid: str = "HCR-1", disposition: str | None = "referred", **kw: object) -> Call:
    base: dict[str, object] = dict(
        id=cid,
        status=CallStatus.CLEARED,
        priority=2,
        type=CallType.MENTAL_HEALTH,
        received_at=T0 - H,
        updated_at=T0,
        dispatched_at=T0 - H,
        cleared_at=T0,
        team="CRT-1",
        teams=("CRT-1",),
        disposition=disposition,
    )
    base.update(kw)
    return Call(**base)  # type: ignore[arg-type]


TEAMS = {"CRT-1": Team("CRT-1", TeamStatus.AVAILABLE, T0, provider="CRT")}


def test_dispositions_that_need_a_follow_up() -> None:
    p = FollowUpPolicy()
    for d in ("referred", "refused_services", "unable_to_locate", "transported"):
        assert cause_for_call(cleared(disposition=d), p) == d
    for d in ("resolved_on_scene", "handed_to_police", None):
        assert cause_for_call(cleared(disposition=d), p) is None
    # Still open: nothing yet, whatever dispatch put in the disposition.
    assert cause_for_call(cleared(status=CallStatus.ON_SCENE), p) is None


def test_outside_program_hours_and_unserved() -> None:
    hours = ServiceHours(time(8, 0), time(20, 0), UTC)
    p = FollowUpPolicy(program_hours=hours)
    night = cleared(disposition="resolved_on_scene", received_at=T0.replace(hour=23) - 24 * H)
    assert cause_for_call(night, p) == "outside_hours"
    # An unsafe call is not one the program would have served: no follow-up for its hours.
    assert (
        cause_for_call(
            cleared(
                disposition="resolved_on_scene",
                received_at=night.received_at,
                safety_flags=(SafetyFlag.WEAPON,),
            ),
            p,
        )
        is None
    )
    unserved = cleared(
        disposition=None,
        status=CallStatus.CANCELLED,
        team=None,
        teams=(),
        dispatched_at=None,
    )
    assert cause_for_call(unserved, p) == "unserved"
    # A cancelled duplicate did not go unserved.
    assert (
        cause_for_call(unserved.__class__(**{**_fields(unserved), "disposition": "cancelled"}), p)
        is None
    )
    # Without program hours nothing is outside them.
    assert cause_for_call(night, FollowUpPolicy()) is None


def _fields(c: Call) -> dict[str, object]:
    return {k: getattr(c, k) for k in c.__slots__}  # type: ignore[attr-defined]


def test_due_time_default_and_by_cause_and_owner() -> None:
    p = FollowUpPolicy(due_by_cause={"transported": 72 * H}, default_owner="Navigators")
    [ev] = due_on_close([cleared()], TEAMS, {}, p, T0 + H)
    assert ev.followup_id == "FU-HCR-1" == followup_id("HCR-1")
    assert ev.due_at == T0 + 48 * H  # from the call's clearing, not from when it was seen
    assert ev.owner == "CRT" and ev.cause == "referred" and ev.operator == AUTO_OPERATOR
    [ev2] = due_on_close([cleared(disposition="transported")], TEAMS, {}, p, T0 + 5 * H)
    assert ev2.due_at == T0 + 72 * H
    # Same call seen by another writer: the same event identity, so it is recorded once.
    [again] = due_on_close([cleared()], TEAMS, {}, p, T0 + 2 * H)
    assert again.key == ev.key and again.due_at == ev.due_at
    # No team known: the site's default owner.
    [ev3] = due_on_close([cleared(team=None, teams=())], {}, {}, p, T0)
    assert ev3.owner == "Navigators"
    # A call that has its follow-up already gets no second one.
    assert due_on_close([cleared()], TEAMS, {"FU-HCR-1": FollowUp("FU-HCR-1")}, p, T0) == []


def test_an_outcome_that_needs_a_follow_up_opens_one_named_after_the_call() -> None:
    p = FollowUpPolicy(due_by_cause={"referred": 24 * H})
    cmd = open_for_outcome(cleared(), Outcome.REFERRED, TEAMS, {}, p, T0)
    assert cmd is not None
    assert (cmd.followup_id, cmd.owner, cmd.due_at, cmd.cause) == (
        "FU-HCR-1",
        "CRT",
        T0 + 24 * H,
        "referred",
    )
    assert open_for_outcome(cleared(), Outcome.RESOLVED_ON_SCENE, TEAMS, {}, p, T0) is None
    have = {"FU-HCR-1": FollowUp("FU-HCR-1", opened_at=T0)}
    assert open_for_outcome(cleared(), Outcome.REFERRED, TEAMS, have, p, T0) is None
    # Two consoles recording it: the first opening stands, one follow-up.
    e1 = local_event(cmd, "a" * 32, "ann", T0)
    e2 = local_event(cmd, "b" * 32, "bob", T0 + H)
    st = fold([e2, e1])
    assert list(st.followups) == ["FU-HCR-1"] and st.followups["FU-HCR-1"].opened_by == "ann"


def test_by_hand() -> None:
    cmd = manual_command(cleared(), "  ", T0, FollowUpPolicy(default_owner="Navigators"))
    assert cmd.owner == "Navigators" and cmd.cause == "manual" and cmd.followup_id == ""
    assert cmd.due_at == T0 + 48 * H


def _fu(fid: str, due: datetime | None, **kw: object) -> FollowUp:
    return FollowUp(fid, call_id=fid[3:], owner="CRT", due_at=due, opened_at=T0 - 50 * H, **kw)  # type: ignore[arg-type]


def test_queue_order_overdue_first_then_due_then_closed() -> None:
    fus = [
        _fu("FU-C", T0 + 5 * H),
        _fu("FU-A", T0 - 2 * H),
        _fu("FU-D", T0 - 9 * H, end=FollowUpEnd.CONNECTED, closed_at=T0 - H),
        _fu("FU-B", T0 + H),
        FollowUp("FU-X"),  # only an attempt known so far: not listed
    ]
    assert [f.id for f in queue_order(fus, T0)] == ["FU-A", "FU-B", "FU-C", "FU-D"]


def test_overdue_alert_raised_once_past_due_and_gone_once_closed() -> None:
    due = T0 + H
    fu = _fu("FU-HCR-1", due, attempts=(FollowUpAttempt(T0, "phone", "no_answer", "ann"),))
    assert overdue_alerts([fu], due) == []
    [a] = overdue_alerts([fu], due + timedelta(seconds=1))
    assert a.kind is AlertKind.FOLLOWUP_OVERDUE and a.subject == "HCR-1"
    assert "overdue by 1 min, 1 attempt so far" in a.message and "CRT" in a.message
    closed = _fu("FU-HCR-1", due, end=FollowUpEnd.DECLINED, closed_at=T0)
    assert overdue_alerts([closed], due + 5 * H) == []
    st = State(followups={fu.id: fu})
    ids = [x.id for x in collect_alerts(st, due + 2 * H, Thresholds())]
    assert ids == ["followup_overdue:FU-HCR-1"]


def test_state_json_lists_followups_without_person_details() -> None:
    from console.store.read.views import state_json

    assert "followups" not in state_json(State(), T0)
    fus = {
        "FU-A": _fu("FU-A", T0 - H),
        "FU-B": _fu("FU-B", T0 + H),
        "FU-C": _fu("FU-C", T0 - H, end=FollowUpEnd.HANDED_OFF, closed_at=T0),
        "FU-D": FollowUp("FU-D"),  # an attempt known, its opening not yet: not listed
    }
    out = state_json(State(followups=fus), T0)["followups"]
    assert out == [
        {
            "id": "FU-A",
            "call": "A",
            "owner": "CRT",
            "due_at": "2026-11-26T13:00:00+00:00",
            "status": "overdue",
        },
        {
            "id": "FU-B",
            "call": "B",
            "owner": "CRT",
            "due_at": "2026-11-26T15:00:00+00:00",
            "status": "open",
        },
        {
            "id": "FU-C",
            "call": "C",
            "owner": "CRT",
            "due_at": "2026-11-26T13:00:00+00:00",
            "status": "closed",
        },
    ]
