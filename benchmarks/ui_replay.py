"""``replay_stall``: the longest GUI-thread stall while a 24-hour shift plays at 3600x.

The whole replay window runs (map, queue, board, plots, alerts, timeline) on a de-identified
shift file of a synthetic day (100,000 events; quick: 20,000). A 10 ms heartbeat timer on the GUI
thread records how late it fires; its worst lateness is the stall. The baseline is the same
heartbeat, same window and shift, paused. Target: < 50 ms (the console's ``ui_stall`` target).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from benchmarks.replay import DAY, START, compress
from console.domain.synthetic import synthetic_shift

TARGET_MS = 50.0
SPEED = 3600.0


def bench_replay_stall(quick: bool) -> list[dict[str, Any]]:
    from benchmarks.ui_stall import Heartbeat, _app, _run_loop, _wait

    app = _app()
    from PySide6.QtCore import QSettings

    from console.config import load_config
    from console.replay.shiftfile import open_for_replay, write_shift_file
    from console.replay.signing import public_key_path
    from console.ui.replay.cli import build_replay_console
    from console.ui.shell.main import settle_process

    n = 20_000 if quick else 100_000
    duration = 8.0 if quick else 20.0
    events = compress(synthetic_shift(n, seed=23, start=START), START, DAY)
    with tempfile.TemporaryDirectory(prefix="rc-bench-replay-") as tmp:
        path = Path(tmp) / "day.shift"
        key = Path(tmp) / "sign.key"
        write_shift_file(
            path,
            start=START,
            end=START + DAY,
            base=[],
            events=events,
            deidentify=True,
            signing_key=key,
        )
        config = load_config(None, env={}, data_dir=Path(tmp))
        opened = open_for_replay(str(path), role="trainer", trusted_key=public_key_path(key))
        rc = build_replay_console(
            config,
            opened,
            operator="bench",
            role="trainer",
            settings=QSettings(str(Path(tmp) / "s.ini"), QSettings.Format.IniFormat),
        )
        try:
            rc.window.resize(1920, 1080)
            src = rc.source
            mv = rc.window.map_panel.map_view
            if mv is not None:
                _wait(app, lambda: mv.is_ready, 60)
            src.seek(opened.data.start + DAY / 4)  # the file's own (week-shifted) times
            _run_loop(app, 2.0)  # settle: first paints, column sizing, page fit
            settle_process()  # as the replay command does once its window is up

            hb = Heartbeat()
            hb.start()
            _run_loop(app, duration)
            hb.stop()
            idle_worst, idle_p99 = hb.worst_ms, hb.pct(0.99)

            published = src.published
            t0 = src.now()
            src.set_speed(SPEED)
            hb.start()
            src.play()
            _run_loop(app, duration)
            src.pause()
            hb.stop()
            busy_worst, busy_p99 = hb.worst_ms, hb.pct(0.99)
            played_h = (src.now() - t0).total_seconds() / 3600
            pictures = src.published - published
        finally:
            rc.close()
    return [
        {
            "name": "replay_stall",
            "unit": "ms",
            "value": round(busy_worst, 2),
            "baseline": "the same 10 ms heartbeat's worst lateness with the replay paused",
            "baseline_value": round(idle_worst, 2),
            "ratio": round(busy_worst / idle_worst, 3) if idle_worst > 0 else 0.0,
            "target_ms": TARGET_MS,
            "p99_ms": round(busy_p99, 2),
            "baseline_p99_ms": round(idle_p99, 2),
            "speed": SPEED,
            "shift_hours_played": round(played_h, 2),
            "pictures": pictures,
            "events": len(events),
        }
    ]
