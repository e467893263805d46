"""Shift files: round trip, annotations, refusal of damaged, altered and newer files, the CLI."""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from console.app import main
from console.domain.events import Event
from console.replay.engine import ReplayEngine, load_from_store
from console.replay.shiftfile import (
    ShiftFileError,
    _checksum,
    export_shift,
    open_for_replay,
    open_shift_file,
)
from console.store import Store


def _digest(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def _export(
    store: Store, rng: tuple[datetime, datetime], out: Path, *, deidentify: bool = False
) -> Path:
    export_shift(store, rng[0], rng[1], out, deidentify=deidentify)
    return out


def test_round_trip_replays_the_same_shift(
    tmp_path: Path, shift_store: Store, shift_range: tuple[datetime, datetime]
) -> None:
    out = _export(shift_store, shift_range, tmp_path / "s.shift")
    sf = open_shift_file(out)
    assert not sf.deidentified
    assert (sf.start, sf.end) == shift_range
    from_db = ReplayEngine.from_shift(load_from_store(shift_store, *shift_range))
    from_file = ReplayEngine.from_shift(sf.data)
    assert len(from_file.events) == len(from_db.events) > 0
    assert from_file.base  # calls open at the start were carried in
    start, end = shift_range
    for k in range(11):
        t = start + (end - start) * k / 10
        assert from_file.state_at(t).same_picture(from_db.state_at(t))
    assert from_file.report() == from_db.report()
    assert sorted(t.id for t in sf.data.roster) == sorted(from_db.state_at(end).teams)


def test_annotations_are_saved_in_the_file_and_keep_it_valid(
    tmp_path: Path, shift_store: Store, shift_range: tuple[datetime, datetime]
) -> None:
    out = _export(shift_store, shift_range, tmp_path / "s.shift")
    sf = open_shift_file(out)
    at = shift_range[0] + timedelta(minutes=20)
    b = sf.add_annotation("bookmark", at, "Queue builds up", "four pending, two on scene")
    d = sf.add_annotation("decision", at + timedelta(minutes=5), "Who goes?", call_id="HCR-000001")
    sf.update_annotation(b.id, note="four pending calls")
    sf.record_choice(d.id, "trainee A", {"kind": "assign", "team": "CRT-3"})
    again = open_shift_file(out)  # still verifies: annotations are outside the checksum
    notes = again.annotations()
    assert [(a.kind, a.title, a.note) for a in notes] == [
        ("bookmark", "Queue builds up", "four pending calls"),
        ("decision", "Who goes?", ""),
    ]
    assert notes[0].at == at and notes[1].call_id == "HCR-000001"
    assert [(c.annotation_id, c.action) for c in again.choices()] == [
        (d.id, {"kind": "assign", "team": "CRT-3"})
    ]
    again.delete_annotation(b.id)
    assert [a.id for a in open_shift_file(out).annotations()] == [d.id]
    with pytest.raises(ShiftFileError, match="outside the shift"):
        sf.add_annotation("bookmark", shift_range[1] + timedelta(days=1), "later")


@pytest.fixture
def exported(tmp_path: Path, shift_store: Store, shift_range: tuple[datetime, datetime]) -> Path:
    return _export(shift_store, shift_range, tmp_path / "s.shift")


def _refused(path: Path, match: str) -> None:
    before = _digest(path)
    siblings = sorted(p.name for p in path.parent.iterdir())
    with pytest.raises(ShiftFileError, match=match):
        open_shift_file(path)
    assert _digest(path) == before, "opening a refused file changed it"
    assert sorted(p.name for p in path.parent.iterdir()) == siblings


def test_a_truncated_file_is_refused_untouched(exported: Path) -> None:
    data = exported.read_bytes()
    exported.write_bytes(data[: len(data) // 2])
    _refused(exported, "damaged")


def test_overwritten_pages_are_refused_untouched(exported: Path) -> None:
    data = bytearray(exported.read_bytes())
    mid = len(data) // 2
    data[mid : mid + 4096] = b"\xa5" * 4096
    exported.write_bytes(bytes(data))
    _refused(exported, "damaged|checksum")


def test_a_file_that_is_not_a_shift_is_refused(tmp_path: Path) -> None:
    p = tmp_path / "notes.txt"
    p.write_text("hello")
    _refused(p, "not a shift file")
    q = tmp_path / "other.db"
    sqlite3.connect(q).execute("CREATE TABLE x (y)").connection.commit()
    _refused(q, "not a shift file")


def test_an_edited_event_fails_the_checksum(exported: Path) -> None:
    con = sqlite3.connect(exported)
    seq, payload = con.execute(
        "SELECT seq, payload FROM events WHERE kind = 'call_received' LIMIT 1"
    ).fetchone()
    con.execute(
        "UPDATE events SET payload = ? WHERE seq = ?",
        (
            payload.replace('"priority":2', '"priority":1').replace('"priority":3', '"priority":1'),
            seq,
        ),
    )
    con.execute("DELETE FROM events WHERE seq = (SELECT MAX(seq) FROM events)")
    con.commit()
    con.close()
    _refused(exported, "checksum")


def test_claiming_de_identification_fails_the_checksum(exported: Path) -> None:
    con = sqlite3.connect(exported)
    con.execute("UPDATE meta SET value = '1' WHERE key = 'deidentified'")
    con.commit()
    con.close()
    _refused(exported, "checksum")


def test_a_newer_format_is_refused(exported: Path) -> None:
    con = sqlite3.connect(exported)
    con.execute("UPDATE meta SET value = '2' WHERE key = 'format_version'")
    con.execute("UPDATE meta SET value = ? WHERE key = 'checksum'", (_checksum(con),))
    con.commit()
    con.close()
    _refused(exported, "newer console")


def test_an_unknown_store_schema_is_refused(exported: Path) -> None:
    con = sqlite3.connect(exported)
    con.execute("UPDATE meta SET value = 'ffff9999' WHERE key = 'schema_version'")
    con.execute("UPDATE meta SET value = ? WHERE key = 'checksum'", (_checksum(con),))
    con.commit()
    con.close()
    _refused(exported, "newer console")


def test_a_trainer_opens_only_de_identified_files(
    tmp_path: Path, shift_store: Store, shift_range: tuple[datetime, datetime]
) -> None:
    plain = _export(shift_store, shift_range, tmp_path / "plain.shift")
    clean = _export(shift_store, shift_range, tmp_path / "clean.shift", deidentify=True)
    with pytest.raises(ShiftFileError, match="trainer may open only de-identified"):
        open_for_replay(str(plain), role="trainer")
    with pytest.raises(ShiftFileError, match="trainer may open only de-identified"):
        open_for_replay(str(shift_store.engine.url.database), role="trainer")
    assert open_for_replay(str(clean), role="trainer").data.deidentified
    assert not open_for_replay(str(plain), role="supervisor").data.deidentified
    src = open_for_replay(
        str(shift_store.engine.url.database),
        role="supervisor",
        start=shift_range[0],
        end=shift_range[1],
    )
    assert src.file is None and len(src.data.events) == len(open_shift_file(plain).data.events)


def test_export_shift_command(
    tmp_path: Path,
    shift_store: Store,
    shift_range: tuple[datetime, datetime],
    capsys: pytest.CaptureFixture[str],
    shift_events: list[Event],
) -> None:
    db = str(shift_store.engine.url.database)
    out = tmp_path / "cli.shift"
    argv = [
        "export-shift",
        "--db",
        db,
        "--from",
        shift_range[0].isoformat(),
        "--to",
        shift_range[1].isoformat(),
        "--deidentify",
        str(out),
    ]
    assert main(argv) == 0
    assert "de-identified" in capsys.readouterr().out
    sf = open_shift_file(out)
    assert sf.deidentified and sf.meta["deidentified"] == "1"
    in_range = [e for e in shift_events if shift_range[0] <= e.occurred_at < shift_range[1]]
    # every record is kept but the team positions no k calls' area hides (console.replay.deidentify)
    kept = [e for e in sf.data.events if e.kind != "team_position"]
    assert len(kept) == sum(1 for e in in_range if e.kind != "team_position")
    # refusing to overwrite, a backwards range, a missing database: one line, exit 2
    for bad in (
        argv,
        [
            "export-shift",
            "--db",
            db,
            "--from",
            shift_range[1].isoformat(),
            "--to",
            shift_range[0].isoformat(),
            str(tmp_path / "x.shift"),
        ],
        [
            "export-shift",
            "--db",
            str(tmp_path / "nope" / "x.db"),
            "--from",
            shift_range[0].isoformat(),
            "--to",
            shift_range[1].isoformat(),
            str(tmp_path / "y"),
        ],
    ):
        assert main(bad) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "Traceback" not in err
    assert main([*argv[:-1], "--force", str(out)]) == 0


def test_a_forged_file_is_refused_for_a_trainer(
    tmp_path: Path, shift_store: Store, shift_range: tuple[datetime, datetime]
) -> None:
    """Flag a plain export de-identified and recompute its checksum: the checksum holds, the
    signature (made with a key trainers do not hold) does not."""
    from console.replay.shiftfile import _checksum

    forged = _export(shift_store, shift_range, tmp_path / "forged.shift")
    con = sqlite3.connect(forged)
    con.execute("UPDATE meta SET value = '1' WHERE key = 'deidentified'")
    con.execute("DELETE FROM meta WHERE key = 'checksum'")
    con.execute("INSERT INTO meta (key, value) VALUES ('checksum', ?)", (_checksum(con),))
    con.commit()
    con.close()
    assert open_shift_file(forged).deidentified  # the checksum alone no longer tells
    with pytest.raises(ShiftFileError, match="signature does not verify") as ei:
        open_for_replay(str(forged), role="trainer")
    assert "\n" not in str(ei.value)
    # Unsigned (the signature removed): refused too.
    con = sqlite3.connect(forged)
    con.execute("DELETE FROM meta WHERE key IN ('signature', 'signer')")
    con.commit()
    con.close()
    with pytest.raises(ShiftFileError, match="is not signed"):
        open_for_replay(str(forged), role="trainer")


def test_the_signing_key_is_private_and_the_export_says_where(
    tmp_path: Path,
    shift_store: Store,
    shift_range: tuple[datetime, datetime],
    capsys: pytest.CaptureFixture[str],
) -> None:
    key = tmp_path / "keys" / "sign.key"
    key.parent.mkdir()
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[security]\nsigning_key_file = "{key}"\n')
    db = str(shift_store.engine.url.database)
    argv = ["--config", str(cfg), "export-shift", "--db", db, "--deidentify"]
    argv += ["--from", shift_range[0].isoformat(), "--to", shift_range[1].isoformat()]
    assert main([*argv, str(tmp_path / "a.shift")]) == 0
    out = capsys.readouterr().out
    assert f"created the shift-signing key {key}" in out
    assert (key.stat().st_mode & 0o777) == 0o600
    assert main([*argv, str(tmp_path / "b.shift")]) == 0
    assert "created" not in capsys.readouterr().out
    pub = key.with_name("sign.key.pub")
    assert open_for_replay(str(tmp_path / "b.shift"), role="trainer", trusted_key=pub)
    # Another site's key does not verify this site's files.
    other = tmp_path / "other.key"
    from console.replay.signing import ensure_key

    ensure_key(other)
    with pytest.raises(ShiftFileError, match="signature does not verify"):
        open_for_replay(
            str(tmp_path / "b.shift"), role="trainer", trusted_key=other.with_name("other.key.pub")
        )
