"""SQLite's single writer keeps the projection rows it folded; never stale, never uncommitted."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from console.domain.events import CallReceived, CallUpdated, Event
from console.domain.model import Call, CallStatus, CallType
from console.store import Store, notify

T0 = datetime(2026, 11, 26, 22, 0, tzinfo=UTC)
CALL = Call("HCR-000001", CallStatus.PENDING, 2, CallType.WELFARE_CHECK, T0, T0)


def version(v: int) -> Event:
    """The call as dispatch described it in its v-th update (priority follows the version)."""
    at = T0 + timedelta(minutes=v)
    cls = CallReceived if v == 1 else CallUpdated
    return cls(
        source="dispatch",
        source_id=f"v{v}",
        occurred_at=at,
        recorded_at=at,
        call=replace(CALL, version=v, updated_at=at, priority=1 + v % 3),
    )


def test_a_write_by_another_store_on_the_same_file_drops_the_kept_rows(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'c.db'}"
    a, b = Store.open(url), Store.open(url)
    try:
        a.append([version(1)])
        assert a._rows is not None and "HCR-000001" in a._rows.state.calls
        b.append([version(3)])
        # A's kept row is v1: had it trusted it, v2 would replace the newer v3.
        res = a.append([version(2)])
        assert res.changes.calls == frozenset()
        assert a.load_state().calls["HCR-000001"].version == 3
        assert a._rows.state.calls["HCR-000001"].version == 3
    finally:
        a.close()
        b.close()


def test_a_rolled_back_batch_leaves_the_kept_rows_as_they_were(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    store = Store.open(f"sqlite:///{tmp_path / 'c.db'}")
    try:
        store.append([version(1)])

        def fail(*_a: object) -> None:
            raise RuntimeError("disk full")

        monkeypatch.setattr(notify, "publish", fail)
        with pytest.raises(RuntimeError):
            store.append([version(3)])
        monkeypatch.undo()
        assert store.load_state().calls["HCR-000001"].version == 1
        # Had v3 been kept, v2 would be refused as older.
        res = store.append([version(2)])
        assert res.changes.calls == {"HCR-000001"}
        assert store.load_state().calls["HCR-000001"].version == 2
    finally:
        store.close()


def test_the_kept_rows_fold_like_rows_read_back(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from console.domain.synthetic import synthetic_shift

    events = synthetic_shift(1500, seed=9, start=T0)
    kept, plain = (Store.open(f"sqlite:///{tmp_path / n}") for n in ("k.db", "p.db"))
    try:
        plain._rows = None  # reads every batch's rows back, as on PostgreSQL
        for i in range(0, len(events), 100):
            assert (
                kept.append(events[i : i + 100]).changes
                == plain.append(events[i : i + 100]).changes
            )
        assert kept.load_state().same_picture(plain.load_state())
    finally:
        kept.close()
        plain.close()


def test_no_rows_are_kept_on_postgresql(db_url: str) -> None:
    store = Store.open(db_url)
    try:
        assert (store._rows is None) == (store.dialect == "postgresql")
    finally:
        store.close()
