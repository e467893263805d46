"""Capacity figures from dispatch: a unit's destination reference names a location, the
console's extension carries the figure; the console keeps it for a destination it knows."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import pytest

from console.config import parse_config
from console.domain.events import DestinationStatusReported
from console.domain.model import Team, TeamStatus
from console.domain.projection import fold
from console.store.read.views import state_json
from console.wire.eido import EidoError, UnitView, build_unit_eido, parse_eido
from console.wire.normalise import EXTENSION_KEY

T0 = datetime(2026, 12, 7, 19, 0, tzinfo=UTC)


def _doc(
    available: object, accepting: object = True, name: str = "Riverside Detox Intake (sample)"
) -> dict:
    team = Team(
        "CRT-3",
        TeamStatus.TRANSPORTING,
        T0,
        provider="CRT",
        status_since=T0,
        call="HCR-1",
        destination=name,
    )
    doc = build_unit_eido(UnitView(team))
    ref = doc["emergencyResourceComponent"][0]["unitDestinationReference"]
    ref_id = ref if isinstance(ref, str) else ref.get("$ref", ref)
    doc[EXTENSION_KEY]["destinations"] = {
        ref_id: {
            "available": available,
            "accepting": accepting,
            "at": (T0 - timedelta(minutes=5)).isoformat(),
        }
    }
    return doc


def test_a_figure_from_dispatch_reaches_the_known_destination() -> None:
    parsed = parse_eido(copy.deepcopy(_doc(2)), recorded_at=T0)
    [ev] = [e for e in parsed.events if isinstance(e, DestinationStatusReported)]
    r = ev.report
    assert (r.destination_id, r.available, r.accepting, r.source) == (
        "Riverside Detox Intake (sample)",
        2,
        True,
        "dispatch",
    )
    assert r.at == T0 - timedelta(minutes=5)
    # The same document again is the same fact.
    again = parse_eido(copy.deepcopy(_doc(2)), recorded_at=T0 + timedelta(seconds=3))
    assert {e.source_id for e in again.events} == {e.source_id for e in parsed.events}
    st = fold(parsed.events)
    ds = parse_config('[destinations]\nfile = "sample"\n').destinations
    assert ds.figures(st.destinations)["detox-riverside"].available == 2
    by_id = {d["id"]: d for d in state_json(st, destinations=ds, now=T0)["destinations"]}
    assert by_id["detox-riverside"]["capacity"] == 2
    assert by_id["detox-riverside"]["capacity_age_s"] == 300.0


def test_a_figure_for_an_unknown_place_is_not_shown() -> None:
    parsed = parse_eido(_doc(5, name="Somewhere Else"), recorded_at=T0)
    st = fold(parsed.events)
    ds = parse_config('[destinations]\nfile = "sample"\n').destinations
    assert "Somewhere Else" in st.destinations
    assert ds.figures(st.destinations) == {}


@pytest.mark.parametrize(
    ("available", "accepting", "message"),
    [(-1, True, "available: expected a whole number >= 0"), (3, "yes", "accepting: expected true")],
)
def test_a_bad_figure_refuses_the_document(
    available: object, accepting: object, message: str
) -> None:
    with pytest.raises(EidoError, match=message):
        parse_eido(_doc(available, accepting), recorded_at=T0)
