"""Every attempt is in the audit: those the console refused before sending show there with
their reason, and an acknowledgement names its call and team."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fixtures_dialogs import T0, Console, backup_alert, console_session, ev_alert
from PySide6.QtWidgets import QWidget

from console.domain.commands import ChangePriority
from console.ui.alerts.panel import AlertBanner
from console.ui.audit.panel import AuditModel, AuditPanel

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def console(qtbot: Any, tmp_path: Path) -> Iterator[Console]:
    yield from console_session(qtbot, tmp_path)


def cell(panel: AuditPanel, row: int, column: str, role: int = 0) -> str:
    m = panel.model
    return str(m.data(m.index(row, AuditModel.COLUMNS.index(column)), role))


def test_an_attempt_refused_before_sending_shows_with_its_reason(
    qtbot: Any, console: Console
) -> None:
    panel = AuditPanel(console.ctx)
    qtbot.addWidget(panel)
    qtbot.waitUntil(lambda: panel.loads >= 1, timeout=5000)
    cmd = ChangePriority(call_id="HCR-1", priority=3, reason="caller calmer", expected_version=3)
    with qtbot.waitSignal(console.gateway.audited, timeout=5000):
        console.gateway.refused_here(cmd, "HCR-1 changed meanwhile: it is now priority 2")
    qtbot.waitUntil(lambda: panel.model.rowCount() == 1, timeout=5000)
    assert cell(panel, 0, "Action") == "Change priority"
    assert cell(panel, 0, "Call") == "HCR-1"
    assert cell(panel, 0, "Reason") == "caller calmer"
    answer = cell(panel, 0, "Dispatch's answer")
    assert answer.startswith("✕ refused by the console")
    assert "changed meanwhile" in answer
    assert console.store.outbox_due() == []  # nothing was sent


def test_an_acknowledgement_names_the_team_and_its_call(qtbot: Any, console: Console) -> None:
    host = QWidget()
    qtbot.addWidget(host)
    banner = AlertBanner(console.ctx, host, sound=False)
    console.feed(qtbot, [ev_alert(backup_alert("CRT-3", T0), T0)])  # CRT-3 works HCR-3
    with qtbot.waitSignal(console.gateway.submitted, timeout=5000):
        banner.acknowledge("CRT-1 on the way")
    panel = AuditPanel(console.ctx)
    qtbot.addWidget(panel)
    qtbot.waitUntil(lambda: panel.model.rowCount() == 1, timeout=5000)
    assert cell(panel, 0, "Action") == "Acknowledge alert"
    assert (cell(panel, 0, "Call"), cell(panel, 0, "Team")) == ("HCR-3", "CRT-3")


def test_audit_columns_fit_their_content(qtbot: Any, console: Console) -> None:
    panel = AuditPanel(console.ctx)
    qtbot.addWidget(panel)
    panel.resize(1200, 300)
    hdr = panel.view.horizontalHeader()
    fm = panel.view.fontMetrics()
    for col, sample in {0: "00:00:00", 2: "Acknowledge alert", 3: "HCR-000000"}.items():
        assert hdr.sectionSize(col) >= fm.horizontalAdvance(sample) + 8
