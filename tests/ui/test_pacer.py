"""The pacer runs panel updates one per event-loop turn, so other events get in between."""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QWidget

from console.ui.core.pacer import Pacer


def test_events_queued_by_one_update_run_before_the_next_update(qtbot: Any) -> None:
    pacer = Pacer()
    order: list[str] = []

    def first() -> None:
        order.append("first")
        # What a key press, a repaint or a heartbeat looks like to the event loop.
        QTimer.singleShot(0, lambda: order.append("other"))

    pacer.schedule("a", first)
    pacer.schedule("b", lambda: order.append("second"))
    qtbot.waitUntil(lambda: len(order) == 3, timeout=2000)
    assert order == ["first", "other", "second"]


class _SlowToPaint(QWidget):
    def __init__(self, order: list[str]) -> None:
        super().__init__()
        self.order = order

    def paintEvent(self, event: Any) -> None:
        self.order.append("paint")
        end = time.perf_counter() + 0.03
        while time.perf_counter() < end:  # a repaint that takes a while
            pass


def test_a_timer_due_during_an_updates_repaint_runs_before_the_next_update(qtbot: Any) -> None:
    order: list[str] = []
    widget = _SlowToPaint(order)
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    qtbot.wait(50)
    order.clear()
    pacer = Pacer()
    clock = QTimer()
    clock.setSingleShot(True)
    clock.setTimerType(Qt.TimerType.PreciseTimer)
    clock.setInterval(5)
    clock.timeout.connect(lambda: order.append("clock"))

    def first() -> None:
        order.append("first")
        widget.update()
        clock.start()  # falls due while the repaint runs

    pacer.schedule("a", first)
    pacer.schedule("b", lambda: order.append("second"))
    qtbot.waitUntil(lambda: "second" in order and "clock" in order, timeout=2000)
    assert order == ["first", "paint", "clock", "second"]


def test_a_key_already_waiting_keeps_its_place_and_runs_once_with_the_latest(qtbot: Any) -> None:
    pacer = Pacer()
    ran: list[str] = []
    pacer.schedule("queue", lambda: ran.append("queue v1"))
    pacer.schedule("map", lambda: ran.append("map"))
    pacer.schedule("queue", lambda: ran.append("queue v2"))
    qtbot.waitUntil(lambda: pacer.pending() == 0, timeout=2000)
    assert ran == ["queue v2", "map"]


def test_a_failing_update_is_logged_and_the_others_still_run(qtbot: Any, caplog: Any) -> None:
    pacer = Pacer()
    ran: list[str] = []

    def broken() -> None:
        raise ValueError("panel exploded")

    pacer.schedule("broken", broken)
    pacer.schedule("fine", lambda: ran.append("fine"))
    qtbot.waitUntil(lambda: ran == ["fine"], timeout=2000)
    assert "panel exploded" in caplog.text and "'broken'" in caplog.text


def test_flush_runs_everything_now_and_clear_drops_it(qtbot: Any) -> None:
    pacer = Pacer()
    ran: list[int] = []
    for i in range(3):
        pacer.schedule(i, lambda i=i: ran.append(i))
    pacer.flush()
    assert ran == [0, 1, 2] and pacer.pending() == 0
    pacer.schedule("late", lambda: ran.append(99))
    pacer.clear()
    qtbot.wait(50)
    assert ran == [0, 1, 2]


def test_a_closed_pacer_takes_nothing_more(qtbot: Any) -> None:
    pacer = Pacer()
    ran: list[str] = []
    pacer.schedule("queued", lambda: ran.append("queued"))
    pacer.close()
    pacer.schedule("late", lambda: ran.append("late"))  # a worker's answer after shutdown
    qtbot.wait(50)
    assert ran == [] and pacer.pending() == 0
