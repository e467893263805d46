"""The one way to leave the GUI thread.

``run_in_background(fn, on_done, on_error)`` runs ``fn`` on a worker thread and delivers its
result (or exception) back on the GUI thread through a queued signal: workers never touch
widgets. Reads share a small pool; database writes (``writer=True``) go through a single writer
thread, so supervisor commands are serialised and a burst of reads cannot reorder them.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, Qt, Signal, Slot

from console.ui.core.app_globals import GLOBALS

log = logging.getLogger(__name__)

Done = Callable[[Any], None]
Failed = Callable[[BaseException], None]


class TaskManager(QObject):
    """Worker pools plus a relay object living on the GUI thread."""

    _finished = Signal(int, bool, object)
    """(task id, ok, result or exception), emitted from a worker, received on the GUI thread."""

    def __init__(self, readers: int = 2, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._reads = ThreadPoolExecutor(max_workers=readers, thread_name_prefix="rc-read")
        self._writes = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rc-write")
        self._lanes: dict[str, ThreadPoolExecutor] = {}
        self._ids = itertools.count(1)
        self._callbacks: dict[int, tuple[Done | None, Failed | None]] = {}
        self._lock = threading.Lock()
        self._closed = False
        self._finished.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    @property
    def in_flight(self) -> int:
        with self._lock:
            return len(self._callbacks)

    def run(
        self,
        fn: Callable[[], Any],
        on_done: Done | None = None,
        on_error: Failed | None = None,
        *,
        writer: bool = False,
        lane: str | None = None,
    ) -> Future[Any] | None:
        """Run ``fn()`` off the GUI thread; ``on_done(result)`` / ``on_error(exc)`` run on it.

        ``lane`` names a dedicated single worker (e.g. ``"picture"``): work that must not wait
        behind long reads (a plot's query) gets its own thread."""
        if self._closed:
            log.debug("task refused: the task manager is shut down")
            return None
        tid = next(self._ids)
        with self._lock:
            self._callbacks[tid] = (on_done, on_error)
        pool = self._writes if writer else (self._lane(lane) if lane else self._reads)

        def job() -> Any:
            try:
                result = fn()
            except BaseException as exc:  # delivered to on_error (or logged), never lost
                self._emit(tid, False, exc)
                raise
            self._emit(tid, True, result)
            return result

        try:
            return pool.submit(job)
        except RuntimeError:  # the pool shut down between the check and the submit
            with self._lock:
                self._callbacks.pop(tid, None)
            return None

    def _lane(self, name: str) -> ThreadPoolExecutor:
        with self._lock:
            pool = self._lanes.get(name)
            if pool is None:
                pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"rc-{name}")
                self._lanes[name] = pool
            return pool

    def _emit(self, tid: int, ok: bool, value: object) -> None:
        if self._closed:
            return
        with contextlib.suppress(RuntimeError):  # the relay was deleted at shutdown
            self._finished.emit(tid, ok, value)

    @Slot(int, bool, object)
    def _deliver(self, tid: int, ok: bool, value: object) -> None:
        with self._lock:
            done, failed = self._callbacks.pop(tid, (None, None))
        if ok:
            if done is not None:
                done(value)
            return
        assert isinstance(value, BaseException)
        if failed is not None:
            failed(value)
        else:
            log.error("background task failed", exc_info=(type(value), value, value.__traceback__))

    def shutdown(self, wait: bool = True) -> None:
        """Stop taking tasks; drop queued ones; let running ones finish (``wait``)."""
        self._closed = True
        self._reads.shutdown(wait=wait, cancel_futures=True)
        for pool in list(self._lanes.values()):
            pool.shutdown(wait=wait, cancel_futures=True)
        self._writes.shutdown(wait=wait, cancel_futures=False)  # a queued write still lands
        with self._lock:
            self._callbacks.clear()


def default_tasks() -> TaskManager:
    """The application's task manager (created on first use, on the GUI thread)."""
    if GLOBALS.tasks is None or GLOBALS.tasks._closed:
        app = QCoreApplication.instance()
        GLOBALS.tasks = TaskManager(parent=app)
    return GLOBALS.tasks


def run_in_background(
    fn: Callable[[], Any],
    on_done: Done | None = None,
    on_error: Failed | None = None,
    *,
    writer: bool = False,
) -> Future[Any] | None:
    """See :meth:`TaskManager.run`; uses the application's task manager."""
    return default_tasks().run(fn, on_done, on_error, writer=writer)


def shutdown_default(wait: bool = True) -> None:
    if GLOBALS.tasks is not None:
        GLOBALS.tasks.shutdown(wait)
        GLOBALS.tasks = None
