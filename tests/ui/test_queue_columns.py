"""The queue's order and columns: pending calls first, the longest waiting first, then active
calls by priority; safety flags first; every column visible at 1280x800; columns hidden from the
header menu stay hidden."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fixtures_dialogs import whole_console
from PySide6.QtCore import QEvent, QItemSelectionModel, QPoint, Qt
from PySide6.QtWidgets import QApplication, QMenu

from console.domain.events import CallReceived, CallUpdated
from console.domain.model import Call, CallStatus, CallType, SafetyFlag
from console.store import Store

pytestmark = [pytest.mark.webengine, pytest.mark.timeout(120)]

T0 = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
_n = 0


class FixedClock:
    def __init__(self, t: datetime) -> None:
        self.t = t

    def now(self) -> datetime:
        return self.t


def _event(
    cid: str, waited_min: int, status: CallStatus, priority: int, version: int = 1, **kw: Any
) -> Any:
    global _n
    _n += 1
    received = T0 - timedelta(minutes=waited_min)
    c = Call(
        id=cid,
        status=status,
        priority=priority,
        type=CallType.MENTAL_HEALTH,
        received_at=received,
        updated_at=received + timedelta(seconds=version),
        version=version,
        lat=41.76,
        lon=-72.68,
        neighborhood="Sheldon-Charter Oak",
        address="1999 Asylum Avenue, apartment 12",
        team="CRT-1" if status is not CallStatus.PENDING else None,
        **kw,
    )
    cls = CallReceived if status is CallStatus.PENDING else CallUpdated
    return cls(source="dispatch", source_id=f"q-{_n}", occurred_at=received, recorded_at=T0, call=c)


CALLS = [
    ("HCR-000001", 30, CallStatus.ON_SCENE, 1),
    ("HCR-000002", 5, CallStatus.PENDING, 3),
    ("HCR-000003", 50, CallStatus.EN_ROUTE, 3),
    ("HCR-000004", 20, CallStatus.PENDING, 1),
    ("HCR-000005", 10, CallStatus.ASSIGNED, 2),
    ("HCR-000006", 8, CallStatus.PENDING, 2),
]
# Pending, longest waiting first; then active by priority.
DEFAULT_ORDER = ["HCR-000004", "HCR-000006", "HCR-000002", "HCR-000001", "HCR-000005", "HCR-000003"]


@pytest.fixture
def console(qtbot: Any, tmp_path: Path) -> Iterator[Any]:
    store = Store.open(f"sqlite:///{tmp_path / 'console.db'}", clock=FixedClock(T0))
    events = [_event(*spec) for spec in CALLS]
    events.append(_event("HCR-000007", 2, CallStatus.PENDING, 1, safety_flags=(SafetyFlag.WEAPON,)))
    store.append(events)
    c = whole_console(tmp_path, store, FixedClock(T0))
    queue = c.window.panels["queue"]
    qtbot.waitUntil(lambda: queue.model.rowCount() == 7, timeout=10_000)
    yield c
    c.close()


def shown_ids(queue: Any) -> list[str]:
    return [str(queue.proxy.id_at(r)) for r in range(queue.proxy.rowCount())]


def test_default_order_pending_oldest_first_then_active_by_priority(console: Any) -> None:
    queue = console.window.panels["queue"]
    ids = [i for i in shown_ids(queue) if i != "HCR-000007"]
    assert ids == DEFAULT_ORDER
    assert shown_ids(queue).index("HCR-000007") < shown_ids(queue).index("HCR-000001")


def test_first_click_on_age_sorts_oldest_first(qtbot: Any, console: Any) -> None:
    queue = console.window.panels["queue"]
    hh = queue.table.horizontalHeader()
    age = queue.model.column_of("age")
    x = hh.sectionViewportPosition(age) + hh.sectionSize(age) // 2
    qtbot.mouseClick(hh.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, hh.height() // 2))
    assert hh.sortIndicatorSection() == age
    assert shown_ids(queue)[:2] == ["HCR-000003", "HCR-000001"]  # 50 min, then 30 min
    # The header menu brings the default order back.
    queue.default_sort()
    assert [i for i in shown_ids(queue) if i != "HCR-000007"] == DEFAULT_ORDER


def test_safety_is_the_first_column_a_mark_with_its_flags_in_the_tooltip(console: Any) -> None:
    queue = console.window.panels["queue"]
    hh = queue.table.horizontalHeader()
    visible = [
        queue.model.COLUMNS[hh.logicalIndex(v)].key
        for v in range(hh.count())
        if not hh.isSectionHidden(hh.logicalIndex(v))
    ]
    assert visible[:8] == [
        "safety",
        "priority",
        "age",
        "id",
        "type",
        "status",
        "team",
        "location",
    ]
    idx = queue.proxy.proxy_index_of("HCR-000007", queue.model.column_of("safety"))
    assert idx.data() == "⚠"
    assert "weapon" in idx.data(Qt.ItemDataRole.ToolTipRole)


def test_at_1280x800_every_column_is_visible_without_scrolling(qtbot: Any, console: Any) -> None:
    win = console.window
    win.resize(1280, 800)
    win.show()
    qtbot.waitExposed(win)
    win.reset_layout()  # the default proportions at this size
    queue = win.panels["queue"]
    board = win.panels["board"]
    for panel, keys in (
        (queue, ["safety", "priority", "age", "id", "type", "status", "team", "location"]),
        (board, ["team", "status", "in_status", "checkin", "call"]),
    ):
        table = panel.table
        # The docks take their default share once the window is shown.
        qtbot.waitUntil(lambda t=table: t.viewport().width() > 300, timeout=5000)
        qtbot.waitUntil(lambda p=panel, t=table: p._fitted_width == t.viewport().width())
        hh = table.horizontalHeader()
        width = table.viewport().width()
        for key in keys:
            col = panel.model.column_of(key)
            assert not hh.isSectionHidden(col), key
            right = hh.sectionViewportPosition(col) + hh.sectionSize(col)
            assert right <= width + 1, (panel.kind, key, right, width)
            assert hh.sectionSize(col) >= 20, key
        qtbot.waitUntil(lambda t=table: not t.horizontalScrollBar().isVisible(), timeout=3000)
    # A long location is elided, and its tooltip holds the whole of it.
    idx = queue.proxy.proxy_index_of("HCR-000001", queue.model.column_of("location"))
    assert "1999 Asylum Avenue, apartment 12" in idx.data(Qt.ItemDataRole.ToolTipRole)


def test_columns_hidden_from_the_header_menu_are_remembered(
    qtbot: Any, console: Any, tmp_path: Path
) -> None:
    from console.ui.queue.panel import QueuePanel

    queue = console.window.panels["queue"]
    menu: QMenu = queue.header_menu()
    titles = [a.text() for a in menu.actions() if a.isCheckable()]
    assert "Location" in titles and "Call" not in titles  # the id and the flags always stay
    loc = next(a for a in menu.actions() if a.text() == "Location")
    loc.setChecked(False)
    col = queue.model.column_of("location")
    assert queue.table.isColumnHidden(col)

    again = QueuePanel(console.ctx)
    qtbot.addWidget(again)
    assert not again.table.isColumnHidden(col)  # not yet told where settings are
    again.bind_settings(console.window.settings)
    assert again.table.isColumnHidden(col)
    assert again.hidden_columns() == ["location"]
    queue.set_column_shown("location", True)
    fresh = QueuePanel(console.ctx)
    qtbot.addWidget(fresh)
    fresh.bind_settings(console.window.settings)
    assert fresh.hidden_columns() == []


# -- rows hold still while the supervisor is on the table -------------------------------------------


def _add(console: Any, *events: Any) -> None:
    console.ctx.store.append(list(events))
    console.ctx.pictures.notify()


def _tint(queue: Any, cid: str) -> Any:
    return queue.proxy.proxy_index_of(cid, queue.model.column_of("type")).data(
        Qt.ItemDataRole.BackgroundRole
    )


def test_rows_hold_still_under_the_pointer_and_move_when_it_leaves(
    qtbot: Any, console: Any
) -> None:
    from PySide6.QtCore import QEvent, QPointF
    from PySide6.QtGui import QEnterEvent
    from PySide6.QtWidgets import QApplication

    win = console.window
    win.resize(1280, 800)
    win.show()
    qtbot.waitExposed(win)
    queue = win.panels["queue"]
    console.ctx.selection.select_call("HCR-000001")
    assert queue.selected_id() == "HCR-000001"
    before = shown_ids(queue)
    vp = queue.table.viewport()
    p = QPointF(20, 10)
    QApplication.sendEvent(vp, QEnterEvent(p, p, QPointF(vp.mapToGlobal(QPoint(20, 10)))))
    assert queue.hold.held

    # A call waiting longer than any arrives and another changes priority: nothing moves.
    _add(
        console,
        _event("HCR-000009", 90, CallStatus.PENDING, 2),
        _event("HCR-000003", 50, CallStatus.EN_ROUTE, 1, version=2),
    )
    qtbot.waitUntil(lambda: queue.model.row_of("HCR-000009") is not None, timeout=10_000)
    qtbot.waitUntil(lambda: queue.model.call("HCR-000003").priority == 1, timeout=10_000)
    assert shown_ids(queue) == [*before, "HCR-000009"]
    assert _tint(queue, "HCR-000009") is not None  # held rows are highlighted
    assert _tint(queue, "HCR-000003") is not None
    assert _tint(queue, "HCR-000001") is None
    assert queue.selected_id() == "HCR-000001"

    # The pointer leaves: the order applies at once, the highlight goes, the selection stays.
    QApplication.sendEvent(vp, QEvent(QEvent.Type.Leave))
    assert not queue.hold.held
    assert shown_ids(queue)[0] == "HCR-000009"
    assert shown_ids(queue).index("HCR-000003") < shown_ids(queue).index("HCR-000005")
    assert _tint(queue, "HCR-000009") is None
    assert queue.selected_id() == "HCR-000001"
    assert console.ctx.selection.call_id == "HCR-000001"


def test_keyboard_holds_rows_until_a_pause(qtbot: Any, console: Any) -> None:
    queue = console.window.panels["queue"]
    queue.hold.set_pause_ms(50)
    queue.select_id("HCR-000006")
    queue.table.setFocus()
    qtbot.keyClick(queue.table, Qt.Key.Key_Down)
    assert queue.hold.held
    moved_to = queue.selected_id()
    _add(console, _event("HCR-000010", 95, CallStatus.PENDING, 3))
    qtbot.waitUntil(lambda: queue.model.row_of("HCR-000010") is not None, timeout=10_000)
    if queue.hold.held:  # still within the pause: held at the bottom
        assert shown_ids(queue)[-1] == "HCR-000010"
    qtbot.waitUntil(lambda: not queue.hold.held, timeout=5000)
    assert shown_ids(queue)[0] == "HCR-000010"
    assert queue.selected_id() == moved_to


def test_a_burst_of_calls_is_shown_over_several_short_turns_in_order(
    qtbot: Any, console: Any
) -> None:
    """Thirty calls arriving at once: written a few rows per turn of the event loop (each turn
    short), and in the end every one is there, in the default order."""
    queue = console.window.panels["queue"]
    pacer = console.ctx.pacer
    counts: list[int] = []
    pacer.on_job = lambda _key, _ms: counts.append(queue.model.rowCount())
    burst = [(f"HCR-{100 + i:06d}", 1 + i % 40, CallStatus.PENDING, 1 + i % 3) for i in range(30)]
    console.ctx.store.append([_event(*spec) for spec in burst])
    console.ctx.pictures.notify()
    qtbot.waitUntil(lambda: queue.model.rowCount() == 37, timeout=10_000)
    qtbot.waitUntil(lambda: not queue.model.has_backlog(), timeout=10_000)
    steps = sorted({n for n in counts if 7 < n < 37})
    assert len(steps) >= 2, counts  # 12 rows a turn: 19, 31, then 37
    pending = [i for i in shown_ids(queue) if queue.model.call(i).status is CallStatus.PENDING]
    waits = [queue.model.call(i).received_at for i in pending]
    assert waits == sorted(waits)  # the longest waiting first, across all the turns


def test_the_keyboard_entering_the_queue_chooses_no_call_by_itself(
    qtbot: Any, console: Any
) -> None:
    """Focus coming to the queue with no row chosen (Tab, a dock's shortcut, the window coming
    back) puts the keyboard on the first row but acts on nothing: no call is selected for the
    window's actions until the supervisor moves or clicks."""
    from PySide6.QtGui import QFocusEvent

    win = console.window
    win.show()
    qtbot.waitExposed(win)
    queue = win.panels["queue"]
    console.ctx.selection.select_call("")
    assert console.ctx.selection.call_id in (None, "")
    table = queue.table
    table.clearFocus()
    table.setFocus(Qt.FocusReason.TabFocusReason)
    QApplication.sendEvent(table, QFocusEvent(QEvent.Type.FocusIn, Qt.FocusReason.TabFocusReason))
    assert console.ctx.selection.call_id in (None, "")
    assert queue.table.selectionModel().selectedRows() == []
    # The first arrow key chooses: the first row (the longest waiting pending call).
    qtbot.keyClick(table, Qt.Key.Key_Down)
    chosen = console.ctx.selection.call_id
    assert chosen in (shown_ids(queue)[0], shown_ids(queue)[1])
    assert queue.selected_id() == chosen
    # Space on the row under the cursor chooses it where it is.
    console.ctx.selection.select_call("")
    assert console.ctx.selection.call_id in (None, "")
    sm = table.selectionModel()
    sm.setCurrentIndex(queue.proxy.index(2, 0), QItemSelectionModel.SelectionFlag.NoUpdate)
    assert console.ctx.selection.call_id in (None, "")  # a cursor alone chooses nothing
    qtbot.keyClick(table, Qt.Key.Key_Space)
    assert console.ctx.selection.call_id == shown_ids(queue)[2] == queue.selected_id()


def test_a_call_chosen_before_its_row_is_written_is_selected_when_it_comes(
    qtbot: Any, console: Any
) -> None:
    """The window's selection can name a call the queue has not written yet (the map, an alert
    or a replay jump chose it from a newer picture): the queue selects it once its row is
    there, and selects nothing else meanwhile."""
    queue = console.window.panels["queue"]
    late = "HCR-000129"
    console.ctx.selection.select_call(late)
    assert queue.selected_id() is None
    burst = [(f"HCR-{100 + i:06d}", 1 + i % 40, CallStatus.PENDING, 1 + i % 3) for i in range(30)]
    console.ctx.store.append([_event(*spec) for spec in burst])
    console.ctx.pictures.notify()
    qtbot.waitUntil(lambda: queue.model.rowCount() == 37, timeout=10_000)
    qtbot.waitUntil(lambda: queue.selected_id() == late, timeout=10_000)
    assert console.ctx.selection.call_id == late
    assert [i.row() for i in queue.table.selectionModel().selectedRows()] == [
        queue.proxy.proxy_index_of(late).row()
    ]


def test_esc_in_the_filter_clears_it_and_goes_back_to_the_same_call(
    qtbot: Any, console: Any
) -> None:
    win = console.window
    win.show()
    qtbot.waitExposed(win)
    queue = win.panels["queue"]
    console.ctx.selection.select_call("HCR-000006")
    queue.filter.setFocus()
    qtbot.keyClicks(queue.filter, "HCR-00000")
    assert queue.proxy.rowCount() == 7
    qtbot.keyClicks(queue.filter, "6")
    assert shown_ids(queue) == ["HCR-000006"]
    qtbot.keyClick(queue.filter, Qt.Key.Key_Escape)
    assert queue.filter.text() == "" and queue.proxy.rowCount() == 7
    assert QApplication.focusWidget() is queue.table
    assert queue.selected_id() == "HCR-000006" == console.ctx.selection.call_id


def test_ctrl_return_in_the_queue_is_not_the_rows_action(qtbot: Any, console: Any) -> None:
    """Enter alone opens the row's action; Ctrl+Return belongs to the window (acknowledge)."""
    queue = console.window.panels["queue"]
    fired: list[str] = []
    queue.table.activated_row.connect(lambda: fired.append("row"))
    qtbot.keyClick(queue.table, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert fired == []
    qtbot.keyClick(queue.table, Qt.Key.Key_Return)
    assert fired == ["row"]


def test_the_keyboard_starts_in_the_queue_on_no_call(qtbot: Any, console: Any) -> None:
    win = console.window
    win.show()
    qtbot.waitExposed(win)
    mv = win.map_panel.map_view
    if mv is not None:
        qtbot.waitUntil(lambda: mv.is_ready, timeout=20_000)
    queue = win.panels["queue"]
    qtbot.waitUntil(lambda: QApplication.focusWidget() is queue.table, timeout=5000)
    assert console.ctx.selection.call_id in (None, "")
    qtbot.keyClick(queue.table, Qt.Key.Key_Down)
    assert console.ctx.selection.call_id in shown_ids(queue)[:2]
