"""The status bar's messages (what was sent, what dispatch confirmed, why an action is greyed
out) stay readable at a laptop's 1280x800, beside the demo's controls."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from fixtures_dialogs import whole_console
from PySide6.QtCore import QPoint

from console.domain.clock import ManualClock
from console.store import Store

pytestmark = pytest.mark.timeout(60)

T0 = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)


@pytest.fixture
def window(qtbot: Any, tmp_path: Path) -> Iterator[Any]:
    from console.ui.shell.demo import DemoControls

    store = Store.open(f"sqlite:///{tmp_path / 'console.db'}", clock=ManualClock(T0))
    c = whole_console(tmp_path, store, ManualClock(T0 + timedelta(minutes=5)), operator="A. Rivera")
    win = c.window
    # The demo's pace and dispatch-wait controls, as the demo puts them in the status bar.
    sim = SimpleNamespace(speed=1.0, world=SimpleNamespace(generated=None))
    win.demo_controls = DemoControls(sim, win)
    win.statusBar().addPermanentWidget(win.demo_controls)
    win.resize(1280, 800)
    qtbot.waitExposed(win)
    try:
        yield win
    finally:
        c.close()
        store.close()


def message_room(win: Any) -> int:
    """Where the status bar draws its message: left of the first permanent widget shown."""
    sb = win.statusBar()
    shown = [
        w
        for w in (
            win.link_label,
            win.operator_label,
            win.role_label,
            win.clock_label,
            win.demo_controls,
        )
        if w.isVisible()
    ]
    return min((w.mapTo(sb, QPoint(0, 0)).x() for w in shown), default=sb.width())


def test_a_confirmation_is_readable_at_1280_then_the_bar_is_whole_again(
    qtbot: Any, window: Any
) -> None:
    win = window
    sb = win.statusBar()
    # The fields as the demo shows them (its link and its simulated clock).
    win.link_label.setText("Dispatch: up · last message 4 s ago")
    win.clock_label.setText("Simulated time Thu 12 Mar 13:54:37")
    text = "Sent to dispatch, awaiting its answer: HCR-000014 assign CRT-12"
    sb.showMessage(text, 8000)
    need = sb.fontMetrics().horizontalAdvance(text)
    qtbot.waitUntil(lambda: message_room(win) >= need, timeout=3000)
    # The status that must stay in view while it shows: the link and the clock.
    assert win.link_label.isVisible() and win.clock_label.isVisible()
    sb.clearMessage()
    qtbot.waitUntil(lambda: win.operator_label.isVisible(), timeout=3000)
    assert win.role_label.isVisible()
