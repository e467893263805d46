"""The console checks the latest rows of the event log and the audit at start."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings
from sqlalchemy import text

from console.config import load_config
from console.domain.events import TeamStatusChanged
from console.domain.model import Team, TeamStatus
from console.store import Store

T0 = datetime(2026, 11, 26, 22, 0, tzinfo=UTC)


def _store(tmp_path: Path, tamper: bool) -> Store:
    store = Store.open(f"sqlite:///{tmp_path / 'c.db'}")
    store.append(
        [
            TeamStatusChanged(
                source="dispatch",
                source_id=f"t{i}",
                occurred_at=T0,
                recorded_at=T0,
                team=Team(f"CRT-{i}", TeamStatus.AVAILABLE, T0, "CRT", T0),
            )
            for i in range(3)
        ]
    )
    if tamper:
        with store.engine.begin() as conn:
            conn.execute(
                text("UPDATE events SET payload = replace(payload, 'CRT', 'X') WHERE seq = 2")
            )
    return store


@pytest.mark.webengine
@pytest.mark.timeout(120)
@pytest.mark.parametrize("tamper", [False, True])
def test_a_broken_chain_raises_the_red_banner(qtbot: Any, tmp_path: Path, tamper: bool) -> None:
    from console.ui.shell.main import build_console

    store = _store(tmp_path, tamper)
    console = build_console(
        load_config(None),
        store,
        dispatch_url=None,
        operator="S. Vega",
        role="viewer",
        settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat),
    )
    try:
        banner = console.window.integrity_banner
        if tamper:
            qtbot.waitUntil(banner.isVisible, timeout=10_000)
            assert "event seq 2" in banner.text()
        else:
            # The check has run once the task manager has nothing in flight.
            qtbot.waitUntil(lambda: console.ctx.tasks.in_flight == 0, timeout=10_000)
            assert not banner.isVisible()
    finally:
        console.close()
