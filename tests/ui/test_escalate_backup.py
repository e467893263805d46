"""Escalating a call whose team asked for backup starts from police, immediately."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fixtures_dialogs import T0, Console, backup_alert, console_session, ev_alert

from console.domain.model import EscalationTarget
from console.ui.actions.dialogs import open_action_dialog
from console.ui.actions.escalate import EscalateDialog


@pytest.fixture
def console(qtbot: Any, tmp_path: Path) -> Iterator[Console]:
    yield from console_session(qtbot, tmp_path)


def _escalate(qtbot: Any, console: Console, call_id: str) -> EscalateDialog:
    dlg = open_action_dialog("escalate", console.ctx, call_id=call_id)
    assert isinstance(dlg, EscalateDialog)
    qtbot.addWidget(dlg)
    return dlg


def test_open_backup_request_preselects_police_and_immediate(qtbot: Any, console: Console) -> None:
    # No backup asked yet: nothing is chosen for the supervisor.
    dlg = _escalate(qtbot, console, "HCR-3")
    assert dlg.selected_target() is None and not dlg.immediate.isChecked()
    dlg.reject()

    at = T0 + timedelta(minutes=2)
    console.feed(qtbot, [ev_alert(backup_alert("CRT-3", at), at)])  # CRT-3 works HCR-3
    dlg = _escalate(qtbot, console, "HCR-3")
    assert dlg.selected_target() is EscalationTarget.POLICE
    assert dlg.immediate.isChecked()
    assert [a.subject for a in dlg.backup] == ["CRT-3"]
    dlg.reject()

    # Another call is not concerned by CRT-3's request.
    dlg = _escalate(qtbot, console, "HCR-1")
    assert dlg.selected_target() is None and not dlg.immediate.isChecked()
    dlg.reject()
