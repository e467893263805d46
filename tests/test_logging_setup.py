"""Logging: named loggers to a rotating file and a ring buffer; uncaught errors are logged."""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from console.logging_setup import (
    CRASH_LOGGER,
    RingBufferHandler,
    log_file,
    redact_text,
    setup_logging,
    teardown_logging,
)


@pytest.fixture(autouse=True)
def _restore() -> Iterator[None]:
    hooks = (sys.excepthook, threading.excepthook)
    yield
    teardown_logging()
    assert (sys.excepthook, threading.excepthook) == hooks


def read_log(data_dir: Path) -> str:
    for h in logging.getLogger().handlers:
        h.flush()
    return log_file(data_dir).read_text(encoding="utf-8")


def test_named_loggers_reach_file_and_ring(tmp_path: Path) -> None:
    ring = setup_logging(tmp_path, level="INFO", console=False)
    assert isinstance(ring, RingBufferHandler)
    logging.getLogger("console.sync.feed").info("connected to %s", "ws://127.0.0.1:1")
    logging.getLogger("console.store").debug("not at INFO")
    text = read_log(tmp_path)
    assert "INFO     console.sync.feed [MainThread] connected to ws://127.0.0.1:1" in text
    assert "not at INFO" not in text
    names = [r.name for r in ring.records()]
    assert "console.sync.feed" in names and "console.store" not in names
    assert any("connected to ws://127.0.0.1:1" in line for line in ring.lines())
    assert log_file(tmp_path) == tmp_path / "logs" / "console.log"


def test_debug_level_and_other_libraries(tmp_path: Path) -> None:
    ring = setup_logging(tmp_path, level="debug", console=False)
    logging.getLogger("console.ui.map").debug("marker moved")
    logging.getLogger("websockets.client").info("chatty library")
    logging.getLogger("sqlalchemy.pool").warning("pool trouble")
    msgs = [r.getMessage() for r in ring.records()]
    assert "marker moved" in msgs
    assert "chatty library" not in msgs
    assert "pool trouble" in msgs


def test_ring_keeps_only_the_last_records(tmp_path: Path) -> None:
    ring = setup_logging(tmp_path, console=False, ring_capacity=5)
    log = logging.getLogger("console.test")
    for i in range(12):
        log.warning("record %d", i)
    assert [r.getMessage() for r in ring.records()] == [f"record {i}" for i in range(7, 12)]
    ring.clear()
    assert ring.records() == []


def test_ring_listener_sees_each_record(tmp_path: Path) -> None:
    ring = setup_logging(tmp_path, console=False)
    seen: list[str] = []
    ring.add_listener(lambda r: seen.append(r.getMessage()))
    logging.getLogger("console.x").warning("one")
    ring.remove_listener(lambda r: None)  # not registered: harmless
    logging.getLogger("console.x").warning("two")
    assert seen == ["one", "two"]


def test_ring_resolves_arguments_at_log_time(tmp_path: Path) -> None:
    ring = setup_logging(tmp_path, console=False)
    state = ["before"]
    logging.getLogger("console.x").warning("state %s", state)
    state[0] = "after"
    assert ring.records()[-1].getMessage() == "state ['before']"


def test_setup_twice_does_not_double_handlers(tmp_path: Path) -> None:
    root = logging.getLogger()
    before = len(root.handlers)
    setup_logging(tmp_path, console=True)
    first = len(root.handlers)
    ring = setup_logging(tmp_path, console=True)
    assert len(root.handlers) == first == before + 3
    logging.getLogger("console.x").warning("once")
    assert read_log(tmp_path).count("once") == 1
    assert [r.getMessage() for r in ring.records()].count("once") == 1
    teardown_logging()
    assert len(root.handlers) == before


def test_console_handler_writes_stderr(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    setup_logging(tmp_path, console=True)
    logging.getLogger("console.app").error("visible on stderr")
    assert "visible on stderr" in capsys.readouterr().err


def test_uncaught_exception_is_logged(tmp_path: Path) -> None:
    ring = setup_logging(tmp_path, console=False)
    try:
        raise RuntimeError("boom in the main thread")
    except RuntimeError as e:
        sys.excepthook(type(e), e, e.__traceback__)
    text = read_log(tmp_path)
    assert f"CRITICAL {CRASH_LOGGER}" in text
    assert "RuntimeError: boom in the main thread" in text
    assert "Traceback (most recent call last)" in text
    rec = ring.records()[-1]
    assert rec.name == CRASH_LOGGER and rec.levelno == logging.CRITICAL
    assert rec.exc_text and "test_uncaught_exception_is_logged" in rec.exc_text


def test_uncaught_exception_in_a_thread_is_logged(tmp_path: Path) -> None:
    ring = setup_logging(tmp_path, console=False)

    def worker() -> None:
        raise ValueError("boom in a worker")

    t = threading.Thread(target=worker, name="sync-worker")
    t.start()
    t.join(timeout=10)
    rec = ring.records()[-1]
    assert rec.name == CRASH_LOGGER
    assert "sync-worker" in rec.getMessage() and "boom in a worker" in rec.getMessage()
    assert "ValueError: boom in a worker" in read_log(tmp_path)


def test_passwords_never_reach_the_log(tmp_path: Path) -> None:
    ring = setup_logging(tmp_path, console=False)
    url = "postgresql+psycopg://console:hunter2@db.example:5432/rc"
    logging.getLogger("console.store").warning("opening %s", url)
    try:
        raise ConnectionError(f"cannot reach {url}")
    except ConnectionError:
        logging.getLogger("console.store").exception("failed")
    text = read_log(tmp_path)
    assert "hunter2" not in text
    assert "postgresql+psycopg://console:***@db.example:5432/rc" in text
    assert all("hunter2" not in line for line in ring.lines())
    assert all("hunter2" not in (r.exc_text or "") for r in ring.records())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("url ws://u:p@h:1/x ok", "url ws://u:***@h:1/x ok"),
        ("no creds http://h/x", "no creds http://h/x"),
        ("user only postgresql://u@h/db", "user only postgresql://u@h/db"),
        ("time 12:30 and a@b", "time 12:30 and a@b"),
    ],
)
def test_redact_text(text: str, expected: str) -> None:
    assert redact_text(text) == expected


def test_file_rotates(tmp_path: Path) -> None:
    setup_logging(tmp_path, console=False, max_bytes=2000, backup_count=2)
    log = logging.getLogger("console.x")
    for i in range(200):
        log.warning("line %04d %s", i, "x" * 40)
    teardown_logging()
    files = sorted(p.name for p in (tmp_path / "logs").iterdir())
    assert files == ["console.log", "console.log.1", "console.log.2"]
    assert all((tmp_path / "logs" / f).stat().st_size <= 2000 for f in files)
    assert "line 0199" in (tmp_path / "logs" / "console.log").read_text()


def test_bad_level_is_refused(tmp_path: Path) -> None:
    with pytest.raises(
        ValueError, match=r"log level 'LOUD' is not allowed \(expected one of DEBUG"
    ):
        setup_logging(tmp_path, level="LOUD")
    with pytest.raises(ValueError, match="at least 1"):
        RingBufferHandler(0)


def test_config_and_logging_import_no_qt() -> None:
    code = (
        "import sys, console.config, console.logging_setup;"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyqtgraph', 'folium')];"
        "sys.exit(1 if bad else 0)"
    )
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "-c", code], cwd=root, timeout=60)
    assert done.returncode == 0


def test_crash_reports_keep_frames_but_no_record_content(tmp_path: Path) -> None:
    """A database error's message (which may quote an address) and local variables stay out of
    the log, the ring and the crash report; the type and the frames stay in."""
    import sqlite3

    from console.logging_setup import scrub_exception

    ring = setup_logging(tmp_path, console=False)
    address = "".join(("12 Elm", " Street"))
    secret_local = "".join(("Jane", " Doe"))  # noqa: F841 - a local that must not be reported
    try:
        try:
            raise sqlite3.IntegrityError(f"UNIQUE constraint failed: {address}")
        except sqlite3.Error as exc:
            raise RuntimeError("the store failed") from exc
    except RuntimeError as e:
        sys.excepthook(type(e), e, e.__traceback__)
        report = scrub_exception(type(e), e, e.__traceback__)
    text = read_log(tmp_path)
    for shown in (text, ring.lines()[-1], report):
        assert "IntegrityError" in shown and "RuntimeError: the store failed" in shown
        assert "test_crash_reports_keep_frames_but_no_record_content" in shown
        assert address not in shown and "Jane Doe" not in shown


def test_log_folder_and_file_are_the_owners_alone(tmp_path: Path) -> None:
    import os

    old = os.umask(0o022)
    try:
        setup_logging(tmp_path / "data", console=False)
        logging.getLogger("console.test").warning("hello")
    finally:
        os.umask(old)
    path = log_file(tmp_path / "data")
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700
