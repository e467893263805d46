"""EIDO documents: every one the simulator emits is valid NENA EIDO JSON and reads back exactly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

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
from console.sim.simulator import DispatchSimulator
from console.sim.world import GeneratedShift, World, load_roster
from console.wire import registry as reg
from console.wire.eido import (
    EidoError,
    Escalation,
    Person,
    UnitView,
    build_incident_eido,
    build_unit_eido,
    escalation_request_of,
    parse_eido,
)

from .eido_schema import eido_validator, errors

T0 = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)


def shift_documents(hours: float, rate: float, seed: int) -> list[tuple[str, Any, dict[str, Any]]]:
    """(kind, snapshot, EIDO) for every change of a generated shift, as the feed emits them."""
    world = World(T0, seed=seed)
    GeneratedShift(world, load_roster(), rate_per_hour=rate, duration_h=hours)
    sim = DispatchSimulator(world)
    out: list[tuple[str, Any, dict[str, Any]]] = []
    t = T0
    while not world.finished:
        t += timedelta(seconds=20)
        world.advance_to(t)
        out.extend((kind, snap, doc) for kind, _, snap, doc in sim.collect_items())
    return out


@pytest.fixture(scope="module")
def documents() -> list[tuple[str, Any, dict[str, Any]]]:
    return shift_documents(hours=14, rate=3.0, seed=7)


def test_a_shift_emits_every_kind_of_document(
    documents: list[tuple[str, Any, dict[str, Any]]],
) -> None:
    statuses = {
        d["incidentComponent"]["incidentStatusInternalText"][0]
        for _, _, d in documents
        if "incidentComponent" in d
    }
    assert {"pending", "assigned", "en_route", "on_scene", "cleared"} <= statuses
    assert any("cautionComponent" in d for _, _, d in documents), "no unsafe call in the shift"
    assert any("personComponent" in d for _, _, d in documents)
    assert any(
        "unitLocationReference" in u
        for _, _, d in documents
        for u in d.get("emergencyResourceComponent", [])
    )


def test_every_emitted_eido_validates_against_the_nena_schema(
    documents: list[tuple[str, Any, dict[str, Any]]],
) -> None:
    v = eido_validator()
    bad = [(d["$id"], errs) for _, _, d in documents if (errs := errors(v, d))]
    assert not bad, f"{len(bad)} of {len(documents)} documents invalid, first: {bad[0]}"


def test_every_emitted_eido_reads_back_as_the_record_it_was_built_from(
    documents: list[tuple[str, Any, dict[str, Any]]],
) -> None:
    for kind, snap, doc in documents:
        parsed = parse_eido(doc)
        if kind == "call":
            assert parsed.call == snap["call"]
            for u in snap["units"]:
                got = next(t for t in parsed.teams if t.id == u.team.id)
                assert got == u.team
        else:
            assert parsed.teams == [snap.team]
            kinds = {type(e).__name__ for e in parsed.events}
            assert "TeamStatusChanged" in kinds
            if snap.position is not None:
                pos = next(e for e in parsed.events if type(e).__name__ == "TeamPositionReported")
                assert pos.position == snap.position  # type: ignore[attr-defined]


def test_source_ids_are_stable_across_redelivery_and_distinct_across_facts(
    documents: list[tuple[str, Any, dict[str, Any]]],
) -> None:
    later = datetime(2030, 1, 1, tzinfo=UTC)
    seen: dict[str, Any] = {}
    for _, _, doc in documents[:300]:
        a = parse_eido(doc)
        b = parse_eido(doc, recorded_at=later)
        assert [e.source_id for e in a.events] == [e.source_id for e in b.events]
        for e in a.events:
            prev = seen.setdefault(e.source_id, e)
            # the same id always means the same fact
            assert type(prev) is type(e) and prev.occurred_at == e.occurred_at


def _call(**kw: Any) -> Call:
    base = dict(
        id="HCR-000123",
        status=CallStatus.ESCALATED,
        priority=1,
        type=CallType.MENTAL_HEALTH,
        received_at=T0,
        updated_at=T0 + timedelta(minutes=12),
        dispatched_at=T0 + timedelta(minutes=1),
        enroute_at=T0 + timedelta(minutes=2),
        onscene_at=T0 + timedelta(minutes=9),
        cleared_at=T0 + timedelta(minutes=12),
        team="CRT-3",
        teams=("CRT-1", "CRT-3"),
        safety_flags=(SafetyFlag.VIOLENCE,),
        lat=41.76,
        lon=-72.68,
        address="12 Main St",
        neighborhood="Downtown",
        disposition="handed_to_police",
        escalated_to=EscalationTarget.POLICE,
        juvenile=True,
        language="es",
        transport_needed=True,
        transport_seats=2,
        destination="Hartford Hospital",
        summary="adult son <in crisis> & scared",
        source_type="MTLV",
        version=7,
    )
    base.update(kw)
    return Call(**base)  # type: ignore[arg-type]


def test_a_fully_populated_incident_round_trips_and_validates() -> None:
    call = _call()
    team = Team(
        "CRT-3",
        TeamStatus.TRANSPORTING,
        T0 + timedelta(minutes=11),
        provider="CRT",
        status_since=T0 + timedelta(minutes=10),
        call=call.id,
        capabilities=Capabilities(
            narcan=True,
            vehicle_seats=5,
            juvenile_certified=True,
            languages=("en", "es"),
            peer_specialist=True,
        ),
        last_checkin=T0 + timedelta(minutes=9),
        destination="Hartford Hospital",
        name="Crisis team 3",
    )
    unit = UnitView(
        team, Position(41.75, -72.67, T0 + timedelta(minutes=11)), T0 + timedelta(minutes=1), T0
    )
    doc = build_incident_eido(
        call,
        [unit],
        persons=[
            Person("Caller", "Ana", "Rivera", "44", "860-555-0101"),
            Person("Patient", age="17"),
        ],
        escalation=Escalation(EscalationTarget.POLICE, T0 + timedelta(minutes=12), "weapon seen"),
    )
    assert errors(eido_validator(), doc) == []
    p = parse_eido(doc)
    assert p.call == call
    assert p.teams == [team]
    assert p.persons[0] == {
        "role": "Caller",
        "given_name": "Ana",
        "surname": "Rivera",
        "age": "44",
        "phone": "860-555-0101",
    }
    kinds = [type(e).__name__ for e in p.events]
    assert kinds.count("CallEscalated") == 1 and "AlertRaised" in kinds and "TeamAssigned" in kinds
    # personal data stays out of the events
    assert "Rivera" not in repr(p.events)


@pytest.mark.parametrize("status", list(CallStatus))
def test_each_call_status_round_trips(status: CallStatus) -> None:
    esc = status is CallStatus.ESCALATED
    call = _call(status=status, escalated_to=EscalationTarget.EMS if esc else None)
    doc = build_incident_eido(
        call, escalation=Escalation(EscalationTarget.EMS, call.updated_at) if esc else None
    )
    assert parse_eido(doc).call == call


@pytest.mark.parametrize("status", list(TeamStatus))
def test_each_team_status_round_trips(status: TeamStatus) -> None:
    team = Team(
        "YRT-1", status, T0, provider="YRT", capabilities=Capabilities(juvenile_certified=True)
    )
    doc = build_unit_eido(UnitView(team))
    assert errors(eido_validator(), doc) == []
    assert parse_eido(doc).teams == [team]


@pytest.mark.parametrize("ctype", [t for t in CallType if t is not CallType.UNRECOGNISED])
def test_each_call_type_round_trips(ctype: CallType) -> None:
    call = _call(
        type=ctype, source_type="", safety_flags=(), status=CallStatus.PENDING, escalated_to=None
    )
    doc = build_incident_eido(call)
    assert (
        doc["incidentComponent"]["incidentTypeCommonRegistryText"] == reg.CALL_TYPE_TO_EIDO[ctype]
    )
    got = parse_eido(doc).call
    assert got is not None and got.type is ctype and got.source_type == reg.CALL_TYPE_TO_EIDO[ctype]


def test_a_never_civilian_type_carries_its_safety_flag_even_without_a_caution() -> None:
    call = _call(
        source_type="WEAPON", safety_flags=(), status=CallStatus.PENDING, escalated_to=None
    )
    doc = build_incident_eido(call)
    got = parse_eido(doc).call
    assert got is not None and got.safety_flags == (SafetyFlag.WEAPON,)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("incidentComponent", "lastUpdateTimeStamp"), "yesterday"),
        (("eidoVersion",), "2.0"),
        (("incidentComponent", "incidentStatusCommonRegistryText"), [7]),
        (("incidentComponent", "$id"), 12),
    ],
)
def test_unreadable_documents_are_refused_with_the_field_named(
    path: tuple[str, ...], value: Any
) -> None:
    doc = build_incident_eido(_call(status=CallStatus.PENDING, escalated_to=None))
    target: Any = doc
    for k in path[:-1]:
        target = target[k]
    target[path[-1]] = value
    with pytest.raises(EidoError) as exc:
        parse_eido(doc)
    assert path[-1] in str(exc.value) or str(value) in str(exc.value)


def test_an_unknown_incident_type_is_unrecognised_with_the_code_kept() -> None:
    doc = build_incident_eido(_call(status=CallStatus.PENDING, escalated_to=None))
    doc["incidentComponent"]["incidentTypeCommonRegistryText"] = "XYZZY"
    doc["incidentComponent"]["incidentTypeInternalCode"] = "7Q"
    got = parse_eido(doc).call
    assert got is not None and got.type is CallType.UNRECOGNISED and got.source_type == "XYZZY"


def test_an_unknown_incident_status_is_unknown_with_the_code_kept() -> None:
    doc = build_incident_eido(_call(status=CallStatus.PENDING, escalated_to=None))
    doc["incidentComponent"]["incidentStatusCommonRegistryText"] = ["Sleeping"]
    got = parse_eido(doc).call
    assert got is not None and got.status is CallStatus.UNKNOWN and got.status_code == "Sleeping"


@pytest.mark.parametrize("number", [0, 9, None, "1", True])
def test_a_missing_or_odd_priority_is_the_default_and_marked_not_given(number: Any) -> None:
    doc = build_incident_eido(_call(status=CallStatus.PENDING, escalated_to=None))
    if number is None:
        del doc["incidentComponent"]["incidentCommonPriorityNumber"]
    else:
        doc["incidentComponent"]["incidentCommonPriorityNumber"] = number
    got = parse_eido(doc).call
    assert got is not None and got.priority == reg.DEFAULT_PRIORITY and not got.priority_given
    site = reg.SiteCodes.of({}, default_priority=3)
    got = parse_eido(doc, codes=site).call
    assert got is not None and got.priority == 3 and not got.priority_given


def test_unknown_unit_status_is_unknown_with_the_code_kept() -> None:
    doc = build_unit_eido(UnitView(Team("CRT-1", TeamStatus.AVAILABLE, T0)))
    doc["emergencyResourceComponent"][0]["primaryUnitStatusRegistryText"] = "Snoozing"
    (team,) = parse_eido(doc).teams
    assert team.status is TeamStatus.UNKNOWN and team.status_code == "Snoozing"


def test_unknown_statuses_and_types_round_trip_with_their_codes() -> None:
    call = _call(
        status=CallStatus.UNKNOWN,
        status_code="HOLD",
        type=CallType.UNRECOGNISED,
        source_type="ABC",
        priority_given=False,
        priority=reg.DEFAULT_PRIORITY,
        codes=(("location_type", "XST"), ("caution", "DOG")),
        escalated_to=None,
    )
    doc = build_incident_eido(call)
    assert errors(eido_validator(), doc) == []
    assert doc["incidentComponent"]["incidentCommonPriorityNumber"] == 0
    assert parse_eido(doc).call == call
    team = Team("YRT-1", TeamStatus.UNKNOWN, T0, status_code="LUNCH", codes=(("x", "y"),))
    doc = build_unit_eido(UnitView(team))
    assert errors(eido_validator(), doc) == []
    assert parse_eido(doc).teams == [team]


def test_the_escalation_request_eido_validates_and_names_the_target() -> None:
    doc = build_incident_eido(
        _call(status=CallStatus.ON_SCENE, escalated_to=None),
        escalation_request={
            "target": "mobile_crisis",
            "urgency": "immediate",
            "reason": "needs evaluation",
        },
    )
    assert errors(eido_validator(), doc) == []
    assert escalation_request_of(doc) == (
        "HCR-000123",
        EscalationTarget.MOBILE_CRISIS,
        "immediate",
        "needs evaluation",
    )


def test_the_schema_check_itself_catches_a_broken_document() -> None:
    doc = build_unit_eido(UnitView(Team("CRT-1", TeamStatus.AVAILABLE, T0)))
    del doc["agencyComponent"]
    doc["emergencyResourceComponent"][0]["secondaryUnitStatusRegistryText"] = "InService"
    errs = errors(eido_validator(), doc)
    assert any("agencyComponent" in e for e in errs)
    assert any("secondaryUnitStatusRegistryText" in e for e in errs)
