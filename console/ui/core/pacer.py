"""One GUI update per turn of the event loop.

A new picture touches every panel: queue, board, map, alerts. Run back to back inside the
signal (or as zero-delay calls, which Qt delivers in one batch), their costs add up to one
long stall of the GUI thread, during which a key press, a timer or a repaint waits. The pacer
runs queued updates one at a time from a zero-interval timer, so the event loop turns between
them and everything else gets its turn. Updates are keyed: queuing a key that is already
waiting replaces its function and keeps its place, so a panel that falls behind does its
latest update once rather than every update it missed.

Between two updates the pacer steps aside twice: the repaint an update caused runs on the
next turn, and a timer that fell due meanwhile (a clock, a blinking cursor, a key repeat)
would still come after the next update, whose zero-delay timer is older. So after an update
the pacer first waits one turn, then queues the next.

Work too large for one turn is a generator run by :meth:`Pacer.run_steps`: one step per turn,
under a key, so a newer run (a newer picture, a newer clock tick) replaces the one in progress.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Hashable, Iterator

from PySide6.QtCore import QObject, QTimer

from console.ui.core.app_globals import GLOBALS

log = logging.getLogger(__name__)


class Pacer(QObject):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._jobs: dict[Hashable, Callable[[], None]] = {}
        self._runs: dict[Hashable, Iterator[object]] = {}
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._run_one)
        self._hop = QTimer(self)
        self._hop.setSingleShot(True)
        self._hop.setInterval(0)
        self._hop.timeout.connect(self._timer.start)
        self._closed = False
        self.on_job: Callable[[Hashable, float], None] | None = None
        """Called after each job with its key and how long it ran (ms): a timing hook."""

    def schedule(self, key: Hashable, fn: Callable[[], None]) -> None:
        """Run ``fn`` on a later turn of the event loop (GUI thread only)."""
        if self._closed:
            return  # shutting down: the panels that asked are going away
        self._jobs[key] = fn
        if not self._timer.isActive() and not self._hop.isActive():
            self._timer.start()

    def run_steps(self, key: Hashable, steps: Iterator[object]) -> None:
        """Advance ``steps`` once per turn of the event loop, from the next turn on, until it
        ends. A new run under the same ``key`` replaces the one in progress (closed, so its
        ``finally`` clauses run); :meth:`cancel` stops it."""
        if self._closed:
            return
        self._stop_run(key)
        self._runs[key] = steps

        def step() -> None:
            if self._runs.get(key) is not steps:
                return  # replaced or cancelled meanwhile
            try:
                next(steps)
            except StopIteration:
                if self._runs.get(key) is steps:
                    del self._runs[key]
                return
            except BaseException:
                if self._runs.get(key) is steps:
                    del self._runs[key]
                raise
            if self._runs.get(key) is steps:  # a step may have started a newer run
                self.schedule(key, step)

        self.schedule(key, step)

    def cancel(self, key: Hashable) -> None:
        """Drop the update or stepped run queued under ``key``, if any."""
        self._jobs.pop(key, None)
        self._stop_run(key)

    def running(self, key: Hashable) -> bool:
        """A stepped run under ``key`` has steps left."""
        return key in self._runs

    def _stop_run(self, key: Hashable) -> None:
        old = self._runs.pop(key, None)
        close = getattr(old, "close", None)
        if callable(close):
            close()

    def run_next(self) -> None:
        """Run the update that comes next now (a test's "next turn of the event loop")."""
        self._run_one()

    def pending(self) -> int:
        return len(self._jobs)

    def flush(self) -> None:
        """Run everything queued now (shutdown, tests, a grab that must show the latest)."""
        while self._jobs:
            self._run_one()

    def clear(self) -> None:
        """Drop everything queued."""
        self._jobs.clear()
        for key in list(self._runs):
            self._stop_run(key)
        self._timer.stop()
        self._hop.stop()

    def close(self) -> None:
        """Shutdown: drop everything queued and take nothing more (the panels are going)."""
        self._closed = True
        self.clear()

    def _run_one(self) -> None:
        if not self._jobs:
            return
        key = next(iter(self._jobs))
        fn = self._jobs.pop(key)
        t0 = time.perf_counter()
        try:
            fn()
        except Exception:  # one panel's failure must not starve the others
            log.exception("GUI update %r failed", key)
        finally:
            if self.on_job is not None:
                self.on_job(key, (time.perf_counter() - t0) * 1000.0)
            if self._jobs and not self._timer.isActive() and not self._hop.isActive():
                self._hop.start()


def default_pacer() -> Pacer:
    """The process's pacer (panels built without a context that carries one)."""
    if GLOBALS.pacer is None:
        GLOBALS.pacer = Pacer()
    return GLOBALS.pacer
