"""A de-identified shift file holds none of its source's names, phones or street addresses."""

from __future__ import annotations

import math
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from console.domain.commands import AddNote, EscalateCall
from console.domain.events import (
    CallReceived,
    CallUpdated,
    CommandRequested,
    Event,
    Note,
    NoteAdded,
    TeamPositionReported,
)
from console.domain.model import Call, CallStatus, CallType, EscalationTarget, Position
from console.domain.synthetic import synthetic_shift
from console.replay.deidentify import CELL_LAT, CELL_LON, age_band, generalize_address
from console.replay.engine import ReplayEngine
from console.replay.shiftfile import export_shift, open_shift_file
from console.store import Store

T0 = datetime(2026, 11, 26, 20, 0, tzinfo=UTC)

PEOPLE = [
    # (given, surname, phone, date of birth, street address)
    ("Jolene", "Marchetti", "860-555-0142", "1984-03-07", "1187 Wethersfield Avenue"),
    ("Dwayne", "Okafor", "(860) 555-0199", "1971-11-23", "43 Zion Street"),
    ("Priscilla", "Vandermolen", "+1 860 555 0123", "2009-06-30", "2210 Albany Avenue Apt 3"),
]


def _ev(kind: type[Event], sid: str, at: datetime, **kw: object) -> Event:
    return kind(source="dispatch", source_id=sid, occurred_at=at, recorded_at=at, **kw)


def _sensitive_shift() -> tuple[list[Event], dict[str, list[dict[str, str]]]]:
    events = list(synthetic_shift(600, seed=21, start=T0 - timedelta(hours=2)))
    persons: dict[str, list[dict[str, str]]] = {}
    for i, (given, sur, phone, dob, addr) in enumerate(PEOPLE):
        cid = f"INC-25-0{i}8317"
        at = T0 + timedelta(minutes=10 * i)
        call = Call(
            cid,
            CallStatus.PENDING,
            2,
            CallType.MENTAL_HEALTH,
            at,
            at,
            lat=41.7601 + i * 0.01,
            lon=-72.6802 - i * 0.01,
            address=addr,
            neighborhood="" if i == 1 else "Frog Hollow",
            summary=f"{given} {sur} at {addr}, callback {phone}",
            destination=f"{addr} (mother's home)",
        )
        events.append(_ev(CallReceived, f"call:{cid}:v1:{at.isoformat()}:{addr}", at, call=call))
        later = at + timedelta(minutes=3)
        events.append(
            _ev(
                CallUpdated,
                f"s{i}b",
                later,
                call=replace(
                    call,
                    status=CallStatus.ASSIGNED,
                    team="CRT-1",
                    teams=("CRT-1",),
                    updated_at=later,
                    version=2,
                    dispatched_at=later,
                ),
            )
        )
        events.append(
            _ev(
                NoteAdded,
                f"s{i}c",
                later,
                note=Note(
                    cid,
                    f"Spoke with {given} {sur}, DOB {dob}; sister {sur} at {phone}",
                    "Hank Strozier",
                    later,
                ),
            )
        )
        events.append(
            _ev(
                CommandRequested,
                f"s{i}d",
                later,
                command_id=f"cmd-{i}",
                command=EscalateCall(
                    call_id=cid,
                    target=EscalationTarget.EMS,
                    reason=f"{given} said {addr} has a dog",
                ),
                operator="Hank Strozier",
            )
        )
        events.append(
            _ev(
                CommandRequested,
                f"s{i}e",
                later,
                command_id=f"cmdn-{i}",
                command=AddNote(call_id=cid, text=f"call {given} back on {phone}"),
                operator="Hank Strozier",
            )
        )
        events.append(
            _ev(
                TeamPositionReported,
                f"s{i}f",
                later,
                team_id="CRT-1",
                position=Position(call.lat or 0, call.lon or 0, later),
            )
        )
        persons[cid] = [
            {
                "role": "Caller",
                "given_name": given,
                "surname": sur,
                "phone": phone,
                "dob": dob,
                "age": "41",
            },
        ]
    return events, persons


def _variants(s: str) -> set[str]:
    out = {s, s.lower(), s.upper()}
    digits = re.sub(r"\D", "", s)
    if len(digits) >= 7:
        out |= {digits, digits[-10:], digits[-7:]}
    return {v for v in out if len(v) >= 4}


def test_no_name_phone_or_address_survives_anywhere_in_the_file(tmp_path: Path) -> None:
    events, persons = _sensitive_shift()
    store = Store.open(f"sqlite:///{tmp_path / 'src.db'}")
    store.append(events)
    for cid, rows in persons.items():
        store.record_persons(cid, rows)
    start, end = T0 - timedelta(hours=1), T0 + timedelta(hours=3)
    plain = tmp_path / "plain.shift"
    clean = tmp_path / "clean.shift"
    export_shift(store, start, end, plain)
    export_shift(store, start, end, clean, deidentify=True)

    needles: set[str] = set()
    for i, (given, sur, phone, dob, addr) in enumerate(PEOPLE):
        for s in (
            given,
            sur,
            phone,
            dob,
            addr,
            f"{given} {sur}",
            "Hank Strozier",
            "Strozier",
            f"INC-25-0{i}8317",
        ):
            needles |= _variants(s)
        lat0, lon0 = 41.7601 + i * 0.01, -72.6802 - i * 0.01
        needles.add(f"{lat0:.6f},{lon0:.6f}")  # the exact point, as the feed writes it
    plain_bytes = plain.read_bytes()
    # The check itself must see them where they are: the plain export keeps them.
    assert any(n.encode() in plain_bytes for n in needles)
    data = clean.read_bytes()  # every byte: tables, indexes, free pages, the header
    for enc in ("utf-8", "utf-16-le", "utf-16-be"):
        found = [n for n in needles if n.encode(enc) in data]
        assert not found, f"identifying text left in the de-identified file ({enc}): {found}"
    for suffix in ("-journal", "-wal", "-shm"):
        assert not Path(f"{clean}{suffix}").exists()

    sf = open_shift_file(clean)
    assert sf.deidentified and sf.meta["deidentified"] == "1"
    final = ReplayEngine.from_shift(sf.data).state_at(end)
    # the sensitive calls are the ones with people recorded; their numbers are pseudonyms now
    pseudo = sorted(sf.persons, key=lambda k: final.calls[k].received_at)
    assert len(pseudo) == len(PEOPLE) and all(k.startswith("CALL-") for k in pseudo)
    for i, cid in enumerate(pseudo):
        c = final.calls[cid]
        assert c.summary == ""
        assert c.address == ("0 block of Zion Street" if i == 1 else "Frog Hollow")
        # the point moved, but stayed in its block cell
        lat0, lon0 = 41.7601 + i * 0.01, -72.6802 - i * 0.01
        assert c.lat is not None and c.lon is not None
        assert (c.lat, c.lon) != (lat0, lon0)
        assert math.floor(c.lat / CELL_LAT) == math.floor(lat0 / CELL_LAT)
        assert math.floor(c.lon / CELL_LON) == math.floor(lon0 / CELL_LON)
        # the whole story of the call survived under its pseudonym
        assert c.status is CallStatus.ASSIGNED and c.team == "CRT-1"
        assert [n.call_id for n in final.notes_for(cid)] == [cid]
    # the same call keeps the same point in every event
    points = {
        (e.call.lat, e.call.lon)
        for e in sf.data.events
        if isinstance(e, CallReceived | CallUpdated) and e.call.id == pseudo[0]
    }
    assert len(points) == 1
    assert sf.persons[pseudo[0]] == [{"role": "Caller", "name": "Person 1", "age_band": "40-49"}]
    ops = {e.operator for e in sf.data.events if isinstance(e, CommandRequested)}
    assert ops == {"Operator 1"}
    store.close()


@pytest.mark.parametrize(
    ("address", "neighborhood", "expected"),
    [
        ("1187 Wethersfield Avenue", "", "1100 block of Wethersfield Avenue"),
        ("1187 Wethersfield Avenue", "South End", "South End"),
        ("2210 Albany Avenue Apt 3", "", "2200 block of Albany Avenue"),
        ("12B Main St, Unit 4", "", "0 block of Main St"),
        ("corner of Main and Park", "", "(withheld)"),
        ("", "", ""),
    ],
)
def test_addresses_are_generalized(address: str, neighborhood: str, expected: str) -> None:
    assert generalize_address(address, neighborhood) == expected


def test_ages_become_bands() -> None:
    assert [age_band(a) for a in ("7", "41", "89", "90", "103", "x", "-1")] == [
        "0-9",
        "40-49",
        "80-89",
        "90+",
        "90+",
        "",
        "",
    ]
