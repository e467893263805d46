"""The tolerant EIDO reader, rule by rule, on documents written the way another CAD writes them
(tests/fixtures/eido/peer, see its README and FACTS.md) and on NENA's own sample."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from console.domain.events import CallReceived, CallUpdated, NoteAdded, TeamAssigned
from console.domain.model import CallStatus, CallType, Capabilities, Team, TeamStatus
from console.domain.projection import fold
from console.domain.rules import recommend, safety_screen
from console.replay.deidentify import Deidentifier
from console.store.read.views import state_json
from console.wire import registry as reg
from console.wire.eido import EidoError, document_key, parse_eido
from console.wire.normalise import normalise
from console.wire.pidf import PidfError, parse_location

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "eido"
INCIDENT = "26-004711"


def peer(name: str) -> dict[str, Any]:
    (path,) = (FIXTURES / "peer").glob(f"{name}_*.json")
    doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return doc


def nena() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(
        (FIXTURES / "nena" / "Sample call transfer EIDO.json").read_text(encoding="utf-8")
    )
    return doc


ALL_PEER = sorted(p.name.split("_", 1)[0] for p in (FIXTURES / "peer").glob("*.json"))


@pytest.mark.parametrize("name", ALL_PEER)
def test_every_peer_document_is_read_without_refusal(name: str) -> None:
    parsed = parse_eido(peer(name))
    assert parsed.events


# -- property names, case-insensitively --------------------------------------------------------


def test_property_names_are_matched_case_insensitively() -> None:
    doc = peer("01")
    assert "lastUpdateTimestamp" in doc and "lastUpdateTimeStamp" not in doc
    call = parse_eido(doc).call
    assert call is not None and call.id == INCIDENT
    assert call.updated_at.isoformat() == "2026-03-14T09:12:05.123450-04:00"
    shouted = json.loads(
        json.dumps(doc).replace(
            '"incidentTypeCommonRegistryText"', '"INCIDENTTYPECOMMONREGISTRYTEXT"'
        )
    )
    again = parse_eido(shouted).call
    assert again is not None and again.type is CallType.WELFARE_CHECK


def test_the_duplicate_key_ignores_the_case_of_property_names() -> None:
    doc = peer("01")
    renamed = {
        ("lastUpdateTimeStamp" if k == "lastUpdateTimestamp" else k): v for k, v in doc.items()
    }
    assert document_key(doc).split("|")[:2] == document_key(renamed).split("|")[:2]
    assert document_key(doc).split("|")[1] == doc["lastUpdateTimestamp"]
    assert document_key(doc) == document_key(copy.deepcopy(doc))


def test_a_full_state_resend_with_the_same_id_and_new_content_is_a_new_document() -> None:
    first = peer("03")
    resend = copy.deepcopy(first)
    resend["emergencyResourceComponent"][0]["eta"] = "2026-03-14T09:30:00-04:00"
    assert first["$id"] == resend["$id"]
    assert document_key(first) != document_key(resend)
    a = parse_eido(first).events
    b = parse_eido(resend).events
    assert a and b


# -- single values and arrays ---------------------------------------------------------------------


def test_a_single_value_is_read_where_the_schema_has_an_array_and_the_other_way_round() -> None:
    doc = peer("06")
    assert isinstance(doc["agencyComponent"], dict)
    (team,) = parse_eido(doc).teams
    assert team.id == "HCR-07" and team.status is TeamStatus.AT_DESTINATION
    # a one-element array where the schema has one value
    doc2 = peer("02")
    unit = doc2["emergencyResourceComponent"][0]
    unit["primaryUnitStatusRegistryText"] = [unit["primaryUnitStatusRegistryText"]]
    doc2["incidentComponent"]["incidentTypeCommonRegistryText"] = ["WELFARE"]
    parsed = parse_eido(doc2)
    assert parsed.call is not None and parsed.call.type is CallType.WELFARE_CHECK
    assert parsed.teams[0].status is TeamStatus.ASSIGNED
    norm = normalise(peer("06"))
    assert isinstance(norm["agencyComponent"], list)


# -- prologues ------------------------------------------------------------------------------------


def test_components_without_a_prologue_take_the_documents() -> None:
    doc = peer("07")
    parsed = parse_eido(doc)
    call = parsed.call
    assert call is not None and call.id == INCIDENT and call.lat == pytest.approx(41.76467)
    (note,) = [e for e in parsed.events if isinstance(e, NoteAdded)]
    assert note.note.text == "Repeat caller, known to program."
    assert note.occurred_at == call.updated_at  # the document's time
    # the same note re-sent gets the same identity (built from its content)
    assert (
        note.source_id
        == next(e for e in parse_eido(peer("07")).events if isinstance(e, NoteAdded)).source_id
    )


def test_a_unit_without_id_is_identified_by_its_name() -> None:
    parsed = parse_eido(peer("02"))
    (team,) = parsed.teams
    assert team.id == "HCR-12" and team.name == "HCR-12" and team.call == INCIDENT
    (assign,) = [e for e in parsed.events if isinstance(e, TeamAssigned)]
    assert (assign.call_id, assign.team_id) == (INCIDENT, "HCR-12")
    two = parse_eido(peer("12")).teams
    assert [t.id for t in two] == ["HCR-12", "HCR-03"]


# -- priority ------------------------------------------------------------------------------------


def test_priority_zero_is_the_configured_default_and_not_given() -> None:
    doc = peer("09")
    assert doc["incidentComponent"]["incidentCommonPriorityNumber"] == 0
    call = parse_eido(doc).call
    assert call is not None and call.priority == reg.DEFAULT_PRIORITY and not call.priority_given
    call = parse_eido(doc, codes=reg.SiteCodes.of({}, default_priority=1)).call
    assert call is not None and call.priority == 1 and not call.priority_given
    assert state_json(fold(parse_eido(doc).events))["calls"][0]["priority_given"] is False


# -- PIDF-LO ---------------------------------------------------------------------------------------


def test_pidf_circle_gives_its_centre() -> None:
    call = parse_eido(peer("01")).call
    assert call is not None
    assert (call.lat, call.lon) == (pytest.approx(41.763312), pytest.approx(-72.673054))


def test_pidf_point_in_a_default_namespace() -> None:
    parsed = parse_eido(peer("03"))
    pos = next(e for e in parsed.events if type(e).__name__ == "TeamPositionReported")
    assert (pos.position.lat, pos.position.lon) == (  # type: ignore[attr-defined]
        pytest.approx(41.75802),
        pytest.approx(-72.68553),
    )


def test_pidf_polygon_with_another_prefix_gives_its_centroid() -> None:
    call = parse_eido(peer("11")).call
    assert call is not None and call.lat is not None and call.lon is not None
    assert 41.76 < call.lat < 41.775 and -72.685 < call.lon < -72.67


def test_pidf_civic_address_is_the_display_address_without_a_description() -> None:
    loc = nena()["locationComponent"][0]["locationByValue"]
    assert parse_location(loc).civic == "42 W Cellular Street, Wilmington DE"
    doc = peer("01")
    (inc_loc,) = doc["locationComponent"]
    del inc_loc["locationDescriptionText"]
    inc_loc["locationByValue"] = loc
    call = parse_eido(doc).call
    assert call is not None and call.address == "42 W Cellular Street, Wilmington DE"
    assert call.lat is None


@pytest.mark.parametrize(
    "text",
    [
        '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
        "<presence>" + " " * 70_000 + "</presence>",
        "not xml at all",
        '<gml:Point xmlns:gml="http://www.opengis.net/gml"><gml:pos>91 10</gml:pos></gml:Point>',
    ],
)
def test_pidf_refuses_entities_oversize_non_xml_and_off_earth(text: str) -> None:
    with pytest.raises(PidfError):
        parse_location(text)
    doc = peer("01")
    doc["locationComponent"][0]["locationByValue"] = text
    with pytest.raises(EidoError, match="locationByValue"):
        parse_eido(doc)


# -- team and times from standard fields ----------------------------------------------------------


def test_team_and_times_come_from_standard_fields_without_the_extension() -> None:
    c2 = parse_eido(peer("02")).call
    c3 = parse_eido(peer("03")).call
    c4 = parse_eido(peer("04")).call
    c5 = parse_eido(peer("05")).call
    assert c2 and c3 and c4 and c5
    assert c2.team == "HCR-12" and c2.teams == ("HCR-12",) and c2.dispatched_at is not None
    assert c2.dispatched_at.isoformat() == "2026-03-14T09:15:30.500010-04:00"
    assert c3.status is CallStatus.EN_ROUTE and c3.enroute_at == c3.updated_at
    assert c4.status is CallStatus.ON_SCENE and c4.onscene_at == c4.updated_at
    assert c5.status is CallStatus.CLEARED and c5.cleared_at == c5.updated_at
    assert c5.teams == ("HCR-12",) and c5.team is None


def test_the_lifecycle_from_another_cad_folds_to_the_closed_call() -> None:
    events = [e for n in ("01", "02", "03", "04", "05") for e in parse_eido(peer(n)).events]
    state = fold(events)
    call = state.calls[INCIDENT]
    assert call.status is CallStatus.CLEARED and call.disposition is not None
    assert state.teams["HCR-12"].status is TeamStatus.AVAILABLE
    kinds = [type(e) for e in events if isinstance(e, CallReceived | CallUpdated)]
    assert kinds[0] is CallReceived and set(kinds[1:]) == {CallUpdated}


# -- unknown codes: kept, visible, screened ------------------------------------------------------


def test_an_unknown_location_type_is_kept_as_a_code_and_a_site_table_can_map_it() -> None:
    doc = peer("08")
    call = parse_eido(doc).call
    assert call is not None and ("location_type", "XST") in call.codes
    site = reg.SiteCodes.of({"location_type": {"XST": "CurrentIncident"}})
    mapped = parse_eido(doc, codes=site).call
    assert mapped is not None and mapped.codes == ()


def test_unknown_codes_are_visible_in_state_json() -> None:
    doc = peer("12")
    doc["incidentComponent"]["incidentTypeCommonRegistryText"] = "ABC"
    doc["incidentComponent"]["incidentTypeInternalCode"] = "ABC"
    doc["incidentComponent"]["incidentStatusCommonRegistryText"] = ["XYZ"]
    doc["emergencyResourceComponent"][0]["primaryUnitStatusRegistryText"] = "Lunch"
    doc["locationComponent"][0]["locationTypeDescriptionRegistryText"] = "XST"
    out = state_json(fold(parse_eido(doc).events))
    (call,) = out["calls"]
    assert call["status"] == "unknown:XYZ" and call["type"] == "unknown:ABC"
    assert ["location_type", "XST"] in call["codes"]
    teams = {t["id"]: t for t in out["teams"]}
    assert teams["HCR-12"]["status"] == "unknown:Lunch"
    assert ["resource_attribute", "EMT"] in teams["HCR-12"]["codes"]


def test_a_site_table_maps_the_cads_own_type_and_status_codes() -> None:
    doc = peer("09")
    doc["incidentComponent"]["incidentTypeCommonRegistryText"] = "PSYCH"
    doc["incidentComponent"]["incidentStatusCommonRegistryText"] = ["HOLD"]
    plain = parse_eido(doc).call
    assert plain is not None and plain.type is CallType.UNRECOGNISED
    site = reg.SiteCodes.of(
        {"call_type": {"PSYCH": "mental_health"}, "call_status": {"hold": "pending"}}
    )
    call = parse_eido(doc, codes=site).call
    assert call is not None and call.type is CallType.MENTAL_HEALTH
    assert call.status is CallStatus.PENDING and call.status_code == ""
    with pytest.raises(ValueError, match=r"codes\.call_type\.PSYCH"):
        reg.SiteCodes.of({"call_type": {"PSYCH": "psychic"}})


def test_an_unrecognised_type_is_never_auto_eligible_for_a_civilian_team() -> None:
    doc = peer("09")
    doc["incidentComponent"]["incidentTypeCommonRegistryText"] = "ABC"
    call = parse_eido(doc).call
    assert call is not None and call.type is CallType.UNRECOGNISED and call.source_type == "ABC"
    screen = safety_screen(call)
    assert not screen.civilian_ok and screen.needs_screening
    assert "ABC" in screen.message and "screened" in screen.message
    team = Team("HCR-1", TeamStatus.AVAILABLE, call.updated_at, capabilities=Capabilities())
    rec = recommend(call, [team], {}, {})
    assert rec.best is None
    # a caution nobody mapped is screened the same way
    known = parse_eido(peer("09")).call
    assert known is not None and safety_screen(known).civilian_ok
    cautious = replace(known, codes=(("caution", "DOG"),))
    assert not safety_screen(cautious).civilian_ok


# -- NENA's own sample -----------------------------------------------------------------------------


def test_nenas_call_transfer_sample_is_read_and_carries_nothing_to_track() -> None:
    parsed = parse_eido(nena())
    assert parsed.events == [] and parsed.call is None and parsed.teams == []
    assert parsed.doc_id == nena()["$id"]


# -- the callback number --------------------------------------------------------------------------


def test_the_callback_number_is_kept_with_the_persons_only() -> None:
    doc = peer("10")
    parsed = parse_eido(doc)
    assert parsed.persons and parsed.persons[0]["callback"] == "+18605550199"
    assert "8605550199" not in repr(parsed.events)
    assert "8605550199" not in json.dumps(state_json(fold(parsed.events)))
    assert "8605550199" not in json.dumps(Deidentifier().persons(parsed.persons))


def test_the_callback_number_is_stored_with_the_persons_for_the_ui(sqlite_url: str) -> None:
    from console.store import Store

    parsed = parse_eido(peer("10"))
    assert parsed.call is not None
    store = Store.open(sqlite_url, create=True)
    store.append(parsed.events)
    store.record_persons(parsed.call.id, parsed.persons)
    assert store.persons(parsed.call.id)[0]["callback"] == "+18605550199"
    assert all("8605550199" not in repr(e) for e in store.events())
    store.close()


def test_stage_times_survive_whole_incident_resends_in_any_order() -> None:
    """A CAD without the console's extension states each stage only in the document that
    announces it: the call keeps every stage time it passed, whatever order the documents
    arrive in."""
    import random

    from console.domain.projection import fold

    events = [e for n in ("01", "02", "03", "04", "05") for e in parse_eido(peer(n)).events]
    rng = random.Random(5)
    expected = None
    for _ in range(40):
        order = list(events)
        rng.shuffle(order)
        call = fold(order).calls[INCIDENT]
        stages = (call.dispatched_at, call.enroute_at, call.onscene_at, call.cleared_at)
        assert None not in stages, stages
        assert expected is None or stages == expected
        expected = stages
    assert expected is not None and list(expected) == sorted(expected)
