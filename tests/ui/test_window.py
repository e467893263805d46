"""The main window and the live picture, on a real SQLite file (no dispatch link here)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings, Qt

from console.config import load_config
from console.domain.events import CallReceived, CallUpdated, TeamPositionReported, TeamStatusChanged
from console.domain.model import Call, CallStatus, CallType, Position, Team, TeamStatus
from console.store import Store
from console.sync.client import LinkHealth, LinkState

pytestmark = [pytest.mark.webengine, pytest.mark.timeout(120)]

T0 = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
_n = 0


def _sid() -> str:
    global _n
    _n += 1
    return f"t-{_n:06d}"


def call_event(
    cid: str, at: datetime, status: CallStatus = CallStatus.PENDING, **kw: object
) -> CallReceived | CallUpdated:
    c = Call(
        id=cid,
        status=status,
        priority=int(kw.pop("priority", 2)),  # type: ignore[call-overload]
        type=CallType.WELFARE_CHECK,
        received_at=T0,
        updated_at=at,
        lat=41.76,
        lon=-72.68,
        neighborhood="Frog Hollow",
        **kw,  # type: ignore[arg-type]
    )
    cls = CallReceived if status is CallStatus.PENDING else CallUpdated
    return cls(source="dispatch", source_id=_sid(), occurred_at=at, recorded_at=at, call=c)


def team_events(tid: str, at: datetime) -> list[object]:
    t = Team(tid, TeamStatus.AVAILABLE, at, "CRT", at)
    return [
        TeamStatusChanged(
            source="dispatch", source_id=_sid(), occurred_at=at, recorded_at=at, team=t
        ),
        TeamPositionReported(
            source="dispatch",
            source_id=_sid(),
            occurred_at=at,
            recorded_at=at,
            team_id=tid,
            position=Position(41.77, -72.67, at),
        ),
    ]


class FixedClock:
    def __init__(self, t: datetime) -> None:
        self.t = t

    def now(self) -> datetime:
        return self.t


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(
        f"sqlite:///{tmp_path / 'console.db'}", clock=FixedClock(T0 + timedelta(minutes=5))
    )
    yield s


def _build(
    store: Store, tmp_path: Path, role: str = "supervisor", settings: QSettings | None = None
) -> Any:
    from console.ui.shell.main import build_console

    return build_console(
        load_config(None),
        store,
        dispatch_url=None,
        operator="J. Doe",
        role=role,
        clock=FixedClock(T0 + timedelta(minutes=5)),
        settings=settings or QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat),
    )


def test_window_has_every_panel_and_a_shortcut_to_each(qtbot, store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    console = _build(store, tmp_path)
    win = console.window
    try:
        assert set(win.docks) == {"queue", "board", "alerts", "workload", "audit", "followups"}
        for key, dock in win.docks.items():
            assert dock.objectName() == key
        keys = {k: a.shortcut().toString() for k, a in win.panel_actions.items()}
        assert keys == {
            "map": "Ctrl+1",
            "queue": "Ctrl+2",
            "board": "Ctrl+3",
            "alerts": "Ctrl+4",
            "workload": "Ctrl+5",
            "audit": "Ctrl+6",
            "followups": "Ctrl+9",
        }
        # Every supervisor action has a keyboard shortcut and is reachable from the window.
        for kind, act in win.actions_set.actions.items():
            assert not act.shortcut().isEmpty(), kind
            assert act in win.actions()
        # No two actions share a shortcut.
        shortcuts = [k for k, _ in win.shortcut_list()]
        assert len(shortcuts) == len(set(shortcuts))
        qtbot.waitExposed(win)
        win.activateWindow()
        win.panel_actions["board"].trigger()
        board = win.panels["board"]
        qtbot.waitUntil(
            lambda: board.table.hasFocus() or board.isAncestorOf(win.focusWidget()), timeout=5000
        )
        assert win.operator_label.text() == "Operator: J. Doe"
        assert "supervisor" in win.role_label.text()
    finally:
        console.close()


def test_live_picture_reaches_queue_and_board_and_selection_is_shared(  # type: ignore[no-untyped-def]
    qtbot, store, tmp_path
) -> None:
    console = _build(store, tmp_path)
    win, ctx = console.window, console.ctx
    try:
        store.append(
            [*team_events("CRT-1", T0), *team_events("CRT-2", T0), call_event("HCR-1", T0)]
        )
        ctx.pictures.notify()
        queue, board = win.panels["queue"], win.panels["board"]
        qtbot.waitUntil(
            lambda: queue.model.rowCount() == 1 and board.model.rowCount() == 2, timeout=10_000
        )
        assert queue.model.call("HCR-1").status is CallStatus.PENDING

        # A later update changes the row in place (no reset) and the selection survives it.
        queue.table.selectRow(0)
        assert ctx.selection.call_id == "HCR-1"
        resets: list[int] = []
        queue.model.modelReset.connect(lambda: resets.append(1))
        store.append([call_event("HCR-1", T0 + timedelta(minutes=1), priority=1)])
        ctx.pictures.notify()
        qtbot.waitUntil(lambda: queue.model.call("HCR-1").priority == 1, timeout=10_000)
        assert resets == []
        assert queue.selected_id() == "HCR-1"

        # Shared selection: selecting a team elsewhere selects its row on the board.
        ctx.selection.select_team("CRT-2")
        assert board.selected_id() == "CRT-2"
        # ... and picking a board row tells everyone.
        idx = board.proxy.proxy_index_of("CRT-1")
        board.table.setCurrentIndex(idx)
        assert ctx.selection.team_id == "CRT-1"
    finally:
        console.close()


def test_reloads_are_coalesced_and_off_the_gui_thread(qtbot, store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import threading

    console = _build(store, tmp_path)
    ctx = console.ctx
    pictures = ctx.pictures
    try:
        qtbot.waitUntil(lambda: pictures.reloads >= 1, timeout=10_000)  # the first load
        threads: list[str] = []
        original = pictures._load

        def spy(base, seq):  # type: ignore[no-untyped-def]
            threads.append(threading.current_thread().name)
            return original(base, seq)

        pictures._load = spy
        before = pictures.reloads
        # 50 separate commits, each notified at once, as a burst from the feed would be.
        for i in range(50):
            store.append([call_event(f"HCR-{i}", T0 + timedelta(seconds=i))])
            pictures.notify()
        qtbot.waitUntil(lambda: len(pictures.current().state.calls) == 50, timeout=10_000)
        assert pictures.reloads - before < 50  # coalesced, not one reload per notice
        assert threads and all(t != threading.main_thread().name for t in threads)
        # Folding only what was appended gives what the store's own projection holds.
        assert pictures.current().state.calls == store.load_state().calls
    finally:
        console.close()


def test_link_down_makes_the_whole_window_say_so(qtbot, store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    console = _build(store, tmp_path)
    win, pictures = console.window, console.ctx.pictures
    try:
        now = datetime.now(UTC)
        pictures.set_link(LinkHealth(LinkState.UP, now, "ws://127.0.0.1:1", last_message_at=now))
        qtbot.waitUntil(lambda: pictures.current().link is not None, timeout=5000)
        assert not win.stale_banner.isVisible()
        assert win.link_label.text().startswith("Dispatch: up")
        down = LinkHealth(
            LinkState.RECONNECTING,
            now,
            "ws://127.0.0.1:1",
            last_message_at=now,
            attempts=2,
            retry_in_s=1.0,
            last_error="Connection refused",
        )
        pictures.set_link(down)
        qtbot.waitUntil(lambda: win.stale_banner.isVisible(), timeout=5000)
        assert pictures.current().stale
        assert "reconnecting since" in win.stale_banner.text()
        assert "reconnecting since" in win.link_label.text()
        # An up link whose last message is older than link_stale_s is stale too.
        old = now - timedelta(seconds=console.ctx.config.link_stale_s + 5)
        pictures.set_link(LinkHealth(LinkState.UP, old, "ws://127.0.0.1:1", last_message_at=old))
        qtbot.waitUntil(
            lambda: pictures.current().link is not None and pictures.current().link.up, timeout=5000
        )
        assert pictures.current().stale
        assert "No message from dispatch" in win.stale_banner.text()
        pictures.set_link(
            LinkHealth(LinkState.UP, now, "ws://127.0.0.1:1", last_message_at=datetime.now(UTC))
        )
        qtbot.waitUntil(lambda: not win.stale_banner.isVisible(), timeout=5000)
    finally:
        console.close()


def test_layout_is_saved_and_restored(qtbot, store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings_file = tmp_path / "layout.ini"
    console = _build(
        store, tmp_path, settings=QSettings(str(settings_file), QSettings.Format.IniFormat)
    )
    win = console.window
    try:
        qtbot.waitExposed(win)
        win.docks["audit"].hide()
        win.removeDockWidget(win.docks["alerts"])
        win.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, win.docks["alerts"])
        win.docks["alerts"].show()
        win.close()
    finally:
        console.close()
    console2 = _build(
        store, tmp_path, settings=QSettings(str(settings_file), QSettings.Format.IniFormat)
    )
    win2 = console2.window
    try:
        assert not win2.docks["audit"].isVisibleTo(win2)
        assert win2.dockWidgetArea(win2.docks["alerts"]) == Qt.DockWidgetArea.BottomDockWidgetArea
        assert win2.dockWidgetArea(win2.docks["queue"]) == Qt.DockWidgetArea.LeftDockWidgetArea
    finally:
        console2.close()


def test_viewer_sees_everything_and_cannot_act(qtbot, store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from console.domain.commands import ChangePriority

    store.append([*team_events("CRT-1", T0), call_event("HCR-1", T0)])
    console = _build(store, tmp_path, role="viewer")
    win, ctx = console.window, console.ctx
    try:
        queue = win.panels["queue"]
        qtbot.waitUntil(lambda: queue.model.rowCount() == 1, timeout=10_000)
        ok, why = ctx.gateway.can_act()
        assert not ok and why == "Viewer role: actions are disabled"
        queue.table.selectRow(0)
        assert ctx.selection.call_id == "HCR-1"
        for kind, act in win.actions_set.actions.items():
            assert not act.isEnabled(), kind
            assert act.toolTip() == why
        assert "view only" in win.role_label.text()
        # Even a direct submit is refused, said so, and nothing is queued.
        with qtbot.waitSignal(ctx.gateway.rejected, timeout=5000) as sig:
            ctx.gateway.submit(ChangePriority(call_id="HCR-1", priority=1, reason="test"))
        assert sig.args[1] == why
        assert store.outbox_due() == []
        assert win.notice.isVisible() and why in win.notice.label.text()
    finally:
        console.close()


def test_enter_and_shortcuts_open_the_action_dialogs(qtbot, store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    store.append([*team_events("CRT-1", T0), call_event("HCR-1", T0)])
    console = _build(store, tmp_path)
    win = console.window
    try:
        queue, board = win.panels["queue"], win.panels["board"]
        qtbot.waitUntil(
            lambda: queue.model.rowCount() == 1 and board.model.rowCount() == 1, timeout=10_000
        )
        # Nothing selected: the call actions say why they are disabled.
        assert not win.actions_set.actions["escalate"].isEnabled()
        assert "select a call first" in win.actions_set.actions["escalate"].toolTip()
        queue.table.selectRow(0)
        assert win.actions_set.actions["escalate"].isEnabled()
        opened: list[tuple[str, object]] = []
        win.actions_set.opened.connect(lambda kind, dlg: opened.append((kind, dlg)))
        queue.table.setFocus()
        qtbot.keyClick(queue.table, Qt.Key.Key_Return)
        assert opened and opened[-1][0] == "assign" and opened[-1][1] is not None
        opened[-1][1].reject()  # type: ignore[attr-defined]
        win.actions_set.actions["priority"].trigger()
        assert opened[-1][0] == "priority" and opened[-1][1] is not None
        opened[-1][1].reject()  # type: ignore[attr-defined]
        board.table.selectRow(0)
        win.actions_set.actions["checkin"].trigger()
        assert opened[-1][0] == "checkin" and opened[-1][1] is not None
        opened[-1][1].reject()  # type: ignore[attr-defined]
    finally:
        console.close()


def test_background_tasks_deliver_on_the_gui_thread_and_serialise_writes(qtbot) -> None:  # type: ignore[no-untyped-def]
    import functools
    import threading

    from console.ui.core.tasks import TaskManager

    tm = TaskManager()
    try:
        seen: list[tuple[str, object]] = []
        main = threading.current_thread()
        tm.run(lambda: threading.current_thread().name, lambda r: seen.append(("done", r)))
        tm.run(lambda: 1 / 0, None, lambda e: seen.append(("error", type(e).__name__)))
        qtbot.waitUntil(lambda: len(seen) == 2, timeout=5000)
        assert ("error", "ZeroDivisionError") in seen
        worker = next(r for k, r in seen if k == "done")
        assert worker != main.name
        # Writes run one at a time, in submission order, on one thread.
        order: list[int] = []
        active = [0]
        overlap = [False]

        def write(i: int) -> int:
            active[0] += 1
            overlap[0] = overlap[0] or active[0] > 1
            order.append(i)
            active[0] -= 1
            return i

        done: list[int] = []
        for i in range(20):
            tm.run(functools.partial(write, i), done.append, writer=True)
        qtbot.waitUntil(lambda: len(done) == 20, timeout=5000)
        assert order == list(range(20)) == done
        assert not overlap[0]
    finally:
        tm.shutdown()


def test_qt_messages_go_to_the_log(qtbot, caplog) -> None:  # type: ignore[no-untyped-def]
    import logging

    from PySide6.QtCore import qInstallMessageHandler, qWarning

    from console.ui.shell.main import _qt_message_handler

    previous = qInstallMessageHandler(_qt_message_handler)
    try:
        with caplog.at_level(logging.WARNING, logger="console.qt"):
            qWarning("a warning from Qt")
    finally:
        qInstallMessageHandler(previous)
    assert any(
        r.name == "console.qt" and "a warning from Qt" in r.getMessage() for r in caplog.records
    )


def test_map_and_tables_share_the_selection(qtbot, store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    store.append([*team_events("CRT-1", T0), call_event("HCR-1", T0)])
    console = _build(store, tmp_path)
    win, ctx = console.window, console.ctx
    try:
        mv = win.map_panel.map_view
        queue, board = win.panels["queue"], win.panels["board"]
        qtbot.waitUntil(lambda: mv.is_ready and "call:HCR-1" in mv._shown, timeout=60_000)
        qtbot.waitUntil(lambda: queue.model.rowCount() == 1, timeout=10_000)
        # A click on the map (as the page's bridge reports it) selects in the queue ...
        mv.bridge.markerClicked("call", "HCR-1")
        assert ctx.selection.call_id == "HCR-1"
        assert queue.selected_id() == "HCR-1"
        # ... and picking a team on the board highlights it on the map.
        board.table.selectRow(0)
        assert ctx.selection.team_id == "CRT-1"
        assert mv._selected == "team:CRT-1"
        # Follow needs a selected team; zoom-to-call a selected call: both reach the page.
        win.map_panel.act_follow.setChecked(True)
        assert mv._following == "team:CRT-1"
        win.map_panel.act_follow.setChecked(False)
        assert mv._following is None
        # Start far out, so only zoom-to-call can bring the map in close.
        zooms: list[object] = []

        def zoomed_out() -> bool:
            mv.run_js(
                "rcMap.map.setView([41.70, -72.60], 11, {animate: false}).getZoom()", zooms.append
            )
            return 11 in zooms

        qtbot.waitUntil(zoomed_out, timeout=10_000)
        zooms.clear()
        win.map_panel.act_zoom_call.trigger()

        def zoomed_in() -> bool:
            mv.run_js("rcMap.map.getZoom()", zooms.append)
            return any(isinstance(z, int | float) and z >= 15 for z in zooms)

        qtbot.waitUntil(zoomed_in, timeout=10_000)
    finally:
        console.close()


def test_several_calls_selected_at_once_are_all_highlighted(qtbot, store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    console = _build(store, tmp_path)
    win, ctx = console.window, console.ctx
    try:
        store.append([call_event(f"HCR-{i}", T0) for i in range(1, 5)])
        ctx.pictures.notify()
        queue = win.panels["queue"]
        qtbot.waitUntil(lambda: queue.model.rowCount() == 4, timeout=10_000)
        seen: list[list[str]] = []
        ctx.selection.calls_selected.connect(seen.append)
        ctx.selection.select_calls(["HCR-2", "HCR-4"])
        assert ctx.selection.call_id == "HCR-2"
        assert ctx.selection.call_ids == ["HCR-2", "HCR-4"]
        assert seen == [["HCR-2", "HCR-4"]]
        rows = queue.table.selectionModel().selectedRows()
        assert sorted(queue.proxy.id_at(r.row()) for r in rows) == ["HCR-2", "HCR-4"]
    finally:
        console.close()


def test_unencrypted_link_and_the_quarantine_viewer_are_in_reach(qtbot, store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import dataclass

    from console.ui.alerts.quarantine import QuarantineDialog

    @dataclass(frozen=True)
    class PlainLink(LinkHealth):  # the link health as it reports an unencrypted link
        encrypted: bool = True

    console = _build(store, tmp_path)
    win, pictures = console.window, console.ctx.pictures
    try:
        now = datetime.now(UTC)
        pictures.set_link(PlainLink(LinkState.UP, now, "ws://x", last_message_at=now))
        qtbot.waitUntil(lambda: pictures.current().link is not None, timeout=5000)
        assert "unencrypted" not in win.link_label.text()
        pictures.set_link(
            PlainLink(LinkState.UP, now, "ws://x", last_message_at=now, encrypted=False)
        )
        qtbot.waitUntil(lambda: "unencrypted link" in win.link_label.text(), timeout=5000)
        tools = [a for a in win.menuBar().actions() if a.text() == "T&ools"]
        assert tools and win.quarantine_action in tools[0].menu().actions()
        win.quarantine_action.trigger()
        dlg = win.quarantine_dialog
        assert isinstance(dlg, QuarantineDialog) and dlg.isVisible()
        qtbot.waitUntil(lambda: dlg.loads >= 1, timeout=5000)
        assert "Nothing quarantined" in dlg.summary.text()
        dlg.close()
    finally:
        console.close()
