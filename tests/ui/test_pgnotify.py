"""A console hears another process's committed writes through the Qt event loop (PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest

from console.domain.events import CallReceived
from console.domain.model import Call, CallStatus, CallType
from console.store import Store
from console.store.notify import libpq_url
from console.ui.core.pgnotify import PgChangeNotifier

T0 = datetime(2026, 11, 26, 22, 0, tzinfo=UTC)


def _call_event(i: int) -> CallReceived:
    c = Call(f"HCR-{i:06d}", CallStatus.PENDING, 2, CallType.BASIC_NEEDS, T0, T0)
    return CallReceived(
        source="dispatch", source_id=f"c{i}", occurred_at=T0, recorded_at=T0, call=c
    )


def test_changes_arrive_as_signals_and_survive_a_lost_connection(qtbot: Any, db_url: str) -> None:
    if not db_url.startswith("postgres"):
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's; a SQLite console learns from its own writes")
    store = Store.open(db_url)
    notifier = PgChangeNotifier(db_url, retry_base_s=0.05, retry_cap_s=0.2)
    heard: list[Any] = []
    notifier.changed.connect(heard.append)
    try:
        with qtbot.waitSignal(notifier.connection_changed, timeout=5000) as up:
            notifier.start()
        assert up.args[0] is True and notifier.listening
        assert heard == [None]  # first thing after connecting: reload everything

        results = [store.append([_call_event(i)]) for i in range(1, 6)]
        qtbot.waitUntil(lambda: len(heard) == 6, timeout=5000)
        assert heard[1:] == [r.changes for r in results]  # each write, in commit order
        assert notifier.last_seq == results[-1].last_seq

        # The server drops the listening connection: the console reconnects and reloads.
        with psycopg.connect(libpq_url(db_url), autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE application_name = 'responder-console listener'"
                " AND datname = current_database()"
            )
        qtbot.waitUntil(
            lambda: notifier.listening and heard[-1] is None and len(heard) == 7, timeout=10000
        )
        r = store.append([_call_event(99)])
        qtbot.waitUntil(lambda: heard[-1] == r.changes, timeout=5000)
    finally:
        notifier.stop()
        store.close()
