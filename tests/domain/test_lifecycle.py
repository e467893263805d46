from __future__ import annotations

import pytest

from console.domain.lifecycle import (
    TransitionError,
    check_call_transition,
    check_team_transition,
)
from console.domain.model import CallStatus as C
from console.domain.model import TeamStatus as T


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (C.PENDING, C.ASSIGNED),
        (C.PENDING, C.ON_SCENE),  # a feed may skip steps forward
        (C.ASSIGNED, C.EN_ROUTE),
        (C.EN_ROUTE, C.PENDING),  # team diverted: back in the queue
        (C.ON_SCENE, C.TRANSPORTING),
        (C.TRANSPORTING, C.CLEARED),
        (C.ON_SCENE, C.ESCALATED),
        (C.CLEARED, C.CLEARED),
    ],
)
def test_possible_call_steps(old: C, new: C) -> None:
    check_call_transition("HCR-1", old, new)


@pytest.mark.parametrize(
    ("old", "new", "words"),
    [
        (C.ON_SCENE, C.PENDING, "already on scene"),
        (C.ON_SCENE, C.ASSIGNED, "already on scene"),
        (C.CLEARED, C.ASSIGNED, "closed (cleared)"),
        (C.ESCALATED, C.PENDING, "escalated"),
        (C.CANCELLED, C.EN_ROUTE, "cancelled"),
        (C.TRANSPORTING, C.ON_SCENE, "transported"),
    ],
)
def test_impossible_call_steps_say_what_and_why(old: C, new: C, words: str) -> None:
    with pytest.raises(TransitionError) as err:
        check_call_transition("HCR-7", old, new)
    msg = str(err.value)
    assert "HCR-7" in msg and old.value in msg and new.value in msg and words in msg


def test_team_cannot_go_off_duty_mid_call() -> None:
    with pytest.raises(TransitionError, match="off duty while working a call"):
        check_team_transition("CRT-1", T.ON_SCENE, T.OFF_DUTY)
    with pytest.raises(TransitionError, match="come on duty first"):
        check_team_transition("CRT-1", T.OFF_DUTY, T.ON_SCENE)
    check_team_transition("CRT-1", T.ON_SCENE, T.TRANSPORTING)
    check_team_transition("CRT-1", T.AT_DESTINATION, T.AVAILABLE)
    check_team_transition("CRT-1", T.OUT_OF_SERVICE, T.AVAILABLE)
