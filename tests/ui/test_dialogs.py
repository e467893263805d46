"""Action dialogs against a real store, picture source and gateway: the recommendation shown and
pre-selected, the safety screen offering escalation, required reasons, mobile-crisis hours,
roles, refusals shown in place, and commands that reach the outbox and the audit."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fixtures_dialogs import T0, Console, console_session, ev_call, themed
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialog

from console.domain.commands import (
    AddNote,
    AssignTeam,
    ChangePriority,
    EscalateCall,
    ReassignCall,
    RequestCheckin,
    SetTeamService,
)
from console.domain.model import EscalationTarget
from console.ui.actions.assign import AssignDialog
from console.ui.actions.base import ELIGIBLE_ROLE, TEAM_ID_ROLE
from console.ui.actions.dialogs import open_action_dialog
from console.ui.actions.escalate import EscalateDialog
from console.ui.actions.note import NoteDialog

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def console(qtbot: Any, tmp_path: Path) -> Iterator[Console]:
    yield from console_session(qtbot, tmp_path)


@pytest.fixture
def viewer_console(qtbot: Any, tmp_path: Path) -> Iterator[Console]:
    yield from console_session(qtbot, tmp_path, role="viewer")


def rows(dlg: AssignDialog) -> dict[str, tuple[bool, str, Qt.ItemFlag]]:
    out = {}
    for i in range(dlg.teams.topLevelItemCount()):
        it = dlg.teams.topLevelItem(i)
        assert it is not None
        out[str(it.data(0, TEAM_ID_ROLE))] = (
            bool(it.data(0, ELIGIBLE_ROLE)),
            it.text(3),
            it.flags(),
        )
    return out


def press_mnemonic(qtbot: Any, dlg: QDialog, key: Qt.Key) -> None:
    """Alt+key as the supervisor types it (a button's mnemonic clicks it after a short flash)."""
    dlg.raise_()
    dlg.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dlg, timeout=2000)
    qtbot.keyClick(dlg, key, Qt.KeyboardModifier.AltModifier)


def enter(qtbot: Any, dlg: QDialog) -> None:
    """Enter where the supervisor's focus is in the dialog (the list, a field...)."""
    qtbot.keyClick(dlg.focusWidget() or dlg, Qt.Key.Key_Return)


def submit_and_wait(qtbot: Any, dlg: QDialog) -> None:
    with qtbot.waitSignal(dlg.finished, timeout=5000):
        enter(qtbot, dlg)


def test_assign_preselects_the_best_and_explains_the_ineligible(
    qtbot: Any, console: Console, artifacts: Any
) -> None:
    dlg = open_action_dialog("assign", console.ctx, call_id="HCR-1")
    assert isinstance(dlg, AssignDialog)
    qtbot.addWidget(dlg)
    r = rows(dlg)
    # CRT-1 stands at the call, CRT-2 is ~4 km away: CRT-1 first and pre-selected.
    assert [k for k, v in r.items() if v[0]] == ["CRT-1", "CRT-2"]
    assert dlg.selected_team() == "CRT-1"
    assert "recommended" in r["CRT-1"][1]
    # Ineligible teams are listed, cannot be chosen, and say why (text, not only grey).
    assert r["CRT-4"][0] is False and "out of service" in r["CRT-4"][1]
    assert r["CRT-3"][0] is False and "busy on HCR-3" in r["CRT-3"][1]
    assert not (r["CRT-4"][2] & Qt.ItemFlag.ItemIsSelectable)
    with themed("dark"):
        dlg.show()
        qtbot.waitExposed(dlg)
        dlg.grab().save(str(artifacts / "assign_dialog.png"))

    # Focus starts on the list (arrows choose); Enter accepts: the command carries the version the supervisor saw and reaches the store.
    assert dlg.focusWidget() is dlg.teams
    submit_and_wait(qtbot, dlg)
    assert dlg.result() == QDialog.DialogCode.Accepted
    cmd = dlg.command
    assert isinstance(cmd, AssignTeam)
    assert (cmd.call_id, cmd.team_id, cmd.expected_version) == ("HCR-1", "CRT-1", 3)
    out = console.store.outbox_due()
    assert [(o.command.kind, o.command.call_id, o.command.team_id) for o in out] == [
        ("assign", "HCR-1", "CRT-1")
    ]
    audit = console.store.audit()
    assert audit[0].operator == "sup.jones" and audit[0].answer_status == "pending"


def test_escape_cancels_without_sending(qtbot: Any, console: Console) -> None:
    dlg = open_action_dialog("assign", console.ctx, call_id="HCR-1")
    assert dlg is not None
    qtbot.addWidget(dlg)
    with qtbot.waitSignal(dlg.finished, timeout=2000):
        qtbot.keyClick(dlg.focusWidget() or dlg, Qt.Key.Key_Escape)
    assert dlg.result() == QDialog.DialogCode.Rejected
    assert console.store.outbox_due() == []


def test_unsafe_call_cannot_go_to_a_civilian_team_and_offers_escalation(
    qtbot: Any, console: Console
) -> None:
    dlg = open_action_dialog("assign", console.ctx, call_id="HCR-2")
    assert isinstance(dlg, AssignDialog)
    qtbot.addWidget(dlg)
    assert all(not eligible for eligible, _, _ in rows(dlg).values())
    assert "weapon" in dlg.screen_label.text()
    assert not dlg.ok_button.isEnabled()
    assert "civilian team" in dlg.refusal.text()
    assert dlg.escalate_button is not None and "Police" in dlg.escalate_button.text()
    # Enter goes to the escalation offer, which opens the escalate dialog with police chosen.
    with qtbot.waitSignal(dlg.finished, timeout=2000):
        enter(qtbot, dlg)
    esc = dlg.followup
    assert isinstance(esc, EscalateDialog)
    qtbot.addWidget(esc)
    assert esc.selected_target() is EscalationTarget.POLICE
    assert esc.immediate.isChecked()  # an unsafe call defaults to immediate
    assert console.store.outbox_due() == []


def test_no_eligible_team_says_so(qtbot: Any, console: Console) -> None:
    dlg = open_action_dialog("assign", console.ctx, call_id="HCR-4")  # overdose, no Narcan
    assert isinstance(dlg, AssignDialog)
    qtbot.addWidget(dlg)
    assert not dlg.ok_button.isEnabled()
    assert "No eligible team" in dlg.screen_label.text()
    assert "Narcan" in rows(dlg)["CRT-1"][1]


def test_reassign_requires_a_reason(qtbot: Any, console: Console) -> None:
    dlg = open_action_dialog("reassign", console.ctx, call_id="HCR-3")
    assert isinstance(dlg, AssignDialog) and dlg.reassign
    qtbot.addWidget(dlg)
    r = rows(dlg)
    assert r["CRT-3"][0] is False and "already on this call" in r["CRT-3"][1]
    assert dlg.selected_team() is not None
    enter(qtbot, dlg)
    assert dlg.isVisible() and dlg.result() != QDialog.DialogCode.Accepted
    assert "reason is required" in dlg.error.text()
    assert console.store.outbox_due() == []

    dlg.reason.setFocus()
    qtbot.keyClicks(dlg.reason, "CRT-3 delayed by traffic")
    submit_and_wait(qtbot, dlg)
    cmd = dlg.command
    assert isinstance(cmd, ReassignCall)
    assert (cmd.team_id, cmd.reason, cmd.expected_version) == (
        dlg.selected_team(),
        "CRT-3 delayed by traffic",
        5,
    )


def test_escalate_to_mobile_crisis_outside_hours_is_disabled_with_the_reason(
    qtbot: Any, console: Console
) -> None:
    # T0 is 03:00; the test config opens mobile crisis 08:00-20:00.
    dlg = open_action_dialog("escalate", console.ctx, call_id="HCR-1")
    assert isinstance(dlg, EscalateDialog)
    qtbot.addWidget(dlg)
    mc = dlg.targets[EscalationTarget.MOBILE_CRISIS]
    assert not mc.isEnabled()
    assert "closed now" in mc.text() and "08:00-20:00" in mc.text()
    assert all(
        rb.isEnabled() for t, rb in dlg.targets.items() if t is not EscalationTarget.MOBILE_CRISIS
    )

    # Reason and urgency are required.
    dlg.targets[EscalationTarget.CO_RESPONSE].setChecked(True)
    enter(qtbot, dlg)
    assert "urgency" in dlg.error.text() and dlg.isVisible()
    press_mnemonic(qtbot, dlg, Qt.Key.Key_N)  # &Normal
    qtbot.waitUntil(dlg.normal.isChecked, timeout=2000)
    enter(qtbot, dlg)
    assert "reason is required" in dlg.error.text()
    qtbot.keyClicks(dlg.reason, "caller now reports threats")
    submit_and_wait(qtbot, dlg)
    cmd = dlg.command
    assert isinstance(cmd, EscalateCall)
    assert (cmd.target, cmd.urgency, cmd.reason) == (
        EscalationTarget.CO_RESPONSE,
        "normal",
        "caller now reports threats",
    )


def test_mobile_crisis_open_within_hours(qtbot: Any, console: Console) -> None:
    console.clock.set(T0.replace(hour=12))
    console.source._on_tick()  # the picture's clock follows the tick
    dlg = open_action_dialog("escalate", console.ctx, call_id="HCR-1")
    assert isinstance(dlg, EscalateDialog)
    qtbot.addWidget(dlg)
    assert dlg.targets[EscalationTarget.MOBILE_CRISIS].isEnabled()


def test_viewer_cannot_act(qtbot: Any, viewer_console: Console) -> None:
    cases: tuple[tuple[str, dict[str, Any]], ...] = (
        ("assign", {"call_id": "HCR-1"}),
        ("escalate", {"call_id": "HCR-1"}),
        ("note", {"call_id": "HCR-1"}),
        ("checkin", {"team_id": "CRT-1"}),
    )
    for kind, kw in cases:
        dlg = open_action_dialog(kind, viewer_console.ctx, **kw)
        assert dlg is not None
        qtbot.addWidget(dlg)
        assert not dlg.ok_button.isEnabled(), kind
        assert "Viewer role" in dlg.refusal.text() and dlg.refusal.isVisibleTo(dlg)
        enter(qtbot, dlg)
        assert dlg.result() != QDialog.DialogCode.Accepted
        dlg.reject()
    assert viewer_console.store.outbox_due() == []


def test_a_call_changed_meanwhile_is_refused_in_the_dialog(qtbot: Any, console: Console) -> None:
    dlg = open_action_dialog("priority", console.ctx, call_id="HCR-1")
    assert dlg is not None
    qtbot.addWidget(dlg)
    # Dispatch updates the call (new version) while the dialog is open; the store refuses.
    newer = console.call("HCR-1")
    console.clock.advance(5)
    console.store.append(
        [ev_call(replace(newer, version=4, updated_at=console.clock.now()), console.clock.now())]
    )
    with qtbot.waitSignal(console.gateway.rejected, timeout=5000):
        enter(qtbot, dlg)
    assert dlg.isVisible()
    assert "changed meanwhile" in dlg.error.text()
    assert dlg.ok_button.isEnabled()  # can retry after reviewing


def test_a_change_seen_in_the_picture_is_announced_and_refused_before_sending(
    qtbot: Any, console: Console
) -> None:
    dlg = open_action_dialog("assign", console.ctx, call_id="HCR-1")
    assert dlg is not None
    qtbot.addWidget(dlg)
    assert dlg.changed_notice.isHidden()
    newer = console.call("HCR-1")
    console.clock.advance(5)
    now = console.clock.now()
    console.feed(qtbot, [ev_call(replace(newer, priority=2, version=4, updated_at=now), now)])
    assert dlg.changed_notice.isVisible()
    assert (
        "HCR-1 changed" in dlg.changed_notice.text() and "priority 2" in dlg.changed_notice.text()
    )
    with qtbot.waitSignal(console.gateway.audited, timeout=5000):
        enter(qtbot, dlg)  # refused at once, on the picture: nothing is sent
    assert "changed meanwhile" in dlg.error.text()
    assert console.store.outbox_due() == []
    # ... and the attempt is in the audit, with the reason.
    [entry] = console.store.audit()
    assert (entry.action, entry.call_id, entry.answer_status) == ("assign", "HCR-1", "rejected")
    assert entry.answer.startswith("HCR-1 changed meanwhile: it is now priority 2. Nothing sent")


def test_priority_note_service_checkin_build_their_commands(qtbot: Any, console: Console) -> None:
    pr = open_action_dialog("priority", console.ctx, call_id="HCR-3")
    assert pr is not None
    qtbot.addWidget(pr)
    press_mnemonic(qtbot, pr, Qt.Key.Key_3)
    qtbot.waitUntil(pr.choices[3].isChecked, timeout=2000)  # type: ignore[attr-defined]
    submit_and_wait(qtbot, pr)
    assert isinstance(pr.command, ChangePriority) and pr.command.priority == 3

    note = open_action_dialog("note", console.ctx, call_id="HCR-1")
    assert isinstance(note, NoteDialog)
    qtbot.addWidget(note)
    qtbot.keyClick(note.text, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert "cannot be empty" in note.error.text()
    qtbot.keyClicks(note.text, "Caller's sister on the way")
    with qtbot.waitSignal(note.finished, timeout=5000):
        qtbot.keyClick(note.text, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert isinstance(note.command, AddNote) and note.command.text == "Caller's sister on the way"

    oos = open_action_dialog("team_service", console.ctx, team_id="CRT-2")
    assert oos is not None
    qtbot.addWidget(oos)
    enter(qtbot, oos)
    assert "reason is required" in oos.error.text()
    qtbot.keyClicks(oos.reason, "vehicle breakdown")  # type: ignore[attr-defined]
    submit_and_wait(qtbot, oos)
    cmd = oos.command
    assert isinstance(cmd, SetTeamService) and not cmd.in_service

    back = open_action_dialog("team_service", console.ctx, team_id="CRT-4")
    assert back is not None
    qtbot.addWidget(back)
    submit_and_wait(qtbot, back)
    assert back.command == SetTeamService(team_id="CRT-4", in_service=True)

    busy = open_action_dialog("team_service", console.ctx, team_id="CRT-3")
    assert busy is not None
    qtbot.addWidget(busy)
    assert not busy.ok_button.isEnabled() and "HCR-3" in busy.refusal.text()
    busy.reject()

    ci = open_action_dialog("checkin", console.ctx, team_id="CRT-3")
    assert ci is not None
    qtbot.addWidget(ci)
    submit_and_wait(qtbot, ci)
    assert isinstance(ci.command, RequestCheckin) and ci.command.team_id == "CRT-3"

    kinds = sorted(o.command.kind for o in console.store.outbox_due())
    assert kinds == sorted(
        ["change_priority", "note", "team_service", "team_service", "request_checkin"]
    )


def test_missing_or_unknown_subject_gives_no_dialog(console: Console) -> None:
    assert open_action_dialog("assign", console.ctx) is None
    assert open_action_dialog("assign", console.ctx, call_id="HCR-999") is None
    assert open_action_dialog("checkin", console.ctx, team_id="CRT-999") is None
    with pytest.raises(ValueError, match="unknown action"):
        open_action_dialog("teleport", console.ctx, call_id="HCR-1")


def test_selection_is_the_default_subject(qtbot: Any, console: Console) -> None:
    console.ctx.selection.select_call("HCR-1")
    dlg = open_action_dialog("note", console.ctx)
    assert isinstance(dlg, NoteDialog) and dlg.call.id == "HCR-1"
    qtbot.addWidget(dlg)


def test_arrow_keys_choose_among_eligible_teams_only(qtbot: Any, console: Console) -> None:
    dlg = open_action_dialog("assign", console.ctx, call_id="HCR-1")
    assert isinstance(dlg, AssignDialog)
    qtbot.addWidget(dlg)
    qtbot.keyClick(dlg.teams, Qt.Key.Key_Down)
    assert dlg.selected_team() == "CRT-2"
    qtbot.keyClick(dlg.teams, Qt.Key.Key_Down)  # the rest are ineligible: not reachable
    assert dlg.selected_team() == "CRT-2"
    submit_and_wait(qtbot, dlg)
    assert isinstance(dlg.command, AssignTeam) and dlg.command.team_id == "CRT-2"
