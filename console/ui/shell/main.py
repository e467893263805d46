"""Starting the desktop console: the composition root of the GUI.

``run(args)`` sets up the application object, logging (Qt's own messages and uncaught
exceptions included), the configuration (the first start writes the commented default file),
the database (the embedded SQLite schema is created or migrated automatically), the dispatch
link on a background thread and the main window. ``--demo`` also starts the dispatch simulator on
a free loopback port, fast enough to show activity, on a fresh database in the user data folder.

:func:`build_console` wires the same graph for tests and benchmarks.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import getpass
import logging
import os
import signal
import sys
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from console.files import private_dir

if TYPE_CHECKING:
    from console.sim.runner import SimulatorThread

from console.ui.core.app_globals import GLOBALS

log = logging.getLogger("console.ui")

APP_NAME = "Responder Console"
ORG_NAME = "Responder Console"
ORG_DOMAIN = "responder-console.org"

DEMO_SPEED = 10.0
"""Simulated seconds per wall second in the demo at start (the status bar changes it,
1x to 60x): a simulated hour in six minutes."""
DEMO_DISPATCH_WAIT_S = 300.0
"""In the demo, the simulated dispatch leaves a new call pending this long (simulated seconds)
before assigning a team itself, so the supervisor can act first (``--dispatch-wait``)."""
DEMO_RATE_PER_HOUR = 10.0
"""Calls an hour in the demo, well above the program's normal load so there is always activity."""
DEMO_TEAMS = 12
DEMO_DB = "demo.sqlite"


# -- the console graph ----------------------------------------------------------------------------


@dataclass
class Console:
    """Everything one console window needs, built by :func:`build_console`."""

    ctx: Any
    window: Any
    sync: Any = None
    simulator: SimulatorThread | None = None
    notifier: Any = None
    watcher: Any = None
    closed: bool = field(default=False)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        close_console(
            self.ctx, self.window, (self.notifier, self.watcher, self.sync, self.simulator)
        )


def close_console(ctx: Any, window: Any, services: tuple[Any, ...] = ()) -> None:
    """Stop a console in order: the picture and the pacer (no new panel work), ``services``
    (link, simulator...), the background tasks (they report to the panels), the window (web
    view), the database."""
    ctx.pictures.stop()
    if ctx.pacer is not None:
        ctx.pacer.close()
    for service in services:
        if service is not None:
            service.stop()
    if ctx.tasks is not None:
        ctx.tasks.shutdown(wait=True)
    if window is not None:
        window.dispose()
    if ctx.store is not None:
        ctx.store.close()


def build_console(
    config: Any,
    store: Any,
    *,
    dispatch_url: str | None,
    operator: str,
    role: str,
    demo: bool = False,
    simulator: SimulatorThread | None = None,
    clock: Any = None,
    settings: Any = None,
    show: bool = True,
    pg_notify_url: str | None = None,
) -> Console:
    """Wire picture source, gateway, link and window (on the GUI thread, app already exists)."""
    from console.domain.clock import SystemClock
    from console.ui.core.context import build_context
    from console.ui.core.picture import LivePictureSource
    from console.ui.shell.window import MainWindow

    clock = clock or SystemClock()
    ctx = build_context(config, store, clock=clock, operator=operator, role=role, demo=demo)
    pictures, gateway = ctx.pictures, ctx.gateway
    assert isinstance(pictures, LivePictureSource)
    sync = None
    if dispatch_url:
        from console.sync.service import SyncService
        from console.sync.transport import LinkSecurity

        link = getattr(config, "dispatch", None)
        security = (
            None
            if link is None
            else LinkSecurity(link.ca_file, link.cert_file, link.key_file, link.allow_unencrypted)
        )
        sync = SyncService(
            # Wall clock: link health (last message, reconnecting since) is about real time,
            # even when the picture runs on a simulator's clock.
            store,
            dispatch_url,
            on_changes=pictures.notify,
            on_health=pictures.set_link,
            security=security,
            subscribe_timeout_s=getattr(link, "subscribe_timeout_s", 10.0),
            silence_timeout_s=getattr(link, "silence_timeout_s", None),
            retrieval_url=getattr(link, "retrieval_url", None),
            limits=config.feed_limits,
            program_hours=getattr(config, "program_hours", None),
            # Writes failing this many times in a row stop the link, which then says why
            # ("database cannot be written: ...") until the console is restarted.
            max_write_failures=config.max_write_failures,
            # Follow-ups the site's rules call for when dispatch closes a call.
            followups=getattr(config, "followup", None),
            # The feed's times are judged by the picture's clock (the demo's simulator runs
            # ahead of the wall clock).
            data_clock=clock,
        )
        gateway.set_on_queued(sync.wake_outbox)
        pictures.set_link(sync.health)
        pictures.set_unconfirmed(sync.unconfirmed_calls)
    notifier = None
    if pg_notify_url:
        # A console on the center's shared PostgreSQL: the sync service writes; NOTIFY says when.
        from console.ui.core.pgnotify import PgChangeNotifier

        notifier = PgChangeNotifier(pg_notify_url)
        notifier.changed.connect(pictures.notify)
    watcher = None
    if pg_notify_url and sync is None:
        # No link of its own: show the link as the center's sync service reports it.
        from console.ui.core.linkwatch import SharedLinkWatcher

        watcher = SharedLinkWatcher(ctx, silence_s=max(20.0, config.link_stale_s))
    window = MainWindow(ctx, settings=settings)
    if demo and simulator is not None:
        from console.ui.shell.demo import DemoControls

        window.demo_controls = DemoControls(simulator.sim, window)
        window.statusBar().addPermanentWidget(window.demo_controls)
    check_integrity(ctx, store, window)
    console = Console(ctx, window, sync, simulator, notifier=notifier, watcher=watcher)
    if notifier is not None:
        notifier.start()
    if watcher is not None:
        watcher.start()
    pictures.start()
    if sync is not None:
        sync.start()
    if show:
        window.show()
    return console


INTEGRITY_ROWS = 1000
"""The latest rows of the event log and of the audit checked at start (all: ``db verify``)."""


def check_integrity(ctx: Any, store: Any, window: Any) -> None:
    """Check the hash chains of the latest rows on a worker; a red banner if they break."""
    from console.store.chain import verify

    def done(verdict: Any) -> None:
        if verdict.ok:
            log.info(
                "integrity: the latest %d events and %d audit rows verify",
                verdict.events,
                verdict.audit_rows,
            )
            return
        log.error("integrity check failed: %s", verdict.broken)
        with contextlib.suppress(RuntimeError):  # the window closed meanwhile
            window.show_integrity_failure(verdict.broken)

    def failed(exc: BaseException) -> None:
        log.warning("integrity check could not run: %s", exc)

    ctx.run_in_background(lambda: verify(store.engine, latest=INTEGRITY_ROWS), done, failed)


# -- process-wide setup -----------------------------------------------------------------------------


GIL_SWITCH_S = 0.0005
"""How long a worker thread may keep the interpreter while the GUI thread waits for it."""


def settle_process() -> None:
    """After start-up, two process-wide settings that keep the GUI thread responsive.

    Everything allocated so far (Qt, web engine, plots, imports) moves out of the cyclic
    collector's reach: its full collections then scan only what the live feed allocates, which
    keeps them from pausing the GUI thread for a third of a second.

    The interpreter lock passes between threads every :data:`GIL_SWITCH_S` instead of 5 ms.
    The GUI thread gives the lock up at each call into Qt; while a worker thread loads a picture
    (or, in the demo, the simulated dispatch and sync service run), each of those calls could
    wait the whole 5 ms to get it back, and a table update of a hundred cells took four times
    as long as on an idle console (``bench --only ui_stall`` shows the slices).
    """
    gc.collect()
    gc.freeze()
    sys.setswitchinterval(GIL_SWITCH_S)


def _qt_message_handler(mode: Any, context: Any, message: str) -> None:
    from PySide6.QtCore import QtMsgType

    qlog = logging.getLogger("console.qt")
    level = {
        QtMsgType.QtDebugMsg: logging.DEBUG,
        QtMsgType.QtInfoMsg: logging.INFO,
        QtMsgType.QtWarningMsg: logging.WARNING,
        QtMsgType.QtCriticalMsg: logging.ERROR,
        QtMsgType.QtFatalMsg: logging.CRITICAL,
    }.get(mode, logging.WARNING)
    where = f" ({context.category})" if getattr(context, "category", None) else ""
    qlog.log(level, "%s%s", message, where)


def _excepthook(
    exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
) -> None:
    """A bug: into the log with its traceback, and a dialog that says where the log is."""
    if issubclass(exc_type, KeyboardInterrupt):
        from PySide6.QtWidgets import QApplication

        app = QApplication.instance()
        if app is not None:
            app.quit()
        return
    logging.getLogger("console.crash").critical("unexpected error", exc_info=(exc_type, exc, tb))
    if GLOBALS.crash_dialog_open:
        return
    try:
        from PySide6.QtCore import Qt
        from PySide6.QtWidgets import QApplication, QMessageBox

        if QApplication.instance() is None or os.environ.get("QT_QPA_PLATFORM") == "offscreen":
            return
        from console.config import user_data_dir
        from console.logging_setup import exception_summary, log_file, scrub_exception

        GLOBALS.crash_dialog_open = True
        box = QMessageBox(
            QMessageBox.Icon.Critical,
            "Unexpected error",
            f"The console hit an unexpected error: {exception_summary(exc)}\n\n"
            f"It keeps running; details are in {log_file(user_data_dir())}.",
        )
        box.setTextFormat(Qt.TextFormat.PlainText)  # the error may quote dispatch's text
        # No record content: frames only, no locals, no message the database raised.
        box.setDetailedText(scrub_exception(exc_type, exc, tb))
        box.finished.connect(lambda _r: _reset_crash_flag())
        box.open()
    except Exception:  # never let the hook itself fail loudly
        pass


def _reset_crash_flag() -> None:
    GLOBALS.crash_dialog_open = False


def _set_aside(path: Path) -> Path:
    """Move a demo database (and its WAL files) to a dated name beside it: kept, not lost."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    kept = path.with_name(f"{path.stem}-{stamp}{path.suffix}")
    for suffix in ("", "-wal", "-shm"):
        src = path.parent / (path.name + suffix)
        if src.exists():
            src.replace(kept.parent / (kept.name + suffix))
    return kept


def demo_database(data_dir: Path, *, new: bool) -> tuple[str, Path | None]:
    """The demo's database: the last demo shift's, to resume it; with ``new``, a fresh one,
    the previous one kept under a dated name (returned). Never deleted, never overwritten."""
    path = data_dir / DEMO_DB
    kept = _set_aside(path) if new and path.exists() else None
    return f"sqlite:///{path.as_posix()}", kept


def demo_world(store_url: str, *, wait_s: float) -> tuple[Any, str]:
    """The simulated dispatch for the demo: the stored shift carried on where it stopped, or a
    new one. Returns the world and what was done, in words."""
    from console.sim.simulator import build
    from console.store import Store

    state = None
    store = Store.open(store_url, create=True)
    try:
        state = store.load_state()
    finally:
        store.close()
    if state is not None and state.teams and state.as_of is not None:
        start = state.as_of.replace(microsecond=0) + timedelta(seconds=1)
        world = build(
            seed=int(start.timestamp()) % 100_000,
            start=start,
            rate_per_hour=DEMO_RATE_PER_HOUR,
            teams=DEMO_TEAMS,
            dispatch_wait_s=wait_s,
        )
        assert world.generated is not None
        world.generated.resume(state.calls.values(), state.teams.values(), state.positions)
        return world, f"resumed the demo shift at {start.astimezone():%H:%M}"
    world = build(rate_per_hour=DEMO_RATE_PER_HOUR, teams=DEMO_TEAMS, dispatch_wait_s=wait_s)
    return world, "started a new demo shift"


def _fail(message: str) -> int:
    print(f"responder-console: {message}", file=sys.stderr)
    return 2


def with_sample_destinations(config: Any) -> Any:
    """The demo shows the Hartford sample destinations unless the site lists its own."""
    import dataclasses

    from console.config import SAMPLE_DESTINATIONS_RESOURCE, load_destinations, resource_path

    ds = config.destinations
    if ds:
        return config
    sample = load_destinations(
        resource_path(SAMPLE_DESTINATIONS_RESOURCE),
        capacity_stale_s=ds.capacity_stale_s,
        wait_alert_s=ds.wait_alert_s,
    )
    return dataclasses.replace(config, destinations=sample)


def run(args: argparse.Namespace) -> int:
    """Open the supervisor console; returns the exit code."""
    started = start_process(getattr(args, "config", None))
    if isinstance(started, str):
        return _fail(started)
    config, data_dir = started

    demo = bool(getattr(args, "demo", False))
    if getattr(args, "new", False) and not demo:
        return _fail("--new starts a new demo shift: use it with --demo")
    wait_arg = getattr(args, "dispatch_wait", None)
    if wait_arg is not None and (not demo or wait_arg < 0):
        return _fail("--dispatch-wait takes seconds (0 or more) and goes with --demo")
    if demo:
        db_url, kept = demo_database(data_dir, new=bool(getattr(args, "new", False)))
        if kept is not None:
            print(f"responder-console: the previous demo shift is kept as {kept}", file=sys.stderr)
        config = with_sample_destinations(config)
    else:
        db_url = args.db or config.database_url
    app = make_qt_app()
    from PySide6.QtCore import QSettings

    simulator: SimulatorThread | None = None
    shared_db = db_url.startswith(("postgresql", "postgres:"))
    # On a shared PostgreSQL the center's sync service holds the dispatch link, unless this
    # console is told to hold it (--dispatch).
    dispatch_url = args.dispatch or (None if shared_db else config.dispatch_url)
    config = _with_link_flags(config, args)
    if dispatch_url and not dispatch_url.startswith(("ws://", "wss://")):
        return _fail(f"--dispatch {dispatch_url!r} is not a WebSocket URL (ws://HOST:PORT)")
    clock = None
    if demo:
        try:
            from console.sim.runner import SimulatorThread

            wait = getattr(args, "dispatch_wait", None)
            world, how = demo_world(
                db_url, wait_s=DEMO_DISPATCH_WAIT_S if wait is None else float(wait)
            )
            log.info("demo: %s", how)
            simulator = SimulatorThread(world=world, speed=DEMO_SPEED).start()
            dispatch_url = simulator.url
        except Exception as exc:
            return _fail(f"the demo's dispatch simulator could not start: {exc}")
        clock = simulator.clock()

    from console.store import Store, StoreError

    try:
        store = Store.open(db_url, create=db_url.startswith("sqlite"), clock=clock)
    except StoreError as exc:
        if simulator is not None:
            simulator.stop()
        return _fail(str(exc))

    from console.store.identity import establish
    from console.sync.transport import TransportError

    try:
        ident = establish(
            store.engine,
            config.operators_file,
            demo=demo,
            claimed_operator=getattr(args, "operator", None),
            claimed_role=getattr(args, "role", None),
        )
    except Exception as exc:  # the database could not say who this is
        store.close()
        if simulator is not None:
            simulator.stop()
        return _fail(f"cannot establish who is at the console: {exc}")
    for line in ident.refused:
        print(f"responder-console: {line}", file=sys.stderr)
    operator, role = ident.operator, ident.role

    try:
        console = build_console(
            config,
            store,
            dispatch_url=dispatch_url,
            operator=operator,
            role=role,
            demo=demo,
            simulator=simulator,
            clock=clock,
            settings=QSettings(),
            pg_notify_url=db_url if shared_db else None,
        )
    except TransportError as exc:
        store.close()
        if simulator is not None:
            simulator.stop()
        return _fail(str(exc))
    for line in ident.refused:
        console.window.notice.show_message(line)
    log.info(
        "console open: operator %s, role %s (%s), database %s, dispatch %s%s",
        operator,
        role,
        ident.basis,
        config.database_url_redacted if not demo else db_url,
        dispatch_url,
        " (demo)" if demo else "",
    )

    settle_process()

    smoke = getattr(args, "smoke_test", None)
    if smoke:
        _start_smoke_test(console, app, float(smoke))
    code = run_event_loop(app, console)
    log.info("console closed (exit %d)", code)
    return int(code)


def start_process(config_path: str | None) -> tuple[Any, Path] | str:
    """Data folder, logging, crash hook and configuration; a one-line reason on failure.

    Shared by the live console and replay, so both start the same way.
    """
    from console.config import ConfigError, ensure_user_config, load_config, user_data_dir
    from console.logging_setup import setup_logging

    data_dir = user_data_dir()
    try:
        private_dir(data_dir, tighten=True)
    except OSError as exc:
        return f"cannot create the data folder {data_dir}: {exc.strerror}"
    setup_logging(data_dir, os.environ.get("RESPONDER_CONSOLE_LOG_LEVEL", "INFO"))
    sys.excepthook = _excepthook
    try:
        if config_path:
            return load_config(Path(config_path)), data_dir
        ensure_user_config()
        return load_config(), data_dir
    except ConfigError as exc:
        return str(exc)


def make_qt_app() -> Any:
    """The QApplication, named for QSettings, high-DPI correct, Qt's messages in our log."""
    from PySide6.QtCore import QCoreApplication, Qt, qInstallMessageHandler
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication

    from console.ui.map.env import prepare_webengine_env

    prepare_webengine_env()
    QGuiApplication.setHighDpiScaleFactorRoundingPolicy(
        Qt.HighDpiScaleFactorRoundingPolicy.PassThrough
    )
    QCoreApplication.setOrganizationName(ORG_NAME)
    QCoreApplication.setOrganizationDomain(ORG_DOMAIN)
    QCoreApplication.setApplicationName(APP_NAME)
    qInstallMessageHandler(_qt_message_handler)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationDisplayName(APP_NAME)
    app.setDesktopFileName("responder-console")
    return app


def run_event_loop(app: Any, console: Any) -> int:
    """Run until the window closes or SIGINT/SIGTERM arrives; then close everything in order."""
    from PySide6.QtCore import QTimer

    def _quit(signum: int, _frame: Any) -> None:
        log.info("signal %d: closing", signum)
        console.window.ask_before_quit = False
        console.window.close()
        app.quit()

    old = {s: signal.signal(s, _quit) for s in (signal.SIGINT, signal.SIGTERM)}
    # A periodic no-op lets Python run its signal handlers while Qt's loop is in C++.
    heartbeat = QTimer()
    heartbeat.start(200)
    heartbeat.timeout.connect(lambda: None)
    app.setQuitOnLastWindowClosed(True)
    try:
        code = app.exec()
    finally:
        heartbeat.stop()
        for s, h in old.items():
            signal.signal(s, h)
        console.close()
    return int(code)


def _start_smoke_test(console: Console, app: Any, timeout_s: float) -> None:
    """Exit 0 once the map page has Leaflet and markers drawn; 1 if not within ``timeout_s``.

    For checking an installation (installer/smoke_test.py): the web engine's helper process
    and its resources are what a broken bundle loses first.
    """
    import time

    from PySide6.QtCore import QTimer

    deadline = time.monotonic() + timeout_s
    panel = getattr(console.window, "map_panel", None)
    view = getattr(panel, "view", None)
    timer = QTimer(app)

    def verdict(result: Any) -> None:
        markers = view.marker_count if view is not None else 0
        if result == "object" and markers > 0:
            print(f"smoke: ok (Leaflet loaded, {markers} markers drawn)", flush=True)
            timer.stop()
            app.exit(0)

    def check() -> None:
        if time.monotonic() > deadline:
            state = (
                "no map view"
                if view is None
                else f"ready={view.is_ready}, markers={view.marker_count}"
            )
            print(f"smoke: FAILED after {timeout_s:.0f} s ({state})", file=sys.stderr, flush=True)
            timer.stop()
            app.exit(1)
            return
        if view is not None and view.is_ready:
            view.run_js("typeof L", verdict)

    timer.timeout.connect(check)
    timer.start(500)


def _os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return "operator"


def _with_link_flags(config: Any, args: Any) -> Any:
    """The configuration with --ca-file/--cert-file/--key-file/--allow-unencrypted applied."""
    import dataclasses
    from pathlib import Path

    link = getattr(config, "dispatch", None)
    if link is None:
        return config
    over: dict[str, Any] = {
        k: Path(v) for k in ("ca_file", "cert_file", "key_file") if (v := getattr(args, k, None))
    }
    if getattr(args, "allow_unencrypted", None):
        over["allow_unencrypted"] = True
    if not over:
        return config
    return dataclasses.replace(config, dispatch=dataclasses.replace(link, **over))
