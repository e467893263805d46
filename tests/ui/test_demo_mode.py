"""The demo: resumed on the same profile, a new one without losing the last, the pace and the
dispatch-wait controls, and the title said once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings

from console.config import load_config
from console.sim.simulator import DispatchSimulator, build
from console.store import Store
from console.ui.shell.demo import DemoControls
from console.ui.shell.main import DEMO_DB, demo_database, demo_world

T0 = datetime(2026, 11, 26, 20, 0, tzinfo=UTC)


def _stored_shift(url: str) -> None:
    """A demo shift as the console stored it: the simulator's documents through the reader."""
    from console.wire.eido import parse_eido

    world = build(seed=2, start=T0, rate_per_hour=12, teams=6)
    sim = DispatchSimulator(world)
    world.advance_to(T0 + timedelta(hours=2))
    store = Store.open(url, create=True)
    try:
        for doc in sim._collect():
            store.append(parse_eido(doc).events)
    finally:
        store.close()


def test_demo_resumes_the_last_shift_and_new_keeps_it(tmp_path: Path) -> None:
    url, kept = demo_database(tmp_path, new=False)
    assert kept is None and url.endswith(DEMO_DB)
    world, how = demo_world(url, wait_s=300)
    assert how == "started a new demo shift"

    _stored_shift(url)
    store = Store.open(url)
    state = store.load_state()
    store.close()
    world, how = demo_world(url, wait_s=300)
    assert how.startswith("resumed the demo shift")
    assert state.as_of is not None and world.now > state.as_of
    assert set(world.teams) >= set(state.teams)
    open_calls = {c.id for c in state.calls.values() if c.is_open}
    assert open_calls <= set(world.calls)
    assert (tmp_path / DEMO_DB).exists()  # resuming changed nothing on disk

    # --new: a fresh database; the previous one is kept beside it, not deleted.
    url2, kept = demo_database(tmp_path, new=True)
    assert url2 == url and kept is not None and kept.exists()
    assert not (tmp_path / DEMO_DB).exists()
    moved = Store.open(f"sqlite:///{kept.as_posix()}")
    assert len(moved.load_state().calls) == len(state.calls)
    moved.close()


def test_demo_controls_change_pace_and_dispatch_wait(qtbot: Any) -> None:
    world = build(seed=3, start=T0, rate_per_hour=10, teams=4, dispatch_wait_s=300)
    sim = DispatchSimulator(world, speed=10)
    controls = DemoControls(sim)
    qtbot.addWidget(controls)
    assert controls.speed.currentData() == 10 and controls.wait.isChecked()
    speeds = [controls.speed.itemData(i) for i in range(controls.speed.count())]
    assert speeds[0] == 1 and speeds[-1] == 60
    controls.speed.setCurrentIndex(speeds.index(60))
    assert sim.speed == 60
    controls.wait.setChecked(False)
    assert world.generated is not None and world.generated.dispatch_wait_s == 0
    controls.wait.setChecked(True)
    assert world.generated.dispatch_wait_s == 300


@pytest.mark.webengine
def test_demo_title_says_demo_once(qtbot: Any, tmp_path: Path) -> None:
    from console.ui.shell.main import build_console

    store = Store.open(f"sqlite:///{tmp_path / 'd.db'}")
    console = build_console(
        load_config(None),
        store,
        dispatch_url=None,
        operator="A. Rivera",
        role="supervisor",
        demo=True,
        settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat),
    )
    try:
        title = console.window.windowTitle()
        assert title == "Responder Console — demo"
        assert title.count("demo") == 1 and title.count("Responder Console") == 1
    finally:
        console.close()
