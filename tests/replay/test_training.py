"""Training mode: what really happened, the recommendation, and the debrief."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from console.domain.events import CallEscalated, Event, TeamAssigned
from console.domain.model import CallStatus
from console.domain.projection import fold
from console.domain.rules import calls_this_shift, recommend
from console.domain.synthetic import synthetic_shift
from console.replay.engine import ReplayEngine, ReplayError
from console.replay.shiftfile import open_shift_file, write_shift_file
from console.replay.training import Action, debrief, decision_at

START = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
EVENTS = synthetic_shift(1500, seed=13, start=START)
END = max(e.occurred_at for e in EVENTS) + timedelta(seconds=1)


def _pending_moments(events: Sequence[Event] = EVENTS) -> list[tuple[datetime, str]]:
    """(instant, call) pairs where a call is waiting, found by folding the raw list."""
    out = []
    for e in events:
        if isinstance(e, TeamAssigned | CallEscalated):
            at = e.occurred_at - timedelta(seconds=1)
            st = fold([x for x in events if x.occurred_at <= at])
            if st.calls.get(e.call_id) and st.calls[e.call_id].status is CallStatus.PENDING:
                out.append((at, e.call_id))
        if len(out) >= 6:
            break
    return out


def test_a_decision_shows_what_happened_and_the_recommendation() -> None:
    engine = ReplayEngine([], EVENTS, START, END)
    moments = _pending_moments()
    assert moments
    for at, cid in moments:
        d = decision_at(engine, 1, at, "who goes?", cid)
        # what happened: the first assignment or escalation of that call after the instant
        first = next(
            e
            for e in EVENTS
            if e.occurred_at > at
            and isinstance(e, TeamAssigned | CallEscalated)
            and e.call_id == cid
        )
        if isinstance(first, TeamAssigned):
            assert d.actual == Action("assign", team=first.team_id)
        else:
            assert d.actual == Action("escalate", target=first.target.value)
        assert d.actual_at == first.occurred_at
        # the recommendation: the rules, on the state folded from the start
        st = fold([e for e in EVENTS if e.occurred_at <= at])
        rec = recommend(
            st.calls[cid], st.teams.values(), st.positions, calls_this_shift(st.assignments.keys())
        )
        if not rec.screen.civilian_ok:
            assert d.recommended == Action("escalate", target=rec.screen.escalate_to[0].value)
        elif rec.best is not None:
            assert d.recommended == Action("assign", team=rec.best.team_id)
        else:
            assert d.recommended == Action("hold")
        assert [t for t, _ in d.team_options][: len(rec.ranked)] == [c.team_id for c in rec.ranked]


def test_choices_are_saved_and_debriefed_side_by_side(tmp_path: Path) -> None:
    out = tmp_path / "t.shift"
    write_shift_file(out, start=START, end=END, base=[], events=EVENTS, deidentify=True)
    sf = open_shift_file(out)
    engine = ReplayEngine.from_shift(sf.data)
    # the file's own times and call numbers (de-identification moved and renamed them)
    (at1, c1), (at2, c2) = _pending_moments(sf.data.events)[:2]
    d1 = sf.add_annotation("decision", at1, "first call", call_id=c1)
    d2 = sf.add_annotation("decision", at2, "second call", call_id=c2)
    real = decision_at(engine, d1.id, at1, "", c1)
    sf.record_choice(d1.id, "trainee", real.actual.to_dict())
    sf.record_choice(d2.id, "trainee", {"kind": "escalate", "target": "mobile_crisis"})
    sf2 = open_shift_file(out)
    rows = debrief(
        engine,
        [(a.id, a.at, a.title, a.call_id) for a in sf2.annotations("decision")],
        [(c.annotation_id, c.trainee, c.action) for c in sf2.choices()],
    )
    assert [r.title for r in rows] == ["first call", "second call"]
    assert rows[0].matches_actual and rows[0].choice == real.actual.describe()
    assert rows[1].choice == "escalate to mobile crisis"
    assert not rows[1].matches_actual  # the synthetic shift never escalates to mobile crisis
    assert all(r.actual and r.recommended for r in rows)


def test_bad_actions_are_refused() -> None:
    with pytest.raises(ReplayError):
        Action("assign")
    with pytest.raises(ReplayError):
        Action("escalate", target="army")
    with pytest.raises(ReplayError):
        Action("nap")


def test_a_choice_the_rules_refuse_is_marked_in_the_debrief_and_its_html() -> None:
    from console.domain.model import Call, CallStatus, CallType, SafetyFlag, Team, TeamStatus
    from console.domain.rules import recommend
    from console.replay.training import Action, DebriefRow, Decision, debrief_html

    at = datetime(2026, 11, 26, 22, 0, tzinfo=UTC)
    free = Team("CRT-1", TeamStatus.AVAILABLE, at, "CRT", at)
    busy = Team("CRT-2", TeamStatus.ON_SCENE, at, "CRT", at, call="HCR-9")
    call = Call("HCR-1", CallStatus.PENDING, 2, CallType.WELFARE_CHECK, at, at)

    def decision(c: Call) -> Decision:
        rec = recommend(c, [free, busy], {}, {})
        return Decision(1, at, "Who?", c, rec, Action("hold"), Action("none"), None, ())

    d = decision(call)
    assert d.refusal(Action("assign", team="CRT-1")) == ""
    assert d.refusal(Action("hold")) == ""
    why = d.refusal(Action("assign", team="CRT-2"))
    assert why.startswith("CRT-2 is not eligible:")
    flagged = decision(replace(call, safety_flags=(SafetyFlag.WEAPON,)))
    assert flagged.refusal(Action("assign", team="CRT-1")).startswith("no civilian team may take")
    assert flagged.refusal(Action("escalate", target="police")) == ""

    rows = [
        DebriefRow(at, "Who? <b>", "HCR-1", "T. Rainee", "send CRT-2", "send CRT-1", "send CRT-1",
                   False, False, why),
        DebriefRow(at, "Who?", "HCR-1", "A. Nother", "send CRT-1", "send CRT-1", "send CRT-1",
                   True, True, ""),
    ]  # fmt: skip
    page = debrief_html(rows)
    assert page.count('<tr class="refused">') == 1 and f"refused: {why}" in page
    assert "Who? &lt;b&gt;" in page and "<b>" not in page.split("<body>")[1].split("<h1>")[0]
    assert "1 the rules would have refused" in page
