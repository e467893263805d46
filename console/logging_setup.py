"""One logging setup for the whole program.

Every module logs to ``logging.getLogger(__name__)``, so records arrive under one logger per
package (``console.sync``, ``console.store``, ``console.ui`` ...) and can be filtered by it.
:func:`setup_logging` sends them to a rotating file in the data folder, to stderr if asked, and
to a RAM ring buffer a diagnostics view can show; uncaught exceptions (main thread and worker
threads) are logged instead of vanishing. Passwords in URLs never reach a log line, and a
traceback keeps the exception's type and frames but never local variables nor the message of an
exception raised by the database (it may quote a call's address or summary): see
:func:`scrub_exception`. The log folder and files are readable by their owner only.

Qt-free: Qt's own messages are routed into ``logging`` by ``console.ui``.
"""

from __future__ import annotations

import collections
import contextlib
import copy
import logging
import logging.handlers
import os
import re
import sys
import threading
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from console.files import private_dir

LOG_FILENAME = "console.log"
PACKAGE_LOGGER = "console"
CRASH_LOGGER = "console.crash"
FORMAT = "%(asctime)s %(levelname)-8s %(name)s [%(threadName)s] %(message)s"
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^\s/@:]*:)[^\s/@]+@")


def redact_text(text: str) -> str:
    """``text`` with the password of any ``scheme://user:password@host`` URL replaced."""
    return _URL_PASSWORD.sub(r"\g<head>***@", text)


DRIVER_MODULES = ("sqlalchemy", "sqlite3", "psycopg", "psycopg2", "alembic", "_sqlite3")
WITHHELD = "(message withheld: raised by the database, it may quote stored records)"


def from_database(exc: BaseException) -> bool:
    """Whether ``exc`` was raised by the database layer (SQLAlchemy or a driver)."""
    return type(exc).__module__.split(".")[0] in DRIVER_MODULES


def scrub_exception(
    exc_type: type[BaseException], exc: BaseException | None, tb: TracebackType | None
) -> str:
    """A traceback fit for a log or a crash report: the type and the frames of every exception
    in the chain, no local variables, and no message for an exception the database raised."""
    if exc is None:
        return f"{exc_type.__name__}\n"
    te = traceback.TracebackException(exc_type, exc, tb, capture_locals=False, compact=True)
    seen: set[int] = set()
    cur: traceback.TracebackException | None = te
    stack = [te]
    while stack:
        cur = stack.pop()
        if id(cur) in seen:
            continue
        seen.add(id(cur))
        if cur.exc_type is not None and (cur.exc_type.__module__.split(".")[0] in DRIVER_MODULES):
            cur._str = WITHHELD  # type: ignore[attr-defined]
            if getattr(cur, "__notes__", None):
                cur.__notes__ = None
        for nxt in (cur.__cause__, cur.__context__):
            if nxt is not None:
                stack.append(nxt)
    return redact_text("".join(te.format()))


def exception_summary(exc: BaseException) -> str:
    """``Type: message`` for a log line, the message withheld when the database raised it."""
    if from_database(exc):
        return f"{type(exc).__name__} {WITHHELD}"
    return f"{type(exc).__name__}: {exc}"


class RedactingFormatter(logging.Formatter):
    """ISO 8601 UTC timestamps with milliseconds; URL passwords removed from the whole line;
    tracebacks scrubbed (:func:`scrub_exception`)."""

    def formatException(self, ei: Any) -> str:
        return scrub_exception(*ei).rstrip("\n")

    def format(self, record: logging.LogRecord) -> str:
        if record.exc_info:
            # Never reuse a traceback another handler formatted unscrubbed.
            record = copy.copy(record)
            record.exc_text = None
        return redact_text(super().format(record))

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        t = datetime.fromtimestamp(record.created, UTC)
        return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(record.msecs):03d}Z"


class RingBufferHandler(logging.Handler):
    """Keeps the last ``capacity`` records in memory for a diagnostics view.

    Listeners are called with each new record on the thread that logged it;
    a view must hop to its own thread before touching widgets.
    """

    def __init__(self, capacity: int = 2000, level: int = logging.NOTSET) -> None:
        if capacity < 1:
            raise ValueError(f"ring buffer capacity must be at least 1, not {capacity}")
        super().__init__(level)
        self.capacity = capacity
        self._records: collections.deque[logging.LogRecord] = collections.deque(maxlen=capacity)
        self._listeners: list[Callable[[logging.LogRecord], None]] = []
        self._guard = threading.Lock()
        self.setFormatter(RedactingFormatter(FORMAT))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            # A private copy with the message resolved now: args may change or die later, and
            # frames (with their locals) must not be kept alive by the buffer.
            r = copy.copy(record)
            r.message = redact_text(record.getMessage())
            r.msg, r.args = r.message, None
            if r.exc_info:  # ours, scrubbed, even if another handler formatted it first
                r.exc_text = scrub_exception(*r.exc_info).rstrip("\n")
            if r.exc_text:
                r.exc_text = redact_text(r.exc_text)
            r.exc_info = None
        except Exception:
            self.handleError(record)
            return
        with self._guard:
            self._records.append(r)
            listeners = list(self._listeners)
        for fn in listeners:
            try:
                fn(r)
            except Exception:
                self.handleError(record)

    def records(self) -> list[logging.LogRecord]:
        with self._guard:
            return list(self._records)

    def lines(self) -> list[str]:
        """The buffered records formatted as in the log file."""
        return [self.format(r) for r in self.records()]

    def clear(self) -> None:
        with self._guard:
            self._records.clear()

    def add_listener(self, fn: Callable[[logging.LogRecord], None]) -> None:
        with self._guard:
            self._listeners.append(fn)

    def remove_listener(self, fn: Callable[[logging.LogRecord], None]) -> None:
        with self._guard:
            if fn in self._listeners:
                self._listeners.remove(fn)


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating log whose files (the current one and each rolled one) are 0600."""

    def _open(self) -> Any:
        stream = super()._open()
        with contextlib.suppress(OSError):
            os.chmod(self.baseFilename, 0o600)
        return stream


# -- uncaught exceptions -----------------------------------------------------------------------


def _log_uncaught(
    exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
) -> None:
    if issubclass(exc_type, KeyboardInterrupt):
        sys.__excepthook__(exc_type, exc, tb)
        return
    logging.getLogger(CRASH_LOGGER).critical(
        "uncaught exception: %s", exception_summary(exc), exc_info=(exc_type, exc, tb)
    )


def _log_uncaught_thread(args: threading.ExceptHookArgs) -> None:
    if args.exc_value is None or issubclass(args.exc_type, SystemExit):
        return
    name = args.thread.name if args.thread is not None else "?"
    logging.getLogger(CRASH_LOGGER).critical(
        "uncaught exception in thread %s: %s",
        name,
        exception_summary(args.exc_value),
        exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
    )


# -- setup / teardown --------------------------------------------------------------------------

_installed: list[logging.Handler] = []
_saved_hooks: dict[str, object] = {}
_saved_levels: dict[str, int] = {}


def _level(level: str | int) -> int:
    if isinstance(level, int) and not isinstance(level, bool):
        return level
    if isinstance(level, str) and level.strip().upper() in LEVELS:
        return logging.getLevelNamesMapping()[level.strip().upper()]
    raise ValueError(f"log level {level!r} is not allowed (expected one of {', '.join(LEVELS)})")


def log_file(data_dir: Path) -> Path:
    return data_dir / "logs" / LOG_FILENAME


def setup_logging(
    data_dir: Path,
    level: str | int = "INFO",
    console: bool = True,
    *,
    ring_capacity: int = 2000,
    max_bytes: int = 5 * 1024 * 1024,
    backup_count: int = 5,
) -> RingBufferHandler:
    """Install the program's logging; returns the ring buffer for a diagnostics view.

    The program's own loggers (``console.*``) log at ``level``; other libraries only from
    WARNING, so a chatty dependency cannot flood the file. Calling it again replaces the previous
    setup (handlers are never doubled).
    """
    lvl = _level(level)
    teardown_logging()
    path = log_file(data_dir)
    private_dir(path.parent, tighten=True)

    fmt = RedactingFormatter(FORMAT)
    file_handler = PrivateRotatingFileHandler(
        path, maxBytes=max_bytes, backupCount=backup_count, encoding="utf-8"
    )
    file_handler.setFormatter(fmt)
    ring = RingBufferHandler(ring_capacity)
    handlers: list[logging.Handler] = [file_handler, ring]
    if console:
        stream = logging.StreamHandler(sys.stderr)
        stream.setFormatter(fmt)
        handlers.append(stream)

    root = logging.getLogger()
    pkg = logging.getLogger(PACKAGE_LOGGER)
    _saved_levels["root"] = root.level
    _saved_levels[PACKAGE_LOGGER] = pkg.level
    root.setLevel(logging.WARNING)
    pkg.setLevel(lvl)
    for h in handlers:
        root.addHandler(h)
        _installed.append(h)

    logging.captureWarnings(True)
    _saved_hooks["sys"] = sys.excepthook
    _saved_hooks["threading"] = threading.excepthook
    sys.excepthook = _log_uncaught
    threading.excepthook = _log_uncaught_thread

    logging.getLogger(__name__).info("logging to %s at %s", path, logging.getLevelName(lvl))
    return ring


def teardown_logging() -> None:
    """Undo :func:`setup_logging`: remove and close its handlers, restore hooks and levels."""
    root = logging.getLogger()
    while _installed:
        h = _installed.pop()
        root.removeHandler(h)
        h.close()
    if "sys" in _saved_hooks:
        sys.excepthook = _saved_hooks.pop("sys")  # type: ignore[assignment]
    if "threading" in _saved_hooks:
        threading.excepthook = _saved_hooks.pop("threading")  # type: ignore[assignment]
    if "root" in _saved_levels:
        root.setLevel(_saved_levels.pop("root"))
    if PACKAGE_LOGGER in _saved_levels:
        logging.getLogger(PACKAGE_LOGGER).setLevel(_saved_levels.pop(PACKAGE_LOGGER))
    logging.captureWarnings(False)
