"""``responder-console replay FILE_OR_DB [--from ISO --to ISO] [--role ...]``.

Opens the same main window as the live console, driven by a :class:`ReplayPictureSource`
(read-only: the gateway refuses every action), with the replay timeline docked under it.
The role is the platform's (the operators file, or the database login's group role), at
most trainer unless ``--role`` asks for more; ``--role`` only narrows it. A trainer or viewer
may open only a de-identified shift file.
"""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger("console.ui.replay")


@dataclass
class ReplayConsole:
    """What :func:`build_replay_console` wires: the context, the window, the timeline."""

    ctx: Any
    window: Any
    timeline: Any
    source: Any
    closed: bool = False

    def close(self) -> None:
        from console.ui.shell.main import close_console

        if self.closed:
            return
        self.closed = True
        close_console(self.ctx, self.window)


def build_replay_console(
    config: Any,
    opened: Any,
    *,
    operator: str,
    role: str,
    settings: Any = None,
    speed: float = 60.0,
    training: bool = False,
    show: bool = True,
) -> ReplayConsole:
    """The replay window on an opened source (:func:`console.replay.shiftfile.open_for_replay`)."""
    from PySide6.QtCore import Qt

    from console.replay.engine import PlaybackClock, ReplayEngine
    from console.ui.core.context import build_context
    from console.ui.replay import ReplayPictureSource, TimelinePanel
    from console.ui.shell.window import MainWindow

    engine = ReplayEngine.from_shift(opened.data, thresholds=config.thresholds)
    playback = PlaybackClock(engine)
    playback.set_speed(speed)
    pictures = ReplayPictureSource(engine, playback=playback)
    pictures.shift_file = opened.file
    ctx = build_context(
        config,
        opened.store,
        clock=playback,
        operator=operator,
        role=role,
        pictures=pictures,
        replay=True,
    )
    window = MainWindow(ctx, settings=settings)
    timeline = TimelinePanel(ctx)
    area = Qt.DockWidgetArea.BottomDockWidgetArea
    dock = window.add_panel("timeline", "Timeline", timeline, area, "Ctrl+7")
    # The strip runs under the whole window, below the other docks.
    window.setCorner(Qt.Corner.BottomLeftCorner, area)
    window.setCorner(Qt.Corner.BottomRightCorner, area)
    window.removeDockWidget(dock)
    window.addDockWidget(area, dock, Qt.Orientation.Vertical)
    dock.show()
    dock.setFeatures(dock.features() & ~dock.DockWidgetFeature.DockWidgetClosable)
    if training:
        timeline.training_box.setChecked(True)
    name = Path(opened.data.source).name if opened.file is not None else "database"
    deid = " (de-identified)" if opened.data.deidentified else ""
    window.setWindowTitle(f"Responder Console — replay of {name}{deid}")
    pictures.start()
    if show:
        window.show()
    return ReplayConsole(ctx, window, timeline, pictures)


def run(args: argparse.Namespace) -> int:
    from console.config import ConfigError, load_config
    from console.replay.engine import ReplayError
    from console.replay.shiftfile import open_for_replay, replay_identity
    from console.replay.signing import public_key_path
    from console.ui.shell.main import (
        ORG_NAME,
        make_qt_app,
        run_event_loop,
        settle_process,
        start_process,
    )

    config_path = getattr(args, "config", None)
    try:  # the signing key and the operators file; start_process reports a bad file its way
        early = load_config(Path(config_path) if config_path else None)
        key_file, operators_file = early.signing_key_file, early.operators_file
    except ConfigError:
        key_file, operators_file = None, None
    trusted = public_key_path(key_file) if key_file else None
    # Refuse before any window exists: a trainer never sees a frame of identifiable data, and
    # the role is the platform's (--role only narrows it).
    try:
        ident = replay_identity(
            args.target, operators_file=operators_file, claimed_role=args.replay_role
        )
        role = ident.role
        opened = open_for_replay(
            args.target, role=role, start=args.start, end=args.end, trusted_key=trusted
        )
    except ReplayError as exc:
        print(f"responder-console replay: {exc}", file=sys.stderr)
        return 2

    started = start_process(config_path)
    if isinstance(started, str):
        print(f"responder-console replay: {started}", file=sys.stderr)
        return 2
    config, _data_dir = started
    operator = getattr(args, "operator", None) or ident.operator

    app = make_qt_app()
    from PySide6.QtCore import QSettings

    console = build_replay_console(
        config,
        opened,
        operator=operator,
        role=role,
        settings=QSettings(ORG_NAME, "replay"),
        speed=args.speed,
        training=args.training,
    )
    log.info("replay open: %s as %s (%s)", args.target, role, operator)
    # The shift's events are loaded and stay: out of the collector's full passes, which
    # would otherwise walk all of them every few seconds of playback (200 ms each at 100k).
    settle_process()
    return run_event_loop(app, console)
