"""A de-identified shift file holds none of its source's names, phones, e-mail addresses, dates
of birth, street addresses or calendar dates, hides every call among k, and still replays."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

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
from console.replay.deidentify import K_DEFAULT
from console.replay.engine import ReplayEngine
from console.replay.shiftfile import export_shift, open_for_replay
from console.replay.signing import public_key_path
from console.store import Store

T0 = datetime(2026, 11, 26, 20, 0, tzinfo=UTC)

PEOPLE = [
    # (given, surname, phone, e-mail, date of birth, street address)
    (
        "Jolene",
        "Marchetti",
        "860-555-0142",
        "jolene.marchetti@example.org",
        "1984-03-07",
        "1187 Wethersfield Avenue",
    ),
    ("Dwayne", "Okafor", "(860) 555-0199", "dokafor77@example.net", "1971-11-23", "43 Zion Street"),
    (
        "Priscilla",
        "Vandermolen",
        "+1 860 555 0123",
        "pvdm@example.com",
        "2009-06-30",
        "2210 Albany Avenue Apt 3",
    ),
]
CALLS = [0, 1, 2, 0]
"""Whose call each sensitive call is: the first person calls twice."""


def _ev(kind: type[Event], sid: str, at: datetime, **kw: object) -> Event:
    return kind(source="dispatch", source_id=sid, occurred_at=at, recorded_at=at, **kw)


def _sensitive_shift() -> tuple[list[Event], dict[str, list[dict[str, str]]]]:
    events = list(synthetic_shift(600, seed=21, start=T0 - timedelta(hours=2)))
    persons: dict[str, list[dict[str, str]]] = {}
    for i, who in enumerate(CALLS):
        given, sur, phone, email, dob, addr = PEOPLE[who]
        cid = f"INC-25-0{i}8317"
        at = T0 + timedelta(minutes=10 * i)
        call = Call(
            cid,
            CallStatus.PENDING,
            2,
            CallType.MENTAL_HEALTH,
            at,
            at,
            lat=41.7601 + who * 0.01,
            lon=-72.6802 - who * 0.01,
            address=f"{addr}, Hartford CT 06114",
            neighborhood="" if who == 1 else "Frog Hollow",
            summary=f"{given} {sur} (DOB {dob}) at {addr}, callback {phone}, {email}",
            destination=f"{addr} (mother's home)",
            language=f"Spanish - ask for {given} {sur} at {phone}",
            source_type=f"MNTL {sur}",
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
                    f"Spoke with {given} {sur}, DOB {dob}; sister at {phone}, {email}",
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
                "email": email,
                "dob": dob,
                "address": addr,
                "language": f"Spanish ({given})",
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


def _date_forms(d: date) -> set[str]:
    return {
        d.isoformat(),
        d.strftime("%Y%m%d"),
        d.strftime("%m/%d/%Y"),
        d.strftime("%Y/%m/%d"),
        d.strftime("%d.%m.%Y"),
        d.strftime("%b %d %Y"),
        d.strftime("%d %b %Y"),
    }


def test_a_de_identified_export_holds_nothing_identifying_and_still_replays(
    tmp_path: Path,
) -> None:
    events, persons = _sensitive_shift()
    store = Store.open(f"sqlite:///{tmp_path / 'src.db'}")
    store.append(events)
    for cid, rows in persons.items():
        store.record_persons(cid, rows)
    start, end = T0 - timedelta(hours=1), T0 + timedelta(hours=3)
    key = tmp_path / "sign.key"
    plain = tmp_path / "plain.shift"
    clean = tmp_path / "clean.shift"
    export_shift(store, start, end, plain, signing_key=key)
    res = export_shift(store, start, end, clean, deidentify=True, signing_key=key)
    assert res.deidentified

    needles: set[str] = {"Hank Strozier", "Strozier", "Hartford CT 06114", "06114"}
    for i, who in enumerate(CALLS):
        needles.add(f"INC-25-0{i}8317")
        lat0, lon0 = 41.7601 + who * 0.01, -72.6802 - who * 0.01
        needles.add(f"{lat0:.4f}")  # the exact point, as dispatch gave it
        needles.add(f"{lon0:.4f}")
    for given, sur, phone, email, dob, addr in PEOPLE:
        for s in (given, sur, phone, email, dob, addr, f"{given} {sur}", email.split("@")[0]):
            needles |= _variants(s)
    real_days = {e.occurred_at.astimezone(UTC).date() for e in events}
    real_days |= {d + timedelta(days=1) for d in real_days} | {datetime.now(UTC).date()}
    dates = {f for d in real_days for f in _date_forms(d)}

    # The check itself sees them where they are: the plain export keeps them.
    plain_bytes = plain.read_bytes()
    assert any(n.encode() in plain_bytes for n in needles)
    assert any(n.encode() in plain_bytes for n in dates)
    data = clean.read_bytes()  # every byte: tables, indexes, free pages, the header
    assert data.startswith(b"SQLite format 3\x00")  # not compressed: nothing to unpack first
    for enc in ("utf-8", "utf-16-le", "utf-16-be"):
        found = [n for n in needles if n.encode(enc) in data]
        assert not found, f"identifying text left in the de-identified file ({enc}): {found}"
        found = [d for d in dates if d.encode(enc) in data]
        assert not found, f"a real calendar date of the shift is in the file ({enc}): {found}"
    for suffix in ("-journal", "-wal", "-shm"):
        assert not Path(f"{clean}{suffix}").exists()

    # A trainer opens it: the signature verifies with the public key alone.
    opened = open_for_replay(str(clean), role="trainer", trusted_key=public_key_path(key))
    sf = opened.file
    assert sf is not None and sf.deidentified
    shift = sf.start - start
    assert shift and shift % timedelta(weeks=1) == timedelta(0)
    assert abs(shift) >= timedelta(weeks=52)
    assert sf.start.weekday() == start.weekday() and sf.start.time() == start.time()
    final = ReplayEngine.from_shift(sf.data).state_at(sf.end)

    # Every call's point is shared by k calls of the file; a named neighborhood by k too.
    points = Counter((c.lat, c.lon) for c in final.calls.values() if c.lat is not None)
    assert points and min(points.values()) >= K_DEFAULT, points
    names = Counter(c.neighborhood for c in final.calls.values() if c.neighborhood)
    assert all(n >= K_DEFAULT for n in names.values()), names
    team_points = {
        (e.position.lat, e.position.lon)
        for e in sf.data.events
        if isinstance(e, TeamPositionReported)
    }
    assert team_points <= set(points)  # a team is shown only where k calls are

    # The sensitive calls survive under pseudonyms, their people as role, band and a number.
    ordered = sorted(sf.persons, key=lambda k: final.calls[k].received_at)
    assert len(ordered) == len(CALLS) and all(k.startswith("CALL-") for k in ordered)
    for cid in ordered:
        c = final.calls[cid]
        assert c.status is CallStatus.ASSIGNED and c.team == "CRT-1"
        assert (c.summary, c.destination, c.source_type) == ("", None, "")
        assert c.language == "other"
        assert [n.text for n in final.notes_for(cid)] == ["(note withheld)"]
        (row,) = sf.persons[cid]
        assert set(row) == {"role", "name", "age_band"} and row["age_band"] == "40-49"
    # Jolene called twice: two unrelated numbers
    first, again = sf.persons[ordered[0]][0]["name"], sf.persons[ordered[3]][0]["name"]
    assert first != again
    numbers = [int(sf.persons[k][0]["name"].split()[-1]) for k in ordered]
    assert len(set(numbers)) == len(numbers)
    ops = {e.operator for e in sf.data.events if isinstance(e, CommandRequested)}
    assert ops == {"Operator 1"}
    store.close()
