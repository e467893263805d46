"""Which closed calls need an outcome, and what dispatch's disposition suggests."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from console.domain.model import Call, CallStatus, CallType, Disposition
from console.domain.outcomes import (
    DESTINATION_KIND_LABELS,
    DESTINATION_KINDS,
    calls_needing_outcome,
    needs_outcome,
    outcome_from_disposition,
)
from console.domain.program import CallOutcome, Outcome
from console.domain.projection import State

T0 = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)


def _call(cid: str, status: CallStatus, minutes: int = 0, **kw: object) -> Call:
    at = T0 + timedelta(minutes=minutes)
    c = Call(cid, status, 2, CallType.WELFARE_CHECK, T0, at)
    return replace(c, **kw)  # type: ignore[arg-type]


def test_closed_calls_a_team_was_sent_to_need_an_outcome_oldest_first() -> None:
    st = State()
    for c in (
        _call("A", CallStatus.CLEARED, 30, cleared_at=T0 + timedelta(minutes=30), team="CRT-1"),
        _call("B", CallStatus.CLEARED, 10, cleared_at=T0 + timedelta(minutes=10), teams=("T",)),
        _call("H", CallStatus.CLEARED, 8),  # cleared with no team: unserved, not an outcome
        _call("C", CallStatus.ESCALATED, 20, teams=("CRT-2",)),
        _call("D", CallStatus.ESCALATED, 5),  # no team went: an unserved reason, no outcome
        _call("E", CallStatus.CANCELLED, 5),
        _call("F", CallStatus.ON_SCENE, 5, team="CRT-3"),  # still open
        _call("G", CallStatus.CLEARED, 1, team="CRT-1"),
    ):
        st.calls[c.id] = c
    st.outcomes["G"] = CallOutcome("G", Outcome.REFERRED, "ann", T0)
    assert [c.id for c in calls_needing_outcome(st)] == ["B", "C", "A"]
    assert not needs_outcome(st.calls["G"], st.outcomes)
    # recording an outcome takes it off the list
    st.outcomes["B"] = CallOutcome("B", Outcome.RESOLVED_ON_SCENE, "ann", T0)
    assert [c.id for c in calls_needing_outcome(st)] == ["C", "A"]
    assert [c.id for c in calls_needing_outcome(st, [st.calls["A"], st.calls["D"]])] == ["A"]


@pytest.mark.parametrize(
    ("disposition", "outcome"),
    [
        (Disposition.RESOLVED_ON_SCENE.value, Outcome.RESOLVED_ON_SCENE),
        (Disposition.REFERRED.value, Outcome.REFERRED),
        (Disposition.REFUSED_SERVICES.value, Outcome.REFUSED_SERVICES),
        (Disposition.UNABLE_TO_LOCATE.value, Outcome.UNABLE_TO_LOCATE),
        (Disposition.HANDED_TO_POLICE.value, Outcome.POLICE_INVOLVED),
        ("apco-45", Outcome.TRANSPORTED_ED),
        ("apco-38", Outcome.UNABLE_TO_LOCATE),
        ("APCO-42", Outcome.REFUSED_SERVICES),
        (Disposition.TRANSPORTED.value, None),  # to what kind of place is not said
        (Disposition.CANCELLED.value, None),
        ("Settled by the neighbour", None),  # a CAD's own text
        (None, None),
        ("", None),
    ],
)
def test_the_outcome_a_disposition_suggests(
    disposition: str | None, outcome: Outcome | None
) -> None:
    assert outcome_from_disposition(disposition) is outcome


def test_destination_kinds_are_labelled_and_only_for_transports() -> None:
    assert set(DESTINATION_KINDS) == {Outcome.TRANSPORTED_COMMUNITY, Outcome.TRANSPORTED_ED}
    kinds = {k for ks in DESTINATION_KINDS.values() for k in ks}
    assert kinds == set(DESTINATION_KIND_LABELS)
