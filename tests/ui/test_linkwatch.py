"""A console on the shared database sees the dispatch link as the sync service reports it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings

from console.config import load_config
from console.store import LinkReport, Store
from console.sync.client import LinkState
from console.ui.core.linkwatch import health_from_reports

NOW = datetime(2026, 11, 27, 1, 0, tzinfo=UTC)


def report(service: str, state: str, reported_ago_s: float) -> LinkReport:
    at = NOW - timedelta(seconds=reported_ago_s)
    return LinkReport(service, state, at - timedelta(minutes=5), "ws://cad:8765", at, 0, "", at)


def test_freshest_report_wins_and_a_silent_service_is_a_dead_link() -> None:
    h = health_from_reports(
        [report("a", LinkState.RECONNECTING, 30), report("b", "up", 2)], NOW, 20
    )
    assert h.up and h.url == "ws://cad:8765"
    # The sync service's link is plain ws:// to another host: this console says so too.
    assert not h.encrypted
    wss = LinkReport("c", "up", NOW, "wss://cad:8765/IncidentData", NOW, 0, "", NOW)
    assert health_from_reports([wss], NOW, 20).encrypted
    local = LinkReport("d", "up", NOW, "ws://127.0.0.1:8765", NOW, 0, "", NOW)
    assert health_from_reports([local], NOW, 20).encrypted
    h = health_from_reports([report("a", "up", 45)], NOW, 20)
    assert not h.up and "silent for 45 s" in h.last_error
    h = health_from_reports([], NOW, 20)
    assert not h.up and "no sync service" in h.last_error


def test_reports_round_trip_through_the_store(db_url: str) -> None:
    store = Store.open(db_url)
    since = NOW - timedelta(minutes=3)
    store.report_link("sync-1", state="up", since=since, url="ws://cad", last_message_at=NOW)
    store.report_link(
        "sync-1",
        state="reconnecting",
        since=NOW,
        url="ws://cad",
        last_message_at=NOW,
        attempts=3,
        last_error="connection refused",
    )
    [r] = store.link_reports()
    assert (r.service, r.state, r.since, r.attempts, r.last_error) == (
        "sync-1",
        "reconnecting",
        NOW,
        3,
        "connection refused",
    )


@pytest.mark.webengine
@pytest.mark.timeout(120)
def test_console_on_shared_database_shows_the_reported_link(
    qtbot: Any, db_url: str, tmp_path: Path
) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("consoles share PostgreSQL; on SQLite the console holds the link itself")
    from console.ui.shell.main import build_console

    store = Store.open(db_url)
    console = build_console(
        load_config(None),
        store,
        dispatch_url=None,
        operator="S. Vega",
        role="viewer",
        settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat),
        pg_notify_url=db_url,
    )
    try:
        pictures = console.ctx.pictures
        qtbot.waitUntil(lambda: pictures.current().stale, timeout=10_000)
        assert "no sync service" in pictures.current().stale_reason
        now = datetime.now(UTC)
        store.report_link("sync-1", state="up", since=now, url="ws://cad", last_message_at=now)
        console.watcher.poll()
        qtbot.waitUntil(lambda: not pictures.current().stale, timeout=10_000)
        assert pictures.current().link is not None and pictures.current().link.up
    finally:
        console.close()
