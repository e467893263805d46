"""The pacer runs panel updates one per event-loop turn, so other events get in between."""

from __future__ import annotations

import time
from collections.abc import Iterator
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


def _counting(log: list[str], name: str, n: int) -> Iterator[None]:
    try:
        for i in range(n):
            log.append(f"{name}{i}")
            yield
    finally:
        log.append(f"{name} closed")


def test_run_steps_runs_one_step_per_turn_between_other_updates(qtbot: Any) -> None:
    pacer = Pacer()
    log: list[str] = []
    pacer.run_steps("rows", _counting(log, "r", 3))
    assert log == []  # from the next turn on
    pacer.schedule("other", lambda: log.append("other"))
    qtbot.waitUntil(lambda: "r closed" in log, timeout=2000)
    assert log == ["r0", "other", "r1", "r2", "r closed"]
    assert not pacer.running("rows") and pacer.pending() == 0


def test_a_new_run_under_the_same_key_replaces_the_one_in_progress(qtbot: Any) -> None:
    pacer = Pacer()
    log: list[str] = []
    pacer.run_steps("tick", _counting(log, "old", 5))
    pacer.run_next()
    pacer.run_steps("tick", _counting(log, "new", 2))
    assert log == ["old0", "old closed"]  # the old run is closed at once, not stepped again
    pacer.flush()
    assert log == ["old0", "old closed", "new0", "new1", "new closed"]


def test_cancel_stops_a_run_and_other_keys_go_on(qtbot: Any) -> None:
    pacer = Pacer()
    log: list[str] = []
    pacer.run_steps("a", _counting(log, "a", 3))
    pacer.run_steps("b", _counting(log, "b", 2))
    pacer.run_next()
    pacer.cancel("a")
    assert pacer.running("b") and not pacer.running("a")
    pacer.flush()
    assert log == ["a0", "a closed", "b0", "b1", "b closed"]


def test_a_failing_step_ends_its_run_only(qtbot: Any) -> None:
    pacer = Pacer()
    log: list[str] = []

    def broken() -> Iterator[None]:
        log.append("x0")
        yield
        raise RuntimeError("boom")

    pacer.run_steps("x", broken())
    pacer.run_steps("y", _counting(log, "y", 2))
    pacer.flush()
    assert log == ["x0", "y0", "y1", "y closed"]
    assert not pacer.running("x")


def test_a_context_steps_on_its_own_pacer(context: Any) -> None:
    log: list[str] = []
    context.run_steps("k", _counting(log, "k", 3))
    assert context.pacer.running("k")
    context.pacer.run_next()
    context.cancel("k")
    assert not context.pacer.running("k") and log == ["k0", "k closed"]
