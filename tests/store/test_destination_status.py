"""A supervisor's capacity figure: audited, an event in the log, folded live and on reload,
and in ``state --json`` with its age (stale ones never as current)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from console.cli import main
from console.config import parse_config
from console.domain.clock import ManualClock
from console.domain.codec import event_from_dict, event_to_dict
from console.domain.commands import CommandRejected, SetDestinationStatus
from console.domain.destinations import CapacityReport
from console.domain.events import DestinationStatusReported
from console.domain.projection import fold
from console.store import Store
from console.store.read.views import state_json

T0 = datetime(2026, 12, 7, 19, 0, tzinfo=UTC)  # 14:00 in Hartford, a Monday


def test_set_capacity_is_logged_audited_and_folded(db_url: str) -> None:
    clock = ManualClock(T0)
    store = Store.open(db_url, create=True, clock=clock)
    try:
        sub = store.submit(
            SetDestinationStatus(destination_id="csu-north-end", available=3, reason="phoned"),
            operator="alice",
        )
        assert isinstance(sub.event, DestinationStatusReported)
        assert sub.changes.destinations == frozenset({"csu-north-end"})
        clock.advance(60)
        store.submit(
            SetDestinationStatus(destination_id="csu-north-end", available=0, accepting=False),
            operator="bob",
        )
        with pytest.raises(CommandRejected, match="cannot be negative"):
            store.submit(
                SetDestinationStatus(destination_id="detox-riverside", available=-2),
                operator="alice",
            )
        st = store.load_state()
        r = st.destinations["csu-north-end"]
        assert (r.available, r.accepting, r.operator, r.at) == (
            0,
            False,
            "bob",
            T0 + timedelta(seconds=60),
        )
        assert "detox-riverside" not in st.destinations
        # Nothing goes to dispatch; both figures and the refusal are audited.
        assert store.outbox_due() == []
        rows = store.audit(10)
        assert [(a.operator, a.answer_status) for a in rows][:3] == [
            ("alice", "rejected"),
            ("bob", "done"),
            ("alice", "done"),
        ]
        # Replay folds the same log to the same figure.
        replayed = fold(e for _, e in store.events(after_seq=0))
        assert replayed.destinations == st.destinations
    finally:
        store.close()


def test_codec_round_trip() -> None:
    from console.domain.destinations import CapacityReport

    e = DestinationStatusReported(
        source="dispatch",
        source_id="d1",
        occurred_at=T0,
        recorded_at=T0,
        report=CapacityReport("x", T0, None, True, "dispatch", "", "from CAD"),
    )
    assert event_from_dict(json.loads(json.dumps(event_to_dict(e)))) == e


def test_latest_figure_wins_in_any_order() -> None:
    from console.domain.destinations import CapacityReport

    def ev(i: int, avail: int) -> DestinationStatusReported:
        at = T0 + timedelta(minutes=i)
        return DestinationStatusReported(
            source="console",
            source_id=f"s{i}",
            occurred_at=at,
            recorded_at=at,
            report=CapacityReport("x", at, avail),
        )

    evs = [ev(0, 5), ev(2, 1), ev(1, 3)]
    for order in (evs, evs[::-1], evs[1:] + evs[:1] + evs):
        assert fold(order).destinations["x"].available == 1


def test_state_json_carries_destinations_and_hides_stale_figures(tmp_path: Path) -> None:
    ds = parse_config('[destinations]\nfile = "sample"\n').destinations
    store = Store.open(f"sqlite:///{tmp_path / 'c.db'}", create=True, clock=ManualClock(T0))
    try:
        store.submit(
            SetDestinationStatus(destination_id="detox-riverside", available=4), operator="a"
        )
        store.submit(
            SetDestinationStatus(
                destination_id="shelter-bushnell-night", available=0, accepting=False
            ),
            operator="a",
        )
        st = store.load_state()
    finally:
        store.close()
    out = state_json(st, destinations=ds, now=T0 + timedelta(minutes=10))
    by_id = {d["id"]: d for d in out["destinations"]}
    assert set(by_id) == {d.id for d in ds.destinations}
    assert by_id["detox-riverside"] == {
        "id": "detox-riverside",
        "kind": "detox",
        "open_now": True,
        "capacity": 4,
        "capacity_age_s": 600.0,
    }
    assert by_id["shelter-bushnell-night"]["capacity"] == 0
    assert by_id["shelter-bushnell-night"]["open_now"] is False  # opens 19:00 local
    assert by_id["ed-hartford-hospital"]["capacity"] is None
    assert by_id["ed-hartford-hospital"]["capacity_age_s"] is None
    later = state_json(st, destinations=ds, now=T0 + timedelta(hours=5))
    stale = {d["id"]: d for d in later["destinations"]}["detox-riverside"]
    assert stale["capacity"] is None and stale["capacity_age_s"] == 5 * 3600.0
    # Without a destinations file the key is absent, as before.
    assert "destinations" not in state_json(st)


def test_state_cli_reads_the_site_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = f"sqlite:///{tmp_path / 'c.db'}"
    Store.open(db, create=True).close()
    cfg = tmp_path / "config.toml"
    cfg.write_text('[destinations]\nfile = "sample"\n')
    assert main(["--config", str(cfg), "state", "--db", db, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out["destinations"]) == 10
    assert all(
        set(d) == {"id", "kind", "open_now", "capacity", "capacity_age_s"}
        for d in out["destinations"]
    )
    assert main(["state", "--db", db, "--json"]) == 0
    assert "destinations" not in json.loads(capsys.readouterr().out)


def test_other_consoles_hear_which_destination_changed() -> None:
    from console.domain.changes import Changes
    from console.store.notify import decode, encode

    note = decode(encode(Changes(destinations=frozenset({"csu"}), seq=5), 4, 5))
    assert note.changes is not None and note.changes.destinations == frozenset({"csu"})
    assert note.changes  # a destination-only write is a change worth a refresh


def test_a_deidentified_log_keeps_the_figure_not_who_set_it() -> None:
    from console.domain.destinations import CapacityReport
    from console.replay.deidentify import Deidentifier

    e = DestinationStatusReported(
        source="console",
        source_id="dst-1",
        occurred_at=T0,
        recorded_at=T0,
        report=CapacityReport("csu", T0, 3, True, "console", "j.rivera", "Maria at intake"),
    )
    out = Deidentifier(offset=timedelta(0)).event(e)
    assert isinstance(out, DestinationStatusReported)
    r = out.report
    assert (r.destination_id, r.available, r.accepting, r.at) == ("csu", 3, True, T0)
    assert r.operator == "Operator 1" and r.note == "(withheld)"
    assert "rivera" not in repr(out).lower() and "maria" not in repr(out).lower()


def _capacity_rows(store: Store) -> dict[str, dict[str, object]]:
    from sqlalchemy import select

    from console.store import schema as S

    with store.engine.connect() as conn:
        rows = conn.execute(select(S.destination_capacity)).all()
    return {r.destination_id: json.loads(r.data) for r in rows}


def test_each_destination_keeps_one_row_with_its_latest_figure(db_url: str) -> None:
    """However many figures the log holds, a destination's capacity is one projection row:
    what a batch reporting one figure reads, and what a console loads at start."""
    clock = ManualClock(T0)
    store = Store.open(db_url, create=True, clock=clock)
    try:
        for n in (4, 2, 1):
            store.submit(
                SetDestinationStatus(destination_id="csu-north-end", available=n), operator="al"
            )
            clock.advance(60)
        store.submit(
            SetDestinationStatus(destination_id="detox-riverside", available=0, accepting=False),
            operator="bo",
        )
        # A figure dispatch reports (the sync path) lands in the same row.
        late = DestinationStatusReported(
            source="dispatch",
            source_id="cap-1",
            occurred_at=T0 + timedelta(minutes=10),
            recorded_at=T0 + timedelta(minutes=10),
            report=CapacityReport(
                "csu-north-end", T0 + timedelta(minutes=10), 5, True, "dispatch", "", "phoned"
            ),
        )
        assert store.append([late]).appended == [late]
        rows = _capacity_rows(store)
        assert sorted(rows) == ["csu-north-end", "detox-riverside"]
        assert (rows["csu-north-end"]["available"], rows["csu-north-end"]["source"]) == (
            5,
            "dispatch",
        )
        assert rows["detox-riverside"]["accepting"] is False
        want = store.load_state().destinations
        assert store.rebuild_projections() > 0
        assert _capacity_rows(store) == rows
    finally:
        store.close()
    again = Store.open(db_url)
    try:
        assert again.load_state().destinations == want
    finally:
        again.close()


def test_upgrade_from_0007_writes_the_figures_already_logged(db_url: str) -> None:
    from alembic import command as alembic_command
    from sqlalchemy import text

    from console.domain.codec import event_body
    from console.store import make_engine
    from console.store.db import _alembic_config

    engine = make_engine(db_url)
    try:
        alembic_command.upgrade(_alembic_config(engine), "0007")
        figures = [
            ("csu-north-end", 0, 3),
            ("csu-north-end", 5, 1),
            ("csu-north-end", 2, 9),  # reported earlier, arrived later: not the latest
            ("detox-riverside", 1, 0),
        ]
        with engine.begin() as conn:
            for i, (dest, minute, avail) in enumerate(figures):
                at = T0 + timedelta(minutes=minute)
                e = DestinationStatusReported(
                    source="console",
                    source_id=f"f{i}",
                    occurred_at=at,
                    recorded_at=at,
                    report=CapacityReport(dest, at, avail, True, "console", "al", ""),
                )
                conn.execute(
                    text(
                        "INSERT INTO events (source, source_id, kind, entity_id, occurred_at,"
                        " recorded_at, payload) VALUES ('console', :sid, :kind, :ent, :t, :t, :p)"
                    ),
                    {
                        "sid": e.source_id,
                        "kind": e.kind,
                        "ent": dest,
                        "t": at,
                        "p": json.dumps(event_body(e)),
                    },
                )
        alembic_command.upgrade(_alembic_config(engine), "head")
    finally:
        engine.dispose()
    store = Store.open(db_url)
    try:
        rows = _capacity_rows(store)
        assert {k: v["available"] for k, v in rows.items()} == {
            "csu-north-end": 1,
            "detox-riverside": 0,
        }
        assert store.load_state().destinations["csu-north-end"].available == 1
    finally:
        store.close()
