"""Nothing dispatch sent vanishes, its text is shown as text, the quarantine is visible, and the
selection never slides to another call or team."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fixtures_dialogs import Console, console_session, ev_call, ev_team
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from console.domain.alerts import collect_alerts, quarantine_alert, unknown_code_alerts
from console.domain.events import AlertKind, Severity
from console.domain.model import CallStatus, CallType, TeamStatus
from console.domain.rules import Thresholds
from console.ui.actions.assign import AssignDialog
from console.ui.actions.base import plain
from console.ui.actions.dialogs import open_action_dialog
from console.ui.actions.menu import actions_for
from console.ui.alerts.panel import AlertsPanel
from console.ui.alerts.quarantine import QuarantineDialog
from console.ui.board.panel import BoardPanel
from console.ui.core.labels import (
    PRIORITY_NOT_GIVEN_TIP,
    call_details,
    call_status_text,
    code_lines,
    plain_tip,
    priority_text,
)
from console.ui.map.markers import call_marker, team_marker
from console.ui.queue.panel import QueuePanel
from console.ui.tables.model import ID_ROLE

HOSTILE = '<b style="font-size:40px">X</b>'
_TIP = int(Qt.ItemDataRole.ToolTipRole)
_TEXT = int(Qt.ItemDataRole.DisplayRole)


@pytest.fixture
def console(qtbot: Any, tmp_path: Path) -> Iterator[Console]:
    yield from console_session(qtbot, tmp_path)


def _odd_call(console: Console) -> None:
    """HCR-1 as an EIDO reader fills it for codes the console cannot map."""
    c = console.call("HCR-1")
    console.clock.advance(5)
    now = console.clock.now()
    odd = replace(
        c,
        status=CallStatus.UNKNOWN,
        status_code="XYZ",
        type=CallType.UNRECOGNISED,
        source_type="MNTLX",
        priority=2,
        priority_given=False,
        codes=(("locationType", "XST"),),
        updated_at=now,
        version=c.version + 1,
    )
    console.store.append([ev_call(odd, now)])


def _row(panel: Any, rid: str) -> dict[str, Any]:
    model = panel.model
    row = model.row_of(rid)
    assert row is not None
    return {
        col.key: (
            model.data(model.index(row, k), _TEXT),
            model.data(model.index(row, k), _TIP),
        )
        for k, col in enumerate(model.COLUMNS)
    }


# -- nothing vanishes ------------------------------------------------------------------------------


def test_words_for_what_the_console_cannot_map(console: Console) -> None:
    c = replace(
        console.call("HCR-1"),
        status=CallStatus.UNKNOWN,
        status_code="XYZ",
        priority_given=False,
        codes=(("locationType", "XST"),),
    )
    assert call_status_text(c) == "unknown status 'XYZ'"
    assert priority_text(c) == "1 (not given)"
    assert code_lines(c.codes) == ["Location type: XST (not in NENA's registry)"]
    details = "\n".join(call_details(c))
    assert "Status: unknown status 'XYZ'" in details
    assert PRIORITY_NOT_GIVEN_TIP in details
    assert "en_route" not in call_status_text(replace(c, status=CallStatus.EN_ROUTE))


def test_unknown_codes_show_on_queue_board_and_map(qtbot: Any, console: Console) -> None:
    _odd_call(console)
    t = console.source.current().state.teams["CRT-2"]
    odd_team = replace(
        t, status=TeamStatus.UNKNOWN, status_code="BRK", updated_at=console.clock.now()
    )
    console.store.append([ev_team(odd_team, console.clock.now())])
    console.refresh(qtbot)
    queue = QueuePanel(console.ctx)
    board = BoardPanel(console.ctx)
    qtbot.addWidget(queue)
    qtbot.addWidget(board)
    console.settle()

    row = _row(queue, "HCR-1")  # an unknown status is open: "open only" keeps it
    assert row["status"][0] == "unknown status 'XYZ'"
    assert row["type"][0] == "unrecognised type 'MNTLX'"
    assert row["priority"][0] == "P2?"
    assert PRIORITY_NOT_GIVEN_TIP in row["priority"][1]
    assert "Location type: XST (not in NENA's registry)" in row["id"][1]
    assert _row(board, "CRT-2")["status"][0] == "unknown status 'BRK'"

    st = console.source.current().state
    th = console.ctx.config.thresholds
    spec = call_marker(st.calls["HCR-1"], console.clock.now(), th)
    assert spec["sym"] == "P2?"
    assert "unknown status 'XYZ', received 0m ago" in spec["tip"][2]
    assert PRIORITY_NOT_GIVEN_TIP in spec["tip"]
    assert "Location type: XST (not in NENA's registry)" in spec["tip"]
    dlg = open_action_dialog("priority", console.ctx, call_id="HCR-1")
    assert dlg is not None
    qtbot.addWidget(dlg)
    head = dlg.header.text()
    assert "P2 (not given) unrecognised type 'MNTLX'" in head
    assert "(unknown status 'XYZ')" in head
    assert f"Priority 2: {PRIORITY_NOT_GIVEN_TIP}" in head
    assert "Location type: XST (not in NENA's registry)" in head
    pos = st.positions["CRT-2"]
    tspec = team_marker(st.teams["CRT-2"], pos, console.clock.now(), th)
    assert "unknown status 'BRK'" in tspec["tip"][1]


def test_unknown_codes_raise_a_warning_naming_record_and_code(qtbot: Any, console: Console) -> None:
    _odd_call(console)
    console.refresh(qtbot)
    st = console.source.current().state
    alerts = unknown_code_alerts(st.calls.values(), st.teams.values())
    assert {a.subject for a in alerts} == {"HCR-1"}
    assert all(a.kind is AlertKind.UNKNOWN_CODE and a.severity is Severity.MEDIUM for a in alerts)
    texts = " ".join(a.message for a in alerts)
    assert "unknown status 'XYZ'" in texts and "unrecognised type 'MNTLX'" in texts
    assert {a.id for a in alerts} <= {
        a.id for a in collect_alerts(st, console.clock.now(), Thresholds())
    }
    panel = AlertsPanel(console.ctx)
    qtbot.addWidget(panel)
    panel.refresh()
    assert any(a.kind is AlertKind.UNKNOWN_CODE and a.subject == "HCR-1" for a in panel.alerts)


# -- the quarantine ---------------------------------------------------------------------------------


def test_every_quarantine_raises_an_alert_with_count_and_newest_reason(
    qtbot: Any, console: Console
) -> None:
    assert quarantine_alert(0, "", None) is None
    console.store.quarantine("<not eido", "not valid XML")
    console.source.notify()
    qtbot.waitUntil(lambda: console.source.current().quarantine is not None, timeout=5000)
    qtbot.waitUntil(lambda: console.source.current().quarantine.count == 1, timeout=5000)
    panel = AlertsPanel(console.ctx)
    qtbot.addWidget(panel)
    panel.refresh()
    first = [a for a in panel.alerts if a.kind is AlertKind.QUARANTINE]
    assert len(first) == 1 and "1 message from dispatch" in first[0].message
    assert "not valid XML" in first[0].message
    console.store.quarantine("{}", "unknown call id")
    console.source.notify()
    qtbot.waitUntil(lambda: console.source.current().quarantine.count == 2, timeout=5000)
    panel.refresh()
    second = [a for a in panel.alerts if a.kind is AlertKind.QUARANTINE]
    assert len(second) == 1 and second[0].id != first[0].id  # a new one raises anew
    assert "2 messages" in second[0].message and "unknown call id" in second[0].message


def test_quarantine_viewer_reads_off_the_gui_thread_and_shows_raw_text(
    qtbot: Any, console: Console
) -> None:
    console.store.quarantine(f"<eido>{HOSTILE}</eido>", f"bad address {HOSTILE}")
    threads: list[threading.Thread] = []
    real = console.store.quarantined

    def spy(limit: int = 100) -> Any:
        threads.append(threading.current_thread())
        return real(limit)

    console.store.quarantined = spy  # type: ignore[method-assign]
    dlg = QuarantineDialog(console.ctx)
    qtbot.addWidget(dlg)
    qtbot.waitUntil(lambda: dlg.loads == 1, timeout=5000)
    assert threads and threads[0] is not threading.main_thread()
    assert dlg.list.topLevelItemCount() == 1
    item = dlg.list.topLevelItem(0)
    assert item is not None and item.text(2) == f"bad address {HOSTILE}"
    assert dlg.raw.toPlainText() == f"<eido>{HOSTILE}</eido>"
    assert "1 quarantined" in dlg.summary.text()
    console.store.quarantine("second", "why")
    dlg.refresh()
    qtbot.waitUntil(lambda: dlg.loads == 2, timeout=5000)
    assert dlg.list.topLevelItemCount() == 2
    assert dlg.raw.toPlainText() == f"<eido>{HOSTILE}</eido>"  # stays on the item it was on


# -- plain text ------------------------------------------------------------------------------------


def test_markup_from_dispatch_is_shown_literally(qtbot: Any, console: Console) -> None:
    c = console.call("HCR-1")
    console.clock.advance(5)
    now = console.clock.now()
    console.feed(qtbot, [ev_call(replace(c, address=HOSTILE, version=c.version + 1), now)])
    dlg = open_action_dialog("note", console.ctx, call_id="HCR-1")
    assert dlg is not None
    qtbot.addWidget(dlg)
    assert dlg.header.textFormat() == Qt.TextFormat.PlainText
    assert HOSTILE in dlg.header.text()
    assert "HCR-1" in dlg.windowTitle()
    queue = QueuePanel(console.ctx)
    qtbot.addWidget(queue)
    console.settle()
    tip = _row(queue, "HCR-1")["location"][1]
    assert HOSTILE not in tip and "&lt;b style" in tip  # a tooltip would render markup
    assert plain_tip("plain words") == "plain words"


# -- dialogs pinned to their subject --------------------------------------------------------------


def test_dialog_names_its_call_and_says_what_changed_in_words(qtbot: Any, console: Console) -> None:
    dlg = open_action_dialog("reassign", console.ctx, call_id="HCR-3")
    assert isinstance(dlg, AssignDialog)
    qtbot.addWidget(dlg)
    assert "HCR-3" in dlg.windowTitle()
    assert plain(dlg.ok_button.text()) == "Reassign HCR-3"
    assert dlg.focusWidget() is dlg.reason  # the reason is required: start there
    chosen = dlg.selected_team()
    assert chosen is not None
    # Dispatch does the same reassignment meanwhile.
    c = console.call("HCR-3")
    console.clock.advance(5)
    now = console.clock.now()
    moved = replace(
        c, team=chosen, teams=(chosen,), status=CallStatus.EN_ROUTE, version=c.version + 1
    )
    console.feed(qtbot, [ev_call(moved, now)])
    dlg.reason.setText("closer team")
    qtbot.keyClick(dlg, Qt.Key.Key_Return)
    err = dlg.error.text()
    assert f"dispatch moved it from CRT-3 to {chosen}" in err
    assert "already done, nothing sent" in err
    assert "en route" in err and "en_route" not in err
    assert console.store.outbox_due() == []
    assert plain(dlg.ok_button.text()) == "Reassign HCR-3"


def test_focus_returns_to_the_panel_the_dialog_came_from(qtbot: Any, console: Console) -> None:
    queue = QueuePanel(console.ctx)
    qtbot.addWidget(queue)
    queue.show()
    qtbot.waitExposed(queue)
    console.settle()
    queue.select_id("HCR-1")
    console.ctx.selection.select_call("HCR-1")
    queue.activateWindow()
    queue.table.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is queue.table, timeout=2000)
    actions = actions_for(console.ctx)
    actions.dialog_parent = queue
    dlg = actions.trigger("note")
    assert dlg is not None
    qtbot.addWidget(dlg)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is dlg.text, timeout=2000)
    assert plain(dlg.ok_button.text()) == "Add note HCR-1"
    dlg.reject()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is queue.table, timeout=2000)


# -- selection never slides ------------------------------------------------------------------------


def _queue_with(qtbot: Any, console: Console, rid: str) -> QueuePanel:
    queue = QueuePanel(console.ctx)
    qtbot.addWidget(queue)
    console.settle()
    queue.table.selectRow(queue.proxy.proxy_index_of(rid).row())
    assert console.ctx.selection.call_id == rid
    return queue


def test_selected_call_filtered_out_clears_the_selection(qtbot: Any, console: Console) -> None:
    queue = _queue_with(qtbot, console, "HCR-1")
    queue.filter.setText("HCR-4")
    assert console.ctx.selection.call_id is None
    assert queue.selected_id() is None
    assert not queue.table.selectionModel().hasSelection()
    queue.filter.setText("")  # back in view, but nobody chose it again
    assert console.ctx.selection.call_id is None
    assert queue.selected_id() is None


def test_selection_stays_on_its_call_when_rows_move(qtbot: Any, console: Console) -> None:
    queue = _queue_with(qtbot, console, "HCR-4")
    # HCR-4 becomes priority 1: it moves up past others; the selection goes with it.
    c = console.call("HCR-4")
    console.clock.advance(5)
    now = console.clock.now()
    console.feed(qtbot, [ev_call(replace(c, priority=1, version=c.version + 1), now)])
    assert console.ctx.selection.call_id == "HCR-4"
    assert queue.selected_id() == "HCR-4"
    # A call received ahead of it: the rows shift, the selection does not.
    first = console.call("HCR-1")
    new = replace(first, id="HCR-0", received_at=first.received_at - timedelta(minutes=5))
    console.feed(qtbot, [ev_call(new, now)])
    assert queue.selected_id() == "HCR-4"
    assert console.ctx.selection.call_id == "HCR-4"


def test_selected_call_cleared_by_dispatch_is_not_replaced(qtbot: Any, console: Console) -> None:
    queue = _queue_with(qtbot, console, "HCR-3")
    c = console.call("HCR-3")
    console.clock.advance(5)
    now = console.clock.now()
    done = replace(c, status=CallStatus.CLEARED, cleared_at=now, version=c.version + 1)
    console.feed(qtbot, [ev_call(done, now)])
    assert queue.model.row_of("HCR-3") is None  # "open only"
    assert console.ctx.selection.call_id is None
    assert queue.selected_id() is None
    assert all(
        queue.proxy.data(queue.proxy.index(r, 0), ID_ROLE) != console.ctx.selection.call_id
        for r in range(queue.proxy.rowCount())
    )


def test_a_call_dispatch_did_not_resend_after_a_reconnect_says_since_when(
    qtbot: Any, console: Console
) -> None:
    """An open call the notifier did not re-send when the link came back is never left looking
    current: its row says "not confirmed since HH:MM" until dispatch confirms it again."""
    queue = QueuePanel(console.ctx)
    qtbot.addWidget(queue)
    console.settle()
    since = console.call("HCR-1").updated_at
    marks: dict[str, Any] = {"HCR-1": since}
    console.source.set_unconfirmed(lambda state: dict(marks))
    console.source._on_tick()  # the second's tick reads the marks
    console.settle()
    text, tip = _row(queue, "HCR-1")["status"]
    assert text.endswith(f"not confirmed since {since.astimezone():%H:%M}")
    assert "check with dispatch" in tip
    assert "not confirmed" not in _row(queue, "HCR-2")["status"][0]

    marks.clear()  # dispatch sent it again
    console.source._on_tick()
    console.settle()
    assert "not confirmed" not in _row(queue, "HCR-1")["status"][0]


def test_a_supervisor_sees_the_callback_number_dispatch_sent(qtbot: Any, console: Console) -> None:
    """NENA's callbackComponent number is kept with the persons (apart from the log) and shown
    to a supervisor in the call's dialog, read off the GUI thread."""
    from console.ui.actions.note import NoteDialog

    console.store.record_persons("HCR-1", [{"role": "Caller", "callback": "+18605550142"}])
    dlg = NoteDialog(console.ctx, console.call("HCR-1"))
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitUntil(lambda: dlg.callback.isVisible(), timeout=5000)
    assert dlg.callback.text() == "Callback number: +18605550142"
    assert dlg.callback.textFormat() == Qt.TextFormat.PlainText


def test_a_viewer_is_not_shown_the_callback_number(qtbot: Any, tmp_path: Path) -> None:
    from console.ui.actions.note import NoteDialog

    for viewer in console_session(qtbot, tmp_path, role="viewer"):
        viewer.store.record_persons("HCR-1", [{"role": "Caller", "callback": "+18605550142"}])
        dlg = NoteDialog(viewer.ctx, viewer.call("HCR-1"))
        qtbot.addWidget(dlg)
        dlg.show()
        qtbot.wait(300)
        assert not dlg.callback.isVisible() and "555" not in dlg.callback.text()
