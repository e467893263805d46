"""Which closed calls still need an outcome, and the outcome dispatch's disposition suggests.

A call a team was sent to needs the program's outcome once it closes (see :class:`~console.domain.program.Outcome`); it stays in the "needs outcome" list
until someone records one. An eligible call that closed with no team gets an unserved reason
instead (:mod:`console.domain.unserved`), not an outcome.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from .model import Call, Disposition
from .program import Outcome
from .projection import State
from .unserved import closed_at

DESTINATION_KINDS: dict[Outcome, tuple[str, ...]] = {
    Outcome.TRANSPORTED_COMMUNITY: (
        "crisis_stabilization",
        "sobering_center",
        "detox",
        "shelter",
        "respite",
        "other_community",
    ),
    Outcome.TRANSPORTED_ED: ("emergency_department",),
}
"""The kinds of destination a transport records, per transport outcome."""

DESTINATION_KIND_LABELS: dict[str, str] = {
    "crisis_stabilization": "Crisis stabilization unit",
    "sobering_center": "Sobering center",
    "detox": "Detox / withdrawal management",
    "shelter": "Shelter",
    "respite": "Peer respite",
    "other_community": "Other community destination",
    "emergency_department": "Emergency department",
}

_FROM_DISPOSITION: dict[str, Outcome] = {
    Disposition.RESOLVED_ON_SCENE: Outcome.RESOLVED_ON_SCENE,
    Disposition.REFERRED: Outcome.REFERRED,
    Disposition.REFUSED_SERVICES: Outcome.REFUSED_SERVICES,
    Disposition.UNABLE_TO_LOCATE: Outcome.UNABLE_TO_LOCATE,
    Disposition.HANDED_TO_POLICE: Outcome.POLICE_INVOLVED,
    # APCO ANS 1.111.2 disposition codes a CAD may send without the console's words
    "apco-14": Outcome.UNABLE_TO_LOCATE,  # gone on arrival / unable to locate
    "apco-15": Outcome.REFERRED,  # referred to partner agency
    "apco-18": Outcome.RESOLVED_ON_SCENE,  # settled by contact
    "apco-38": Outcome.UNABLE_TO_LOCATE,  # no patient found
    "apco-41": Outcome.RESOLVED_ON_SCENE,  # evaluated, no treatment / transport required
    "apco-42": Outcome.REFUSED_SERVICES,  # refused evaluation / care
    "apco-43": Outcome.RESOLVED_ON_SCENE,  # treated, released without transport
    "apco-45": Outcome.TRANSPORTED_ED,  # treated, transported by EMS
}
"""Dispatch's disposition -> the program's outcome, where one says the other. A transport
(APCO 16) does not say to what kind of place, so it suggests nothing."""


def outcome_from_disposition(disposition: str | None) -> Outcome | None:
    """The outcome dispatch's disposition suggests (None: it says nothing certain)."""
    if not disposition:
        return None
    return _FROM_DISPOSITION.get(disposition.strip().lower())


def needs_outcome(call: Call, outcomes: Mapping[str, object]) -> bool:
    """Closed (cleared by dispatch or the console, escalated, cancelled) after a team was sent,
    with no outcome recorded (``outcomes``: call id -> outcome, e.g. the state's). A call no
    team went to needs an unserved reason instead."""
    if call.is_open or call.id in outcomes:
        return False
    return bool(call.teams) or call.team is not None


def calls_needing_outcome(state: State, calls: Iterable[Call] | None = None) -> list[Call]:
    """The calls (default: all the state holds) that need an outcome, oldest close first."""
    chosen = [
        c
        for c in (state.calls.values() if calls is None else calls)
        if needs_outcome(c, state.outcomes)
    ]
    return sorted(chosen, key=lambda c: (closed_at(c), c.id))
