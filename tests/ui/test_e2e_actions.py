"""Supervisor actions end to end: window -> gateway -> store/outbox -> sync -> simulator -> feed
-> store -> picture -> queue, board, map and audit.

The real dispatch simulator serves on 127.0.0.1 (port 0) a prepared world that runs at real
time, so nothing moves on its own during a test: one call, already given to a team, and two
more teams available. The sync service is stopped while a command is queued, which makes the
"pending" state observable for as long as the test needs; a new sync service then delivers the
outbox, as after a reconnect.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings

from console.config import load_config
from console.domain.commands import CommandStatus, ReassignCall
from console.domain.model import Call, CallStatus, CallType, TeamStatus
from console.store import Store
from console.ui.tables.model import PENDING_MARK

pytestmark = [pytest.mark.slow, pytest.mark.webengine, pytest.mark.timeout(180)]

CALL = "HCR-900001"


@pytest.fixture
def world_parts() -> tuple[Any, list[str]]:
    from console.sim.world import World, load_roster

    start = datetime.now(UTC).replace(microsecond=0)
    world = World(start, seed=3)
    specs = load_roster(None)[:3]
    for s in specs:
        world.add_team(s)
    world.open_call(
        Call(
            id=CALL,
            status=CallStatus.PENDING,
            priority=2,
            type=CallType.WELFARE_CHECK,
            received_at=start,
            updated_at=start,
            lat=41.7637,
            lon=-72.6851,
            address="550 Main St",
            neighborhood="Downtown",
        )
    )
    world.dispatch_team(CALL, specs[0].id)
    return world, [s.id for s in specs]


@pytest.fixture
def running(qtbot, tmp_path: Path, world_parts) -> Iterator[dict[str, Any]]:  # type: ignore[no-untyped-def]
    from console.sim.runner import SimulatorThread
    from console.ui.shell.main import build_console

    world, team_ids = world_parts
    sim = SimulatorThread(world=world, speed=1.0)
    url = sim.start().url
    store = Store.open(f"sqlite:///{tmp_path / 'console.db'}")
    console = build_console(
        load_config(None),
        store,
        dispatch_url=url,
        operator="A. Rivera",
        role="supervisor",
        simulator=sim,
        settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat),
    )
    pictures = console.ctx.pictures
    # The feed has brought the world in: the call is with the first team.
    qtbot.waitUntil(
        lambda: (
            (c := pictures.current().state.calls.get(CALL)) is not None
            and c.team == team_ids[0]
            and len(pictures.current().state.teams) == 3
        ),
        timeout=30_000,
    )
    yield {"console": console, "store": store, "sim": sim, "url": url, "teams": team_ids}
    console.close()


def _restart_sync(console: Any, store: Store, url: str) -> None:
    from console.sync.service import SyncService

    pictures = console.ctx.pictures
    sync = SyncService(store, url, on_changes=pictures.notify, on_health=pictures.set_link)
    console.ctx.gateway.set_on_queued(sync.wake_outbox)
    console.sync = sync
    sync.start()


def _queue_cell(win: Any, call_id: str, key: str, role: int = 0) -> str:
    q = win.panels["queue"]
    return str(q.model.data(q.model.index_of(call_id, q.model.column_of(key)), role))


def _board_cell(win: Any, team_id: str, key: str) -> str:
    b = win.panels["board"]
    return str(b.model.data(b.model.index_of(team_id, b.model.column_of(key))))


def _audit_rows(win: Any) -> list[tuple[str, str, str]]:
    """(action, call, answer status) of every row the audit panel shows."""
    panel = win.panels["audit"]
    entries = getattr(getattr(panel, "model", None), "entries", None)
    if entries is not None:
        return [(e.action, e.call_id or "", e.answer_status) for e in entries]
    out = []
    for r in range(panel.rowCount()):  # the built-in stand-in table
        out.append(
            (
                panel.item(r, 2).text(),
                panel.item(r, 3).text(),
                panel.item(r, 6).text().split(":")[0],
            )
        )
    return out


def test_reassign_is_pending_then_confirmed_everywhere(qtbot, running) -> None:  # type: ignore[no-untyped-def]
    console, store, url = running["console"], running["store"], running["url"]
    first, second, _third = running["teams"]
    win, ctx = console.window, console.ctx
    pictures = ctx.pictures
    mv = win.map_panel.map_view
    qtbot.waitUntil(lambda: mv.is_ready and f"team:{second}" in mv._shown, timeout=60_000)

    before = dict(mv._shown[f"team:{second}"])
    loads = mv.load_count
    # Link down while the command is queued: it must wait, visibly pending.
    console.sync.stop()
    cmd = ReassignCall(call_id=CALL, team_id=second, reason="closer to the caller")
    with qtbot.waitSignal(ctx.gateway.submitted, timeout=10_000) as sub:
        ctx.gateway.submit(cmd)
    command_id = sub.args[0]
    qtbot.waitUntil(lambda: PENDING_MARK in _queue_cell(win, CALL, "command"), timeout=10_000)
    assert "reassign" in _queue_cell(win, CALL, "command", 3)  # its tooltip
    qtbot.waitUntil(lambda: PENDING_MARK in _board_cell(win, second, "status"), timeout=5_000)
    # Nothing has taken effect: the call is still with the first team everywhere.
    assert _queue_cell(win, CALL, "team") == first
    assert pictures.current().state.commands[command_id].status == CommandStatus.REQUESTED
    qtbot.waitUntil(
        lambda: (CALL, "reassign") in {(c, a) for a, c, _ in _audit_rows(win)}, timeout=10_000
    )
    assert [s for a, c, s in _audit_rows(win) if c == CALL and a == "reassign"] == ["pending"]

    # The link comes back: the outbox is delivered, dispatch confirms, the feed shows it.
    with qtbot.waitSignal(ctx.gateway.answered, timeout=30_000) as ans:
        _restart_sync(console, store, url)
    assert ans.args[0] == command_id and ans.args[1] is True
    # The team column names the team working the call (earlier ones as "+1").
    qtbot.waitUntil(lambda: _queue_cell(win, CALL, "team").split()[0] == second, timeout=10_000)
    assert PENDING_MARK not in _queue_cell(win, CALL, "command")
    st = pictures.current().state
    assert st.calls[CALL].team == second
    assert st.teams[second].call == CALL and st.teams[second].status.busy
    assert st.teams[first].status is TeamStatus.AVAILABLE
    # The board shows the new team on the call and the old one free.
    qtbot.waitUntil(lambda: _board_cell(win, second, "call") == CALL, timeout=5_000)
    qtbot.waitUntil(
        lambda: _board_cell(win, first, "status").startswith("available"), timeout=5_000
    )
    # The map recoloured the team's marker in place (no page reload).
    qtbot.waitUntil(lambda: mv._shown[f"team:{second}"] != before, timeout=10_000)
    assert mv._shown[f"team:{second}"]["color"] != before["color"]
    assert mv.load_count == loads
    js_result: list[Any] = []

    def page_color() -> bool:
        mv.page().runJavaScript(
            f"(rcMap.specs.get({'team:' + second!r}) || {{}}).color || null", 0, js_result.append
        )
        return bool(js_result) and js_result[-1] == mv._shown[f"team:{second}"]["color"]

    qtbot.waitUntil(page_color, timeout=10_000)
    # The audit says who, what, why and what dispatch answered.
    qtbot.waitUntil(lambda: ("reassign", CALL, "confirmed") in _audit_rows(win), timeout=10_000)
    entry = next(e for e in store.audit() if e.command_id == command_id)
    assert (entry.operator, entry.reason, entry.answer_status) == (
        "A. Rivera",
        "closer to the caller",
        "confirmed",
    )


def test_refused_command_is_shown_with_its_reason_and_the_view_restored(qtbot, running) -> None:  # type: ignore[no-untyped-def]
    console, store, url, sim = running["console"], running["store"], running["url"], running["sim"]
    first, second, _third = running["teams"]
    win, ctx = console.window, console.ctx
    pictures = ctx.pictures

    console.sync.stop()
    cmd = ReassignCall(call_id=CALL, team_id=second, reason="closer to the caller")
    with qtbot.waitSignal(ctx.gateway.submitted, timeout=10_000) as sub:
        ctx.gateway.submit(cmd)
    command_id = sub.args[0]
    qtbot.waitUntil(lambda: PENDING_MARK in _queue_cell(win, CALL, "command"), timeout=10_000)

    # Meanwhile dispatch clears the call.
    def clear() -> None:
        sim.sim.world._clear(CALL, first, "resolved_on_scene")
        sim.sim.publish(sim.sim._collect())

    sim.call_in_loop(clear)
    with qtbot.waitSignal(ctx.gateway.answered, timeout=30_000) as ans:
        _restart_sync(console, store, url)
    assert ans.args[0] == command_id and ans.args[1] is False
    reason = ans.args[2]
    assert "cleared" in reason
    # Shown with its reason ...
    qtbot.waitUntil(lambda: win.notice.isVisible(), timeout=5_000)
    assert reason in win.notice.label.text() and "refused" in win.notice.label.text()
    # ... and the view is dispatch's picture: call cleared, no pending marker, team not moved.
    qtbot.waitUntil(
        lambda: pictures.current().state.calls[CALL].status is CallStatus.CLEARED, timeout=10_000
    )
    queue = win.panels["queue"]
    # "Open only" (the default) drops the cleared call from the queue; all calls show it cleared.
    qtbot.waitUntil(lambda: queue.model.row_of(CALL) is None, timeout=5_000)
    queue.only.setChecked(False)
    qtbot.waitUntil(lambda: _queue_cell(win, CALL, "status").startswith("cleared"), timeout=5_000)
    assert PENDING_MARK not in _queue_cell(win, CALL, "command")
    assert pictures.current().state.teams[second].status is TeamStatus.AVAILABLE
    qtbot.waitUntil(lambda: PENDING_MARK not in _board_cell(win, second, "status"), timeout=5_000)
    qtbot.waitUntil(lambda: ("reassign", CALL, "refused") in _audit_rows(win), timeout=10_000)


def test_rules_refusal_is_shown_before_anything_is_sent(qtbot, running) -> None:  # type: ignore[no-untyped-def]
    console, store = running["console"], running["store"]
    first = running["teams"][0]
    win, ctx = console.window, console.ctx
    # Reassigning a call to the team already on it is refused by the console's own rules.
    with qtbot.waitSignal(ctx.gateway.rejected, timeout=10_000) as sig:
        ctx.gateway.submit(ReassignCall(call_id=CALL, team_id=first, reason="test"))
    reason = sig.args[1]
    assert reason
    assert win.notice.isVisible() and reason in win.notice.label.text()
    assert store.outbox_due() == []


def test_viewer_cannot_act(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from console.ui.shell.main import build_console

    store = Store.open(f"sqlite:///{tmp_path / 'v.db'}")
    console = build_console(
        load_config(None),
        store,
        dispatch_url=None,
        operator="V. Iewer",
        role="viewer",
        settings=QSettings(str(tmp_path / "v.ini"), QSettings.Format.IniFormat),
    )
    try:
        ok, why = console.ctx.gateway.can_act()
        assert not ok and "Viewer" in why
        for act in console.window.actions_set.actions.values():
            assert not act.isEnabled() and act.toolTip() == why
    finally:
        console.close()
