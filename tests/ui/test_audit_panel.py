"""The audit panel against a real store: actions appear with who, what and why, dispatch's
answer fills in, reads happen off the GUI thread, rows are never reset for a new entry."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fixtures_dialogs import Console, console_session

from console.domain.commands import AssignTeam, ChangePriority
from console.ui.audit.panel import AuditModel, AuditPanel

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def console(qtbot: Any, tmp_path: Path) -> Iterator[Console]:
    yield from console_session(qtbot, tmp_path)


def cell(panel: AuditPanel, row: int, column: str) -> str:
    m = panel.model
    return str(m.data(m.index(row, AuditModel.COLUMNS.index(column))))


def test_actions_and_answers_show_up_read_off_the_gui_thread(
    qtbot: Any, console: Console, qtmodeltester: Any
) -> None:
    threads: list[str] = []
    real_audit = console.store.audit

    def audit(*a: Any, **kw: Any) -> Any:
        threads.append(threading.current_thread().name)
        return real_audit(*a, **kw)

    console.store.audit = audit  # type: ignore[method-assign]
    panel = AuditPanel(console.ctx)
    qtbot.addWidget(panel)
    qtbot.waitUntil(lambda: panel.loads >= 1, timeout=5000)
    assert panel.model.rowCount() == 0

    gw = console.gateway
    with qtbot.waitSignal(gw.submitted, timeout=5000) as sub:
        gw.submit(
            AssignTeam(call_id="HCR-1", team_id="CRT-1", reason="closest", expected_version=3)
        )
    command_id = sub.args[0]
    qtbot.waitUntil(lambda: panel.model.rowCount() == 1, timeout=5000)
    assert cell(panel, 0, "Operator") == "sup.jones"
    assert cell(panel, 0, "Action") == "Assign"
    assert (cell(panel, 0, "Call"), cell(panel, 0, "Team")) == ("HCR-1", "CRT-1")
    assert cell(panel, 0, "Reason") == "closest"
    assert "awaiting dispatch" in cell(panel, 0, "Dispatch's answer")

    # A command the console refuses is audited too, on top; the earlier row is not reset.
    resets: list[int] = []
    panel.model.modelReset.connect(lambda: resets.append(1))
    with qtbot.waitSignal(gw.rejected, timeout=5000):
        gw.submit(ChangePriority(call_id="HCR-3", priority=2, reason="same"))
    qtbot.waitUntil(lambda: panel.model.rowCount() == 2, timeout=5000)
    assert "refused by the console" in cell(panel, 0, "Dispatch's answer")
    assert "already priority 2" in cell(panel, 0, "Dispatch's answer")

    # Dispatch confirms the assignment: the row fills in when the picture shows the answer.
    console.store.record_answer(
        command_id,
        accepted=True,
        detail="CRT-1 dispatched",
        at=console.clock.now(),
        source_id="ans-1",
    )
    console.refresh(qtbot)
    qtbot.waitUntil(lambda: "confirmed" in cell(panel, 1, "Dispatch's answer"), timeout=5000)
    assert "CRT-1 dispatched" in cell(panel, 1, "Dispatch's answer")
    assert resets == []
    assert threads and all(t != threading.main_thread().name for t in threads)
    qtmodeltester.check(panel.model)

    panel.filter.setText("refused")
    assert panel.proxy.rowCount() == 1


def test_no_store_says_so(qtbot: Any, console: Console) -> None:
    console.ctx.store = None
    panel = AuditPanel(console.ctx)
    qtbot.addWidget(panel)
    assert "No audit log" in panel.status.text()
    assert panel.model.rowCount() == 0
