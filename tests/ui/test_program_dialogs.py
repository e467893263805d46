"""The program's records from the console: why an eligible call went unserved (asked when
escalating), the outcome of a closed call and naloxone given, against a real store, picture
source and gateway."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fixtures_dialogs import (
    T0,
    Console,
    build_console,
    close_console,
    ev_call,
    make_config,
    themed,
)
from PySide6.QtCore import QDateTime, QItemSelectionModel, Qt
from PySide6.QtWidgets import QApplication, QDialog

from console.domain.commands import EscalateCall
from console.domain.events import CallUpdated, Source
from console.domain.model import Call, CallStatus, CallType, EscalationTarget
from console.domain.program import Outcome, UnservedReason
from console.ui.actions.dialogs import open_action_dialog
from console.ui.actions.escalate import EscalateDialog
from console.ui.actions.menu import actions_for
from console.ui.actions.outcome import NaloxoneDialog, OutcomeDialog
from console.ui.outcomes.panel import NeedsOutcomePanel
from console.ui.queue.panel import QueuePanel

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def console(qtbot: Any, tmp_path: Path) -> Iterator[Console]:
    c = build_console(qtbot, tmp_path)
    try:
        yield c
    finally:
        close_console(c)


@pytest.fixture
def night_console(qtbot: Any, tmp_path: Path) -> Iterator[Console]:
    """The program's teams work 08:00-20:00; the world's calls arrive at 03:00."""
    cfg = make_config(tmp_path, '[program_hours]\nstart = "08:00"\nend = "20:00"\n')
    c = build_console(qtbot, tmp_path, config=cfg)
    try:
        yield c
    finally:
        close_console(c)


def _escalate(qtbot: Any, ctx: Any, call_id: str) -> EscalateDialog:
    dlg = open_action_dialog("escalate", ctx, call_id=call_id)
    assert isinstance(dlg, EscalateDialog)
    qtbot.addWidget(dlg)
    return dlg


def _fill(qtbot: Any, dlg: EscalateDialog, target: EscalationTarget) -> None:
    dlg.targets[target].setChecked(True)
    dlg.normal.setChecked(True)
    qtbot.keyClicks(dlg.reason, "caller asks for police")


def _send(qtbot: Any, dlg: QDialog) -> None:
    with qtbot.waitSignal(dlg.finished, timeout=5000):
        qtbot.keyClick(dlg.focusWidget() or dlg, Qt.Key.Key_Return)


def test_escalating_an_eligible_call_asks_why_and_records_it_with_the_escalation(
    qtbot: Any, console: Console
) -> None:
    dlg = _escalate(qtbot, console.ctx, "HCR-1")
    assert dlg.unserved is not None and dlg.unserved.isEnabled()
    # two teams are free: the log proves no reason, so none is chosen and one is required
    assert dlg.inferred_reason is None and dlg.unserved_reason() is None
    labels = [dlg.unserved.itemText(i) for i in range(1, dlg.unserved.count())]
    assert labels == [r.label for r in UnservedReason]
    _fill(qtbot, dlg, EscalationTarget.POLICE)
    qtbot.keyClick(dlg.reason, Qt.Key.Key_Return)
    assert "why no civilian team" in dlg.error.text().lower() and dlg.isVisible()
    assert console.store.outbox_due() == []  # nothing sent
    dlg.unserved.setCurrentIndex(dlg.unserved.findData(UnservedReason.CALLER_DECLINED.value))
    dlg.reason.setFocus()
    _send(qtbot, dlg)
    assert isinstance(dlg.command, EscalateCall)
    assert dlg.reason_op is not None
    qtbot.waitUntil(
        lambda: dlg.reason_op is not None and dlg.reason_op.command_id is not None, timeout=5000
    )
    console.refresh(qtbot)
    rec = console.source.current().state.unserved["HCR-1"]
    assert (rec.reason, rec.operator, rec.inferred) == (
        UnservedReason.CALLER_DECLINED,
        "sup.jones",
        False,
    )
    # both submissions are audited, by the supervisor
    actions = sorted((a.action, a.call_id, a.operator) for a in console.store.audit())
    assert actions == [
        ("escalate", "HCR-1", "sup.jones"),
        ("unserved_reason", "HCR-1", "sup.jones"),
    ]


def test_the_reason_the_log_proves_is_chosen_already(qtbot: Any, night_console: Console) -> None:
    dlg = _escalate(qtbot, night_console.ctx, "HCR-1")
    assert dlg.inferred_reason is UnservedReason.OUTSIDE_PROGRAM_HOURS
    assert dlg.unserved_reason() is UnservedReason.OUTSIDE_PROGRAM_HOURS
    _fill(qtbot, dlg, EscalationTarget.EMS)
    dlg.reason.setFocus()
    _send(qtbot, dlg)
    qtbot.waitUntil(
        lambda: dlg.reason_op is not None and dlg.reason_op.command_id is not None, timeout=5000
    )
    night_console.refresh(qtbot)
    rec = night_console.source.current().state.unserved["HCR-1"]
    assert rec.reason is UnservedReason.OUTSIDE_PROGRAM_HOURS and not rec.inferred


def test_no_question_for_unsafe_or_served_calls_nor_for_a_co_response(
    qtbot: Any, console: Console
) -> None:
    assert _escalate(qtbot, console.ctx, "HCR-2").unserved is None  # fails the safety screen
    assert _escalate(qtbot, console.ctx, "HCR-3").unserved is None  # a team went
    dlg = _escalate(qtbot, console.ctx, "HCR-1")
    assert dlg.unserved is not None
    _fill(qtbot, dlg, EscalationTarget.CO_RESPONSE)  # a civilian team goes with police
    assert not dlg.unserved.isEnabled()
    dlg.reason.setFocus()
    _send(qtbot, dlg)
    assert isinstance(dlg.command, EscalateCall) and dlg.reason_op is None
    assert [a.action for a in console.store.audit()] == ["escalate"]


# -- outcomes and naloxone -------------------------------------------------------------------------


def _close(console: Console, qtbot: Any) -> None:
    """HCR-3 (CRT-3 went) cleared as referred at T0+5 min; HCR-5 (CRT-2 went) cleared by
    dispatch as refused care (APCO 42) at T0+2 min; the clock moves on to T0+10 min."""
    hcr3 = console.call("HCR-3")
    done3 = replace(
        hcr3,
        status=CallStatus.CLEARED,
        updated_at=T0 + timedelta(minutes=5),
        cleared_at=T0 + timedelta(minutes=5),
        onscene_at=T0 + timedelta(minutes=3),
        disposition="referred",
        version=hcr3.version + 1,
    )
    hcr5 = Call("HCR-5", CallStatus.PENDING, 2, CallType.WELFARE_CHECK, T0, T0)
    done5 = replace(
        hcr5,
        status=CallStatus.CLEARED,
        updated_at=T0 + timedelta(minutes=2),
        cleared_at=T0 + timedelta(minutes=2),
        disposition="apco-42",
        teams=("CRT-2",),
        version=2,
    )
    console.clock.set(T0 + timedelta(minutes=10))
    console.feed(
        qtbot,
        [
            ev_call(hcr5, T0),
            CallUpdated(
                source=Source.DISPATCH,
                source_id="close-3",
                occurred_at=done3.updated_at,
                recorded_at=done3.updated_at,
                call=done3,
            ),
            CallUpdated(
                source=Source.DISPATCH,
                source_id="close-5",
                occurred_at=done5.updated_at,
                recorded_at=done5.updated_at,
                call=done5,
            ),
        ],
    )
    console.source._on_tick()


def test_needs_outcome_list_and_the_record_outcome_dialog(
    qtbot: Any, console: Console, artifacts: Path
) -> None:
    panel = NeedsOutcomePanel(console.ctx)
    qtbot.addWidget(panel)
    panel.show()
    assert panel.ids() == []
    _close(console, qtbot)
    qtbot.waitUntil(lambda: panel.ids() == ["HCR-5", "HCR-3"], timeout=5000)  # oldest first
    assert "2 closed calls need an outcome" in panel.summary.text()

    # Focus coming to the list chooses no call by itself (the window's actions would act on
    # it); the keyboard's first move does.
    console.ctx.selection.select_call("")
    panel.list.setCurrentItem(
        panel.list.topLevelItem(0), 0, QItemSelectionModel.SelectionFlag.NoUpdate
    )
    assert console.ctx.selection.call_id in (None, "")
    qtbot.keyClick(panel.list, Qt.Key.Key_Space)
    assert console.ctx.selection.call_id == "HCR-5"

    # Enter on a row opens the dialog on that call, named in its title and confirm button
    panel.select("HCR-3")
    assert console.ctx.selection.call_id == "HCR-3"
    panel.list.setFocus()
    qtbot.keyClick(panel.list, Qt.Key.Key_Return)
    qtbot.waitUntil(
        lambda: isinstance(QApplication.activeModalWidget(), OutcomeDialog), timeout=5000
    )
    dlg = QApplication.activeModalWidget()
    assert isinstance(dlg, OutcomeDialog)
    qtbot.addWidget(dlg)
    assert dlg.windowTitle() == "Record outcome HCR-3"
    assert dlg.ok_button.text().replace("&", "") == "Record outcome HCR-3"
    # dispatch's disposition (referred) chooses the outcome already
    assert dlg.selected_outcome() is Outcome.REFERRED
    assert not dlg.destination.isEnabled()
    # a transport to a community destination needs the kind of place
    dlg.outcome.setCurrentIndex(dlg.outcome.findData(Outcome.TRANSPORTED_COMMUNITY.value))
    assert dlg.destination.isEnabled()
    dlg.naloxone.doses.setValue(2)
    dlg.naloxone.given_at.setDateTime(
        QDateTime.fromSecsSinceEpoch(int((T0 + timedelta(minutes=4)).timestamp()))
    )
    dlg.outcome.setFocus()
    qtbot.keyClick(dlg.outcome, Qt.Key.Key_Return)
    assert "kind of place" in dlg.error.text() and dlg.isVisible()
    dlg.destination.setCurrentIndex(dlg.destination.findData("sobering_center"))
    dlg.clear_error()
    with themed("dark"):
        dlg.grab().save(str(artifacts / "record_outcome_dialog.png"))
    _send(qtbot, dlg)
    assert dlg.naloxone_op is not None
    qtbot.waitUntil(
        lambda: dlg.naloxone_op is not None and dlg.naloxone_op.command_id is not None, timeout=5000
    )

    # recorded: it leaves the list; the outcome and the naloxone are in the picture, audited
    console.refresh(qtbot)
    qtbot.waitUntil(lambda: panel.ids() == ["HCR-5"], timeout=5000)
    st = console.source.current().state
    rec = st.outcomes["HCR-3"]
    assert (rec.outcome, rec.destination_kind, rec.operator) == (
        Outcome.TRANSPORTED_COMMUNITY,
        "sobering_center",
        "sup.jones",
    )
    (dose,) = st.naloxone_for("HCR-3")
    assert (dose.doses, dose.given_at) == (2, T0 + timedelta(minutes=4))
    # a transport to a community destination calls for a follow-up: opened with the outcome
    assert sorted(a.action for a in console.store.audit()) == [
        "open_followup",
        "record_naloxone",
        "record_outcome",
    ]
    assert st.followups["FU-HCR-3"].cause == "transported_community"
    with themed("dark"):
        panel.resize(720, 200)
        panel.grab().save(str(artifacts / "needs_outcome_list.png"))

    # Ctrl+U (the action) on the selected call: APCO 42 suggests "refused services"
    console.ctx.selection.select_call("HCR-5")
    dlg5 = actions_for(console.ctx).trigger("outcome")
    assert isinstance(dlg5, OutcomeDialog)
    qtbot.addWidget(dlg5)
    assert actions_for(console.ctx).actions["outcome"].shortcut().toString() == "Ctrl+U"
    assert dlg5.selected_outcome() is Outcome.REFUSED_SERVICES
    _send(qtbot, dlg5)
    console.refresh(qtbot)
    qtbot.waitUntil(lambda: panel.ids() == [], timeout=5000)
    assert "No closed call" in panel.summary.text()


def test_naloxone_on_an_open_call_and_no_outcome_while_open(qtbot: Any, console: Console) -> None:
    console.clock.set(T0 + timedelta(minutes=10))
    console.source._on_tick()
    out = open_action_dialog("outcome", console.ctx, call_id="HCR-1")
    assert isinstance(out, OutcomeDialog)
    qtbot.addWidget(out)
    assert "still open" in out.refusal.text() and not out.ok_button.isEnabled()

    dlg = open_action_dialog("naloxone", console.ctx, call_id="HCR-1")
    assert isinstance(dlg, NaloxoneDialog)
    qtbot.addWidget(dlg)
    assert dlg.windowTitle() == "Record naloxone HCR-1"
    assert dlg.naloxone.doses.minimum() == 1
    dlg.naloxone.doses.setValue(3)
    dlg.naloxone.doses.setFocus()
    _send(qtbot, dlg)
    console.refresh(qtbot)
    (dose,) = console.source.current().state.naloxone_for("HCR-1")
    assert dose.doses == 3 and dose.operator == "sup.jones"
    # the queue's context menu offers it on an open call
    assert "naloxone" in QueuePanel.menu_kinds(None)  # type: ignore[arg-type]
