"""The demo after a simulated hour: a screenshot of the whole window for a person to look at.

Runs the real simulator on loopback (sped up so an hour passes in seconds), the real sync
service into a real SQLite file, and the real window with its QtWebEngine map, then saves
``grab()`` of the main window to ``test-artifacts/console.png``.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from console.config import load_config
from console.store import Store

pytestmark = [pytest.mark.slow, pytest.mark.webengine, pytest.mark.timeout(300)]


def _config(tmp_path: Path, geo: Path) -> Path:
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        "config_version = 1\n"
        "[map]\n"
        'tile_url = ""\n'
        "[[map.overlays]]\n"
        'name = "Neighborhoods"\n'
        f'path = "{(geo / "hartford-neighborhoods.geojson").as_posix()}"\n'
        "[[map.overlays]]\n"
        'name = "City outline"\n'
        f'path = "{(geo / "hartford-outline.geojson").as_posix()}"\n',
        encoding="utf-8",
    )
    return cfg


def test_demo_after_a_simulated_hour(qtbot, tmp_path, shared_data, artifacts) -> None:  # type: ignore[no-untyped-def]
    from console.sim.runner import SimulatorThread
    from console.ui.shell.main import build_console, with_sample_destinations

    # As the demo starts: the Hartford sample destinations unless the site lists its own.
    config = with_sample_destinations(
        load_config(_config(tmp_path, shared_data / "geo" / "hartford"))
    )
    sim = SimulatorThread(speed=600.0, rate_per_hour=10.0, teams=12, seed=11)
    url = sim.start().url
    clock = sim.clock()
    store = Store.open(f"sqlite:///{tmp_path / 'demo.sqlite'}", clock=clock)
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    console = build_console(
        config,
        store,
        dispatch_url=url,
        operator="A. Rivera",
        role="supervisor",
        demo=True,
        simulator=sim,
        clock=clock,
        settings=settings,
    )
    win = console.window
    try:
        win.resize(1920, 1080)
        start = sim.sim._sim0
        pictures = console.ctx.pictures
        # A simulated hour has passed and the picture has caught up with it.
        qtbot.waitUntil(
            lambda: (pictures.current().state.as_of or start) >= start + timedelta(minutes=60),
            timeout=120_000,
        )
        mv = win.map_panel.map_view
        assert mv is not None
        qtbot.waitUntil(lambda: mv.is_ready, timeout=60_000)
        st = pictures.current().state
        # The picture the screenshot shows is a real one: teams and calls from the feed.
        assert len(st.teams) == 12
        assert len(st.calls) >= 3
        queue = win.panels["queue"]
        board = win.panels["board"]
        qtbot.waitUntil(lambda: board.model.rowCount() == 12, timeout=10_000)
        # The queue (open only) holds exactly the picture's open calls.
        qtbot.waitUntil(
            lambda: set(queue.model.ids()) == {c.id for c in pictures.current().state.open_calls()},
            timeout=10_000,
        )
        # Let the map apply the latest picture before the grab.
        seq = win.map_panel._push(pictures.current())
        if seq:
            with qtbot.waitSignal(mv.applied, timeout=10_000):
                pass
        # Two ticks: the web view paints what it was sent, and the fit-all settles.
        for _ in range(2):
            with qtbot.waitSignal(pictures.tick, timeout=5_000):
                pass
        assert not pictures.current().stale, pictures.current().stale_reason
        img = win.grab()
        out = artifacts / "console.png"
        assert img.save(str(out))
        assert out.stat().st_size > 50_000
    finally:
        console.close()
