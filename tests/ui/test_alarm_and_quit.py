"""An unacknowledged emergency sounds again at an interval, and quitting with one open asks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fixtures_dialogs import T0, Console, backup_alert, build_console, close_console, ev_alert
from fixtures_dialogs import make_config as dialogs_config
from PySide6.QtCore import QSettings, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QWidget

from console.config import ConfigError, parse_config
from console.ui.alerts import panel as alerts_panel
from console.ui.alerts.panel import AlertBanner

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def plays(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Each time the alarm would play (the sound itself is not the point here)."""
    played: list[int] = []
    monkeypatch.setattr(alerts_panel._Alarm, "play", lambda self: played.append(1))
    return played


def _console(qtbot: Any, tmp_path: Path, repeat: str) -> Iterator[Console]:
    cfg = dialogs_config(tmp_path, f"[ui]\nalarm_repeat_s = {repeat}\n")
    c = build_console(qtbot, tmp_path, config=cfg)
    try:
        yield c
    finally:
        close_console(c)


def _tick(c: Console, seconds: float) -> None:
    c.clock.advance(seconds)
    c.source._on_tick()
    c.settle()


def test_unacknowledged_emergency_sounds_again_at_the_interval(
    qtbot: Any, tmp_path: Path, plays: list[int]
) -> None:
    for c in _console(qtbot, tmp_path, "30"):
        host = QWidget()
        qtbot.addWidget(host)
        banner = AlertBanner(c.ctx, host, sound=True)
        assert banner.repeat_s == 30
        c.feed(qtbot, [ev_alert(backup_alert("CRT-3", T0), T0)])
        assert len(plays) == 1
        _tick(c, 10)
        assert len(plays) == 1
        _tick(c, 25)  # 35 s since it sounded
        assert len(plays) == 2
        _tick(c, 29)
        assert len(plays) == 2
        _tick(c, 1)
        assert len(plays) == 3
        with qtbot.waitSignal(c.gateway.submitted, timeout=5000):
            banner.acknowledge("CRT-1 on the way")
        _tick(c, 120)
        assert len(plays) == 3 and banner.alarms == 3


def test_repeat_zero_sounds_once(qtbot: Any, tmp_path: Path, plays: list[int]) -> None:
    for c in _console(qtbot, tmp_path, "0"):
        host = QWidget()
        qtbot.addWidget(host)
        AlertBanner(c.ctx, host, sound=True)
        c.feed(qtbot, [ev_alert(backup_alert("CRT-3", T0), T0)])
        _tick(c, 600)
        assert len(plays) == 1


def test_alarm_repeat_is_checked() -> None:
    assert parse_config("", env={}).alarm_repeat_s == 60
    with pytest.raises(ConfigError, match="alarm_repeat_s"):
        parse_config("[ui]\nalarm_repeat_s = -5\n", env={})


@pytest.mark.webengine
def test_quit_with_an_emergency_open_asks_first(
    qtbot: Any, tmp_path: Path, plays: list[int]
) -> None:
    from fixtures_dialogs import world_events

    from console.domain.clock import ManualClock
    from console.store import Store
    from console.ui.shell.main import build_console as build_window

    clock = ManualClock(T0)
    store = Store.open(f"sqlite:///{tmp_path / 'w.db'}", clock=clock)
    store.append([*world_events(T0), ev_alert(backup_alert("CRT-3", T0), T0)])
    console = build_window(
        dialogs_config(tmp_path),
        store,
        dispatch_url=None,
        operator="J. Doe",
        role="supervisor",
        clock=clock,
        settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat),
    )
    win = console.window
    try:
        qtbot.waitExposed(win)
        qtbot.waitUntil(lambda: bool(win.alert_banner.critical), timeout=10_000)
        asked: list[str] = []

        def answer(text: str) -> None:
            box = win.quit_box
            assert box is not None
            asked.append(box.text())
            next(b for b in box.buttons() if text in b.text()).click()

        # Ctrl+Q, answered "Stay": the console stays open.
        QTimer.singleShot(0, lambda: answer("Stay"))
        quit_act = next(a for a in win.findChildren(QAction) if a.text() == "&Quit")
        quit_act.trigger()
        assert asked and "CRT-3 requests backup" in asked[0]
        assert win.isVisible()
        # Closing the window, answered "Quit anyway": it closes.
        QTimer.singleShot(0, lambda: answer("Quit anyway"))
        assert win.close()
        assert len(asked) == 2 and not win.isVisible()
    finally:
        console.close()
