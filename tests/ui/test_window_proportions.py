"""Window proportions: extra room is shared between the docks and the map, and a window
shrunk then grown again gets its proportions back."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings

from console.config import load_config
from console.store import Store

pytestmark = [pytest.mark.webengine, pytest.mark.timeout(120)]

T0 = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)


class FixedClock:
    def now(self) -> datetime:
        return T0


@pytest.fixture
def window(qtbot: Any, tmp_path: Path) -> Iterator[Any]:
    from console.ui.shell.main import build_console

    store = Store.open(f"sqlite:///{tmp_path / 'console.db'}", clock=FixedClock())
    console = build_console(
        load_config(None),
        store,
        dispatch_url=None,
        operator="J. Doe",
        role="supervisor",
        clock=FixedClock(),
        settings=QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat),
    )
    win = console.window
    qtbot.waitExposed(win)
    try:
        yield win
    finally:
        console.close()


def _sizes(win: Any) -> tuple[int, int, int, int]:
    return (
        win.docks["queue"].width(),
        win.docks["alerts"].width(),
        win.docks["workload"].height(),
        win.map_panel.width(),
    )


def _resize(qtbot: Any, win: Any, w: int, h: int) -> None:
    win.resize(w, h)
    qtbot.waitUntil(lambda: win.width() == w and win.height() == h, timeout=3000)
    qtbot.wait(50)  # let the dock layout settle (not a timed assertion: sizes are read after)


def test_extra_room_is_shared_and_proportions_come_back(qtbot: Any, window: Any) -> None:
    win = window
    _resize(qtbot, win, 1280, 800)
    win.reset_layout()
    qtbot.wait(50)
    queue0, alerts0, work0, map0 = _sizes(win)
    assert queue0 > 400

    # Growing: the docks take their share of the extra room, not the map alone.
    _resize(qtbot, win, 1920, 1080)
    queue1, alerts1, work1, map1 = _sizes(win)
    assert queue1 > queue0 + 150 and alerts1 > alerts0 + 40
    assert work1 > work0 + 30
    assert map1 - map0 < 640 - 150  # the map did not take all 640 extra pixels

    # Shrinking hard, then growing back: the proportions return.
    _resize(qtbot, win, 900, 640)
    _resize(qtbot, win, 1920, 1080)
    queue2, alerts2, work2, _map2 = _sizes(win)
    assert abs(queue2 - queue1) <= 12 and abs(alerts2 - alerts1) <= 12
    assert abs(work2 - work1) <= 12


def test_a_splitter_moved_by_hand_sets_the_shares(qtbot: Any, window: Any) -> None:
    from PySide6.QtCore import Qt

    win = window
    _resize(qtbot, win, 1600, 1000)
    win.reset_layout()
    qtbot.wait(50)
    # A drag on the separator: the docks change, then the button is released.
    win.resizeDocks([win.docks["queue"]], [700], Qt.Orientation.Horizontal)
    qtbot.wait(50)
    qtbot.mouseRelease(win, Qt.MouseButton.LeftButton, pos=win.docks["queue"].geometry().topRight())
    share = win.dock_shares().left
    assert abs(share - win.docks["queue"].width() / 1600) < 0.01
    _resize(qtbot, win, 1200, 800)
    assert abs(win.docks["queue"].width() - share * 1200) <= 12
