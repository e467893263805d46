"""The program's records from the console: why an eligible call went unserved (asked when
escalating), the outcome of a closed call and naloxone given, against a real store, picture
source and gateway."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fixtures_dialogs import Console, build_console, close_console, make_config
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from console.domain.commands import EscalateCall
from console.domain.model import EscalationTarget
from console.domain.program import UnservedReason
from console.ui.actions.dialogs import open_action_dialog
from console.ui.actions.escalate import EscalateDialog

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
    cfg = make_config(tmp_path, '[program.hours]\nstart = "08:00"\nend = "20:00"\n')
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
