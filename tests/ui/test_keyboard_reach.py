"""The keyboard alone: each panel's shortcut puts the keyboard where keys act, and closing a
window-level sheet gives the keyboard back to where it was."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fixtures_dialogs import whole_console
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget

from console.domain.clock import ManualClock
from console.store import Store

pytestmark = pytest.mark.timeout(60)

T0 = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)


@pytest.fixture
def console(qtbot: Any, tmp_path: Path) -> Iterator[Any]:
    store = Store.open(f"sqlite:///{tmp_path / 'console.db'}", clock=ManualClock(T0))
    c = whole_console(tmp_path, store, ManualClock(T0 + timedelta(minutes=5)))
    qtbot.waitExposed(c.window)
    c.window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is c.window, timeout=5000)
    try:
        yield c
    finally:
        c.close()
        store.close()


def press(key: Qt.Key, mod: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    """A key as the keyboard sends it: to the widget that has the focus."""
    target = QApplication.focusWidget() or QApplication.activeWindow()
    assert target is not None, "the keyboard is nowhere: no focus widget, no active window"
    QTest.keyClick(target, key, mod)


def takes_keys(w: QWidget | None) -> bool:
    return w is not None and bool(w.focusPolicy() & Qt.FocusPolicy.TabFocus)


@pytest.mark.parametrize(
    ("key", "panel"),
    [
        (Qt.Key.Key_2, "queue"),
        (Qt.Key.Key_3, "board"),
        (Qt.Key.Key_4, "alerts"),
        (Qt.Key.Key_5, "workload"),
        (Qt.Key.Key_6, "audit"),
        (Qt.Key.Key_9, "followups"),
        (Qt.Key.Key_0, "outcomes"),
    ],
)
def test_each_panel_shortcut_puts_the_keyboard_on_a_control_in_it(
    qtbot: Any, console: Any, key: Qt.Key, panel: str
) -> None:
    win = console.window
    press(key, Qt.KeyboardModifier.ControlModifier)
    w = QApplication.focusWidget()
    target = win.panels[panel]
    assert w is not None and (w is target or target.isAncestorOf(w)), panel
    # A bare container takes no arrow keys: the keyboard must land on a list, a table, a field.
    assert takes_keys(w), f"{panel}: focus on {type(w).__name__}"


def test_ctrl4_then_arrows_move_through_the_alerts(qtbot: Any, console: Any) -> None:
    win = console.window
    press(Qt.Key.Key_4, Qt.KeyboardModifier.ControlModifier)
    assert QApplication.focusWidget() is win.panels["alerts"].tree


def test_closing_the_shortcut_sheet_gives_the_keyboard_back(qtbot: Any, console: Any) -> None:
    from console.ui.shell.help import ShortcutSheet

    win = console.window
    press(Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    board = win.panels["board"].table
    assert QApplication.focusWidget() is board
    press(Qt.Key.Key_F1)
    qtbot.waitUntil(lambda: isinstance(QApplication.activeModalWidget(), ShortcutSheet))
    sheet = QApplication.activeModalWidget()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is sheet.search, timeout=3000)
    press(Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is board, timeout=3000)
    assert QApplication.activeWindow() is win
    # And the window's shortcuts work again at once.
    press(Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    assert QApplication.focusWidget() is win.panels["queue"].table


def test_cancelling_the_emergency_acknowledgement_gives_the_keyboard_back(
    qtbot: Any, tmp_path: Path
) -> None:
    """Ctrl+Shift+A from the queue, then Esc: the keyboard is back in the queue (the banner's
    dialog is opened by the banner, not by an action: the window itself takes the keyboard
    back when a dialog of its own closes and nothing else has it)."""
    from fixtures_dialogs import backup_alert, ev_alert

    from console.ui.alerts.panel import AckDialog

    store = Store.open(f"sqlite:///{tmp_path / 'console.db'}", clock=ManualClock(T0))
    store.append([ev_alert(backup_alert("CRT-1", T0), T0)])
    c = whole_console(tmp_path, store, ManualClock(T0 + timedelta(minutes=5)))
    win = c.window
    try:
        qtbot.waitExposed(win)
        win.activateWindow()
        qtbot.waitUntil(lambda: QApplication.activeWindow() is win, timeout=5000)
        qtbot.waitUntil(lambda: bool(win.alert_banner.critical), timeout=5000)
        press(Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
        queue = win.panels["queue"].table
        assert QApplication.focusWidget() is queue
        press(Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
        qtbot.waitUntil(lambda: isinstance(QApplication.activeModalWidget(), AckDialog))
        dlg = QApplication.activeModalWidget()
        qtbot.waitUntil(lambda: QApplication.focusWidget() is dlg.note, timeout=3000)
        press(Qt.Key.Key_Escape)
        qtbot.waitUntil(lambda: QApplication.focusWidget() is queue, timeout=3000)
        assert QApplication.activeWindow() is win
        assert win.alert_banner.critical  # cancelled: not acknowledged
    finally:
        c.close()
        store.close()


def test_the_shortcut_sheet_shows_the_whole_note_of_the_row_under_the_keyboard(
    qtbot: Any, console: Any
) -> None:
    """The notes column is cut at the sheet's size and, with the keyboard only, nothing is
    hovered for a tooltip: the row the arrows are on has its note shown whole under the list."""
    win = console.window
    press(Qt.Key.Key_F1)
    qtbot.waitUntil(lambda: QApplication.activeModalWidget() is not None)
    sheet = QApplication.activeModalWidget()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is sheet.search, timeout=3000)
    for ch in "escalate":
        press(getattr(Qt.Key, f"Key_{ch.upper()}"))
    press(Qt.Key.Key_Tab)  # from the search box to the list
    assert QApplication.focusWidget() is sheet.tree
    for _ in range(3):  # past the group's line
        press(Qt.Key.Key_Down)
        item = sheet.tree.currentItem()
        if item is not None and item.text(0) == "Escalate":
            break
    assert item is not None and item.text(0) == "Escalate"
    note = item.text(2)
    # No call is selected: greyed, yet reached, and its note says why.
    assert "Hand the selected call to police" in note and "select a call first" in note
    # Cut in its column at this size (that is why the line below is needed) ...
    fm = sheet.tree.fontMetrics()
    assert fm.horizontalAdvance(note) > sheet.tree.columnWidth(2)
    # ... and whole below the list.
    assert sheet.note_line.isVisible() and note in sheet.note_line.text()
    assert sheet.note_line.wordWrap()
    assert win is not None
