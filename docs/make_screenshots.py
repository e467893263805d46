"""Screenshots for the guides, taken from the real console on the demo feed.

    .venv/bin/python docs/make_screenshots.py [--out docs/images] [--seed N]

Starts the console the way ``responder-console --demo`` does (the dispatch simulator on
loopback, the sync service, an embedded SQLite database, the real window with its QtWebEngine
map) but offscreen and in a temporary folder, so nothing of the user's is read or written.
The simulator is fast-forwarded through the first simulated hour, then slowed to real time.
Two situations a guide must show and a generated hour does not always contain are staged
through the simulator, as dispatch would report them: a priority-1 call waiting past its limit
and a team asking for backup. The supervisor's actions in the pictures (assign, note, check-in,
acknowledge) go through the window's own actions and dialogs to the simulator.

For the trainer guide, the shift is then exported de-identified with ``export-shift`` and opened
in the replay window as a trainer would, with a bookmark, a decision point and a trainee's
answer.

Each picture is ``QWidget.grab()`` of the real widget, saved as PNG (palette-reduced when that
keeps it readable and smaller). Takes about a minute.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SHARED_GEO = ROOT.parent / "shared" / "data" / "geo" / "hartford"

WINDOW_SIZE = (1600, 1000)
SHIFT_START = datetime(2026, 3, 12, 13, 0, tzinfo=UTC)
"""A fixed simulated start, so re-runs show the same hour of the day."""
FAST_SPEED = 600.0
WARM_UP = timedelta(minutes=75)
OPERATOR = "A. Rivera"
MAX_PNG_BYTES = 400_000


def _prepare_env(tmp: Path) -> None:
    """Offscreen Qt, QtWebEngine as root, and private config/data folders (before Qt loads)."""
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        flags = os.environ.get("QTWEBENGINE_CHROMIUM_FLAGS", "")
        for f in ("--no-sandbox", "--disable-gpu"):
            if f not in flags:
                flags = f"{flags} {f}".strip()
        os.environ["QTWEBENGINE_CHROMIUM_FLAGS"] = flags
    os.environ.setdefault("QT_LOGGING_RULES", "qt.qpa.*=false;*.debug=false")
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        os.environ[var] = str(tmp / var.lower())
    os.environ.pop("RESPONDER_CONSOLE_DB", None)


def _config_file(tmp: Path) -> Path:
    """The default configuration, except the basemap: this machine may have no internet, so the
    pictures use no tiles and, when the public Hartford data sits beside the checkout, its
    neighborhood and city outlines as overlays (the way a center without internet runs)."""
    lines = ["config_version = 1", "[map]", 'tile_url = ""']
    for name, file in (
        ("Neighborhoods", "hartford-neighborhoods.geojson"),
        ("City outline", "hartford-outline.geojson"),
    ):
        path = SHARED_GEO / file
        if path.is_file():
            lines += ["[[map.overlays]]", f'name = "{name}"', f'path = "{path.as_posix()}"']
    cfg = tmp / "config.toml"
    cfg.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return cfg


# -- waiting without fixed sleeps -------------------------------------------------------------------


def wait_until(what: str, pred: Callable[[], Any], timeout: float = 60.0) -> Any:
    from PySide6.QtCore import QCoreApplication, QEventLoop

    end = time.monotonic() + timeout
    while True:
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        value = pred()
        if value:
            return value
        if time.monotonic() > end:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.02)


def pump(seconds: float) -> None:
    """Let the event loop run (paints, web view frames) for a moment."""
    from PySide6.QtCore import QCoreApplication, QEventLoop

    end = time.monotonic() + seconds
    while time.monotonic() < end:
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        time.sleep(0.02)


# -- saving ------------------------------------------------------------------------------------------


class Shots:
    def __init__(self, out: Path) -> None:
        self.out = out
        self.saved: list[Path] = []
        out.mkdir(parents=True, exist_ok=True)

    def save_floating(self, name: str, dock: Any, width: int, height: int) -> Path:
        """``dock`` floated at ``width`` x ``height``, grabbed, and the window's layout put back
        exactly as it was (docking it again alone leaves it at a transitional size)."""
        win = dock.parentWidget()
        state = win.saveState()
        dock.setFloating(True)
        dock.resize(width, height)
        dock.show()
        pump(0.5)
        try:
            return self.save(name, dock)
        finally:
            dock.setFloating(False)
            win.restoreState(state)
            # Offscreen there is no window manager to send the resize that lays the docks'
            # contents out again: nudge the window's size and back.
            size = win.size()
            win.resize(size.width() + 1, size.height())
            pump(0.2)
            win.resize(size)
            pump(0.5)

    def save(self, name: str, widget: Any) -> Path:
        from PySide6.QtCore import Qt
        from PySide6.QtGui import QImage

        pump(0.3)
        img: QImage = widget.grab().toImage()
        path = self.out / f"{name}.png"
        tmp = path.with_suffix(".tmp.png")
        if not img.save(str(tmp), "PNG", 9):  # type: ignore[call-overload]
            raise RuntimeError(f"could not write {tmp}")
        if tmp.stat().st_size > MAX_PNG_BYTES:
            # A 256-colour palette keeps UI text crisp and the file a fraction of the size.
            small = img.convertToFormat(
                QImage.Format.Format_Indexed8, Qt.ImageConversionFlag.ThresholdDither
            )
            small.save(str(tmp), "PNG", 9)  # type: ignore[call-overload]
        tmp.replace(path)
        self.saved.append(path)
        print(
            f"  {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}"
            f"  {img.width()}x{img.height()}  {path.stat().st_size // 1024} KB"
        )
        return path


# -- staging through the simulator ----------------------------------------------------------------


def _stage(world: Any, overdue_id: list[str], backup_team: list[str]) -> None:
    """A priority-1 call received six minutes ago that no team has taken, and a team on scene
    asking for backup, as dispatch would report them (runs on the simulator loop)."""
    from console.domain.model import Call, CallStatus, CallType, TeamStatus

    cid = world.new_call_id()
    now = world.now
    free = [t for t in world.teams.values() if t.status is TeamStatus.AVAILABLE]
    # An overdose when a free team carries Narcan (the usual case), else a welfare check, so a
    # free team is eligible and Assign has a recommendation.
    overdose = any(t.capabilities.narcan for t in free) or not free
    world.open_call(
        Call(
            id=cid,
            status=CallStatus.PENDING,
            priority=1,
            type=CallType.OVERDOSE if overdose else CallType.WELFARE_CHECK,
            received_at=now - timedelta(minutes=6),
            updated_at=now,
            lat=41.7637,
            lon=-72.6851,
            address="410 Park St",
            neighborhood="Frog Hollow",
            summary="Caller reports a person unresponsive near 410 Park St",
            source_type="OD",
        )
    )
    overdue_id.append(cid)
    on_scene = sorted(t.id for t in world.teams.values() if t.status is TeamStatus.ON_SCENE)
    if on_scene:
        world._backup(on_scene[0], True)
        backup_team.append(on_scene[0])


# -- the live console ------------------------------------------------------------------------------


def live_shots(app: Any, tmp: Path, shots: Shots, seed: int) -> Path:
    """Every live picture; returns the demo database (for the replay part)."""
    from PySide6.QtCore import QSettings

    from console.config import load_config
    from console.domain.commands import ChangePriority
    from console.domain.events import Severity
    from console.domain.model import CallStatus, TeamStatus
    from console.sim.runner import SimulatorThread
    from console.store import Store
    from console.ui.shell import help as help_mod
    from console.ui.shell.main import build_console

    config = load_config(_config_file(tmp))
    sim = SimulatorThread(
        speed=FAST_SPEED, rate_per_hour=10.0, teams=12, seed=seed, start=SHIFT_START
    )
    url = sim.start().url
    clock = sim.clock()
    db = tmp / "demo.sqlite"
    store = Store.open(f"sqlite:///{db.as_posix()}", create=True, clock=clock)
    console = build_console(
        config,
        store,
        dispatch_url=url,
        operator=OPERATOR,
        role="supervisor",
        demo=True,
        simulator=sim,
        clock=clock,
        settings=QSettings(str(tmp / "settings.ini"), QSettings.Format.IniFormat),
    )
    win, ctx = console.window, console.ctx
    try:
        win.resize(*WINDOW_SIZE)
        win._size_docks()
        pictures = ctx.pictures
        print(f"fast-forwarding the demo shift {WARM_UP} at {FAST_SPEED:g}x …")
        wait_until(
            "the first simulated hour",
            lambda: (pictures.current().state.as_of or SHIFT_START) >= SHIFT_START + WARM_UP,
            timeout=120,
        )
        # A team free to take the staged call, so Assign has a recommendation to show.
        wait_until(
            "a free team",
            lambda: any(
                t.status is TeamStatus.AVAILABLE for t in pictures.current().state.teams.values()
            ),
            timeout=120,
        )
        # Real time from here on, set as a supervisor would, with the demo's pace control.
        speed = win.demo_controls.speed
        speed.setCurrentIndex(speed.findData(1.0))
        overdue: list[str] = []
        backup: list[str] = []
        sim.call_in_loop(_stage, sim.sim.world, overdue, backup)
        wait_until(
            "the staged call", lambda: overdue and overdue[0] in pictures.current().state.calls
        )
        if backup:
            wait_until(
                "the backup request",
                lambda: any(
                    a.severity is Severity.CRITICAL
                    for a in pictures.current().state.unacknowledged_alerts()
                ),
            )
        else:
            print("  (no team on scene to ask for backup: no emergency in the pictures)")
        cid = overdue[0]
        st = pictures.current().state
        on_scene = sum(1 for t in st.teams.values() if t.status is TeamStatus.ON_SCENE)
        print(
            f"picture: {len(st.calls)} calls, {len(st.open_calls())} open, {on_scene} teams on"
            f" scene, staged {cid}" + (f", backup from {backup[0]}" if backup else "")
        )

        mv = win.map_panel.map_view
        if mv is not None:
            wait_until("the map page", lambda: mv.is_ready, timeout=90)
            wait_until(
                "the markers",
                lambda: win.map_panel._push(pictures.current()) == 0 or mv.is_idle,
                timeout=30,
            )
        # The alerts panel selects nothing by itself; start on the staged call as a supervisor would.
        ctx.selection.select_call(cid)
        pump(2.5)  # two ticks: ages, the fit-all and the web view's frame settle
        if mv is not None:
            wait_until("the map to settle", lambda: mv.is_idle, timeout=30)

        # Whole-window pictures first: floating a dock and docking it again leaves offscreen
        # layouts slightly off, so the widened (floated) docks come last.
        shots.save("main-window", win)
        main_window_sizes(win, shots, mv)
        shots.save("map", win.map_panel)
        shots.save("demo-banner", win.demo_banner)
        banner = _find_alert_banner(win)
        if banner is not None and banner.isVisible():
            shots.save("alert-banner", banner)
        else:
            print("  (the window shows no emergency banner: alert-banner.png not taken)")

        # Assign: the dialog with its recommendation, then send it.
        dlg = win.actions_set.trigger("assign", call_id=cid)
        wait_until("the assign dialog", lambda: dlg is not None and dlg.isVisible())
        dlg.resize(900, 480)
        shots.save("assign-dialog", dlg)
        before = len(st.commands)
        if dlg.recommendation.best is None:
            raise RuntimeError(
                f"no team was free and eligible for {cid} at this moment of the simulated hour"
                " (the simulator runs on the wall clock): run it again, or with another --seed"
            )
        dlg.accept()
        wait_until("the assignment to be queued", lambda: not dlg.isVisible(), timeout=20)
        wait_until(
            "the pending mark", lambda: len(pictures.current().state.commands) > before, timeout=20
        )
        wait_until(
            "dispatch's answer",
            lambda: all(not r.pending for r in pictures.current().state.commands.values()),
            timeout=30,
        )

        # Escalate: the dialog on an open call with a team (not sent).
        st = pictures.current().state
        target = next(
            (
                c
                for c in sorted(st.open_calls(), key=lambda c: (c.priority, c.received_at))
                if c.status is CallStatus.ON_SCENE
            ),
            None,
        ) or next(iter(st.open_calls()))
        ctx.selection.select_call(target.id)
        esc = win.actions_set.trigger("escalate", call_id=target.id)
        wait_until("the escalate dialog", lambda: esc is not None and esc.isVisible())
        esc.reason.setText("Subject has a weapon, per the team on scene")
        esc.immediate.setChecked(True)
        shots.save("escalate-dialog", esc)
        esc.reject()

        # A few more actions for the audit: a note, a check-in request, a refused change.
        from console.domain.commands import AddNote, RequestCheckin

        gw = ctx.gateway
        gw.submit(AddNote(call_id=cid, text="Caller's sister on scene, door code 4411"))
        busy = sorted(t.id for t in st.teams.values() if t.status is TeamStatus.ON_SCENE)
        if busy:
            gw.submit(RequestCheckin(team_id=busy[-1], reason="Status after 30 min on scene?"))
        call = pictures.current().state.calls[target.id]
        # A supervisor working from an old view: the call changed since (version), refused.
        gw.submit(
            ChangePriority(
                call_id=call.id,
                priority=1 if call.priority != 1 else 2,
                reason="escalating concern",
                expected_version=call.version - 1,
            )
        )
        wait_until("the refusal notice", lambda: win.notice.isVisible(), timeout=20)
        shots.save("notice-refused", win.notice)
        win.notice.hide()
        wait_until(
            "dispatch's answers",
            lambda: all(not r.pending for r in pictures.current().state.commands.values()),
            timeout=30,
        )

        # The link down: stop the simulator and let the window say so.
        win.map_panel.fit_all()
        sim.stop()
        wait_until("the stale banner", lambda: win.stale_banner.isVisible(), timeout=60)
        # A command sent while the link is down waits, marked pending, until dispatch answers.
        st = pictures.current().state
        team = sorted(t.id for t in st.teams.values() if t.status is TeamStatus.ON_SCENE)[0]
        ctx.selection.select_team(team)
        gw.submit(RequestCheckin(team_id=team, reason="Link down: please check in by radio"))
        board = win.panels["board"]
        wait_until(
            "the pending mark on the board",
            lambda: any(
                "⟳" in str(board.model.index(r, board.model.column_of("status")).data())
                for r in range(board.model.rowCount())
            ),
            timeout=20,
        )
        pump(1.0)
        shots.save("link-down", win)

        # The docks widened (floated), as a supervisor would to read every column.
        ctx.selection.select_call(cid)
        shots.save_floating("call-queue", win.docks["queue"], 1180, 420)
        shots.save_floating("team-board", win.docks["board"], 980, 400)
        shots.save_floating("alerts-panel", win.docks["alerts"], 900, 330)

        # Acknowledge the emergency with a note from the alerts panel.
        alerts = win.panels["alerts"]
        crit = [a for a in getattr(alerts, "alerts", []) if a.severity is Severity.CRITICAL]
        if crit and hasattr(alerts, "select_alert"):
            alerts.select_alert(crit[0].id)
            alerts.note.setText("Called the team; police co-responding")
            alerts.acknowledge_selected()
            wait_until(
                "the acknowledgement",
                lambda: crit[0].id in pictures.current().state.acks,
                timeout=20,
            )

        wl_panel = win.panels["workload"]
        if hasattr(wl_panel, "agg"):
            wait_until("the workload history", lambda: wl_panel.agg is not None, timeout=60)
        shots.save_floating("workload", win.docks["workload"], 1200, 940)

        ap = win.panels["audit"]
        if hasattr(ap, "model"):
            wait_until("the audit rows", lambda: ap.model.rowCount() >= 6, timeout=30)
        shots.save_floating("audit", win.docks["audit"], 1400, 380)

        sheet = help_mod.show_shortcuts(win)
        sheet.resize(760, 900)
        wait_until("the shortcut sheet", sheet.isVisible)
        shots.save("shortcut-sheet", sheet)
        sheet.close()
    finally:
        console.close()
    return db


MAIN_WINDOW_SIZES = ((1280, 800), (1920, 1080))


def _relayout(win: Any) -> None:
    """Offscreen there is no window manager to send the resize that lays the docks (and their
    tab bars) out again after a layout is restored: nudge the window's size and back."""
    size = win.size()
    win.resize(size.width() + 1, size.height())
    pump(0.2)
    win.resize(size)
    pump(0.3)


def main_window_sizes(win: Any, shots: Shots, mv: Any) -> None:
    """The main window at a laptop's and a dispatch monitor's size, dark and light; then back to
    the guide's size and theme."""
    size, theme = win.size(), win.theme
    for w, h in MAIN_WINDOW_SIZES:
        for name in ("dark", "light"):
            win.resize(w, h)  # each panel keeps its share of the window
            pump(0.3)
            _relayout(win)
            win.apply_theme(name)
            pump(2.2)  # two ticks: ages and the map's fit settle at the new size
            if mv is not None:
                wait_until("the map to settle", lambda: mv.is_idle, timeout=30)
            shots.save(f"main-window-{w}x{h}-{name}", win)
    win.resize(size)
    pump(0.3)
    _relayout(win)
    win.apply_theme(theme)
    pump(2.2)


def _find_alert_banner(win: Any) -> Any:
    try:
        from console.ui.alerts import AlertBanner
    except ImportError:
        return None
    return win.findChild(AlertBanner)


# -- replay ------------------------------------------------------------------------------------------


def replay_shots(app: Any, tmp: Path, shots: Shots, db: Path) -> None:
    from PySide6.QtCore import QSettings

    from console.app import main as cli
    from console.config import load_config
    from console.domain.model import CallStatus
    from console.replay.shiftfile import open_for_replay
    from console.replay.training import Action
    from console.ui.replay.cli import build_replay_console

    shift = tmp / "demo-shift.rcshift"
    end = SHIFT_START + WARM_UP + timedelta(minutes=15)
    code = cli(
        [
            "export-shift",
            "--db",
            f"sqlite:///{db.as_posix()}",
            "--from",
            SHIFT_START.isoformat(),
            "--to",
            end.isoformat(),
            "--deidentify",
            str(shift),
        ]
    )
    if code != 0:
        raise RuntimeError(f"export-shift failed with {code}")
    opened = open_for_replay(str(shift), role="trainer")
    sf = opened.file
    config = load_config(_config_file(tmp))
    rc = build_replay_console(
        config,
        opened,
        operator="T. Okafor",
        role="trainer",
        settings=QSettings(str(tmp / "replay.ini"), QSettings.Format.IniFormat),
        speed=60.0,
    )
    win, tl = rc.window, rc.timeline
    try:
        win.resize(*WINDOW_SIZE)
        win._size_docks()
        src = rc.source
        eng = src.engine
        # Find a moment with a pending call for the decision point.
        t_dec = None
        call_id = None
        t = eng.start + timedelta(minutes=20)
        while t < eng.end:
            src.seek(t)
            pending = [
                c for c in src.current().state.calls.values() if c.status is CallStatus.PENDING
            ]
            if pending:
                t_dec, call_id = t, sorted(pending, key=lambda c: (c.priority, c.received_at))[0].id
                break
            t += timedelta(minutes=2)
        if sf is not None:
            sf.add_annotation(
                "bookmark",
                eng.start + timedelta(minutes=35),
                "Four teams busy at once",
                "Ask: what would you hold back?",
                author="T. Okafor",
            )
            if t_dec is not None:
                sf.add_annotation(
                    "decision", t_dec, "Who goes?", "", call_id=call_id, author="T. Okafor"
                )
            tl.reload_annotations()
        mid = eng.start + (eng.end - eng.start) * 0.6
        src.seek(mid)
        mv = win.map_panel.map_view
        if mv is not None:
            wait_until("the replay map", lambda: mv.is_ready, timeout=90)
        pump(2.5)
        if mv is not None:
            wait_until("the replay map to settle", lambda: mv.is_idle, timeout=30)
        shots.save("replay-window", win)
        shots.save("replay-timeline", win.docks["timeline"])

        if sf is not None and t_dec is not None:
            tl.training_box.setChecked(True)
            dec = tl.training.open_decision(next(a for a in sf.annotations("decision")))
            wait_until("the decision dialog", dec.isVisible)
            dec.resize(980, dec.height())  # its default width cuts the buttons' text short
            pump(0.3)
            shots.save("decision-dialog", dec)
            if dec.send_btn.isEnabled():
                dec.pick(Action("assign", team=str(dec.teams.currentItem().data(256))))
            else:
                dec.pick(Action("hold"))
            pump(0.3)
            shots.save("decision-revealed", dec)
            dec.accept()
            src.pause()
            deb = tl.show_debrief()
            wait_until("the debrief", deb.isVisible)
            shots.save("debrief", deb)
            deb.close()
    finally:
        rc.close()


def _quiet_qt(mode: Any, context: Any, message: str) -> None:
    """Qt's warnings except the offscreen platform's harmless ones (no window manager)."""
    from PySide6.QtCore import QtMsgType

    if any(s in message for s in ("does not support", "GPUInfo", "RHI", "QRhi")):
        return
    if mode in (QtMsgType.QtWarningMsg, QtMsgType.QtCriticalMsg, QtMsgType.QtFatalMsg):
        print(f"qt: {message}", file=sys.stderr)


# -- main ------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--out",
        type=Path,
        default=ROOT / "docs" / "images",
        help="folder for the PNG files (default: docs/images)",
    )
    ap.add_argument("--seed", type=int, default=7, help="the simulated shift (default 7)")
    ap.add_argument("--no-replay", action="store_true", help="only the live console's pictures")
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="rc-shots-") as d:
        tmp = Path(d)
        _prepare_env(tmp)
        from console.ui.map.env import prepare_webengine_env

        prepare_webengine_env()
        from PySide6.QtCore import QCoreApplication, qInstallMessageHandler
        from PySide6.QtWidgets import QApplication

        from console.ui.shell.main import APP_NAME, ORG_DOMAIN, ORG_NAME

        QCoreApplication.setOrganizationName(ORG_NAME)
        QCoreApplication.setOrganizationDomain(ORG_DOMAIN)
        QCoreApplication.setApplicationName(APP_NAME)
        qInstallMessageHandler(_quiet_qt)
        app = QApplication.instance() or QApplication(sys.argv[:1])
        shots = Shots(args.out.resolve())
        t0 = time.monotonic()
        db = live_shots(app, tmp, shots, args.seed)
        if not args.no_replay:
            replay_shots(app, tmp, shots, db)
        print(f"{len(shots.saved)} pictures in {time.monotonic() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
