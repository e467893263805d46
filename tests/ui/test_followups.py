"""The follow-ups dock (due and overdue first, owner filter, attempt / close / open by hand) and
the missed check-in ladder acted on by the console."""

from __future__ import annotations

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
    ev_team,
    make_config,
    themed,
)

from console.domain.commands import CloseFollowUp, OpenFollowUp, RecordFollowUpAttempt
from console.domain.model import CallStatus, EscalationTarget, TeamStatus
from console.domain.program import FollowUpEnd
from console.ui.board.ladder import CheckinLadder, open_welfare_check
from console.ui.followups.panel import ALL_OWNERS, FollowUpsPanel

H = timedelta(hours=1)
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture
def console(qtbot: Any, tmp_path: Path) -> Any:
    c = build_console(qtbot, tmp_path)
    yield c
    close_console(c)


def _open(c: Console, call_id: str, owner: str, due_h: float, cause: str = "referred") -> str:
    sub = c.store.submit(
        OpenFollowUp(
            call_id=call_id,
            owner=owner,
            due_at=T0 + due_h * H,
            cause=cause,
            followup_id=f"FU-{call_id}",
        ),
        operator="sup.jones",
    )
    return next(iter(sub.changes.program))[1]


def _queue(qtbot: Any, c: Console) -> FollowUpsPanel:
    # HCR-1 .. HCR-4 are in the fixture's world; a fifth and sixth call, cleared.
    base = c.call("HCR-3")
    for n in (5, 6):
        cleared = replace(
            base,
            id=f"HCR-{n}",
            status=CallStatus.CLEARED,
            cleared_at=T0,
            disposition="referred",
        )
        c.store.append([ev_call(cleared, T0)])
    _open(c, "HCR-1", "CRT", 5)
    _open(c, "HCR-3", "YRT", -2, "unserved")
    _open(c, "HCR-5", "CRT", 30, "transported")
    fid = _open(c, "HCR-6", "YRT", 1)
    c.store.submit(
        RecordFollowUpAttempt(followup_id=fid, channel="phone", result="no_answer"),
        operator="sup.jones",
    )
    c.store.submit(CloseFollowUp(followup_id=fid, end=FollowUpEnd.DECLINED), operator="sup.jones")
    c.refresh(qtbot)
    panel = FollowUpsPanel(c.ctx)
    qtbot.addWidget(panel)
    panel.resize(760, 260)
    c.settle()
    return panel


def _cell(panel: FollowUpsPanel, fid: str, key: str) -> str:
    idx = panel.proxy.proxy_index_of(fid, panel.model.column_of(key))
    return str(idx.data())


def test_due_and_overdue_first_then_owner_filter_and_closed_ones(
    qtbot: Any, console: Console
) -> None:
    panel = _queue(qtbot, console)
    assert panel.visible_ids() == ["FU-HCR-3", "FU-HCR-1", "FU-HCR-5"]
    assert _cell(panel, "FU-HCR-3", "due") == "! 2 h overdue"
    assert _cell(panel, "FU-HCR-1", "due") == "in 5 h"
    assert _cell(panel, "FU-HCR-5", "due") == "in 30 h"
    assert _cell(panel, "FU-HCR-3", "cause") == "Unserved"
    assert _cell(panel, "FU-HCR-1", "call") == "HCR-1"
    assert [panel.owner.itemText(i) for i in range(panel.owner.count())] == [
        ALL_OWNERS,
        "CRT",
        "YRT",
    ]
    panel.set_owner("CRT")
    assert panel.visible_ids() == ["FU-HCR-1", "FU-HCR-5"]
    panel.open_only.setChecked(False)
    panel.set_owner("YRT")
    assert panel.visible_ids() == ["FU-HCR-3", "FU-HCR-6"]  # the closed one last
    assert _cell(panel, "FU-HCR-6", "due") == "closed: Declined"
    assert _cell(panel, "FU-HCR-6", "attempts") == "1"
    assert _cell(panel, "FU-HCR-6", "last") == "No answer"
    panel.set_owner(None)
    assert len(panel.visible_ids()) == 4
    # Time passes: the next one falls overdue on the clock's tick.
    panel.model.tick(T0 + 6 * H)
    assert _cell(panel, "FU-HCR-1", "due") == "! 1 h overdue"


def test_record_an_attempt_then_close_asking_for_its_end(qtbot: Any, console: Console) -> None:
    panel = _queue(qtbot, console)
    assert not panel.attempt_button.isEnabled()  # nothing selected
    assert panel.select_id("FU-HCR-1")
    assert panel.attempt_button.isEnabled() and panel.close_button.isEnabled()
    dlg = panel.record_attempt()
    dlg.channel_box.setCurrentIndex(dlg.channel_box.findData("text"))
    dlg.result_box.setCurrentIndex(dlg.result_box.findData("left_message"))
    dlg.accept()
    qtbot.waitUntil(lambda: dlg.command is not None, timeout=5000)
    fu = console.store.load_state().followups["FU-HCR-1"]
    assert [(a.channel, a.result) for a in fu.attempts] == [("text", "left_message")]
    console.refresh(qtbot)
    assert _cell(panel, "FU-HCR-1", "last") == "Left message"

    close = panel.close_selected()
    close.accept()  # no end chosen: refused, nothing sent
    assert "Choose how the follow-up ended" in close.error.text()
    assert close.command is None
    close.ends[FollowUpEnd.CONNECTED].setChecked(True)
    close.accept()
    qtbot.waitUntil(lambda: close.command is not None, timeout=5000)
    assert console.store.load_state().followups["FU-HCR-1"].end is FollowUpEnd.CONNECTED
    actions = [a.action for a in console.store.audit(5)]
    assert actions[:2] == ["close_followup", "followup_attempt"]
    console.refresh(qtbot)
    assert "FU-HCR-1" not in panel.visible_ids()


def test_open_one_by_hand_for_a_call(qtbot: Any, console: Console) -> None:
    panel = _queue(qtbot, console)
    dlg = panel.open_by_hand("HCR-4")
    assert dlg.owner.text() == "program"  # no team on HCR-4: the site's default owner
    dlg.owner.setText("Care navigators")
    dlg.accept()
    qtbot.waitUntil(lambda: dlg.command is not None, timeout=5000)
    [fu] = [f for f in console.store.load_state().followups.values() if f.call_id == "HCR-4"]
    assert (fu.owner, fu.cause, fu.due_at) == ("Care navigators", "manual", T0 + 48 * H)
    bad = panel.open_by_hand("HCR-404")
    bad.accept()
    assert "No call HCR-404" in bad.error.text()


def test_a_viewer_cannot_act(qtbot: Any, tmp_path: Path) -> None:
    c = build_console(qtbot, tmp_path, role="viewer")
    try:
        panel = FollowUpsPanel(c.ctx)
        qtbot.addWidget(panel)
        assert not panel.open_button.isEnabled()
        assert "Viewer" in panel.open_button.toolTip()
    finally:
        close_console(c)


def test_screenshot(qtbot: Any, console: Console) -> None:
    panel = _queue(qtbot, console)
    with themed("dark"):
        panel.open_only.setChecked(False)
        panel.select_id("FU-HCR-1")
        panel.show()
        qtbot.waitExposed(panel)
        ARTIFACTS.mkdir(exist_ok=True)
        out = ARTIFACTS / "followups.png"
        assert panel.grab().save(str(out))
    assert out.stat().st_size > 2000


LADDER = """
[[checkin.ladder]]
after_s = 0
action = "request_checkin"
[[checkin.ladder]]
after_s = 300
action = "call_team"
[[checkin.ladder]]
after_s = 600
action = "welfare_check"
[teams."CRT-3"]
contact = "860-555-0103"
"""


def test_missed_checkin_ladder_each_step_once_and_audited(qtbot: Any, tmp_path: Path) -> None:
    c = build_console(qtbot, tmp_path, config=make_config(tmp_path, LADDER))
    try:
        call = replace(c.call("HCR-3"), status=CallStatus.ON_SCENE, onscene_at=T0, version=6)
        team = c.source.current().state.teams["CRT-3"]
        t1 = T0 + timedelta(minutes=1)
        on_scene = replace(team, status=TeamStatus.ON_SCENE, status_since=t1, updated_at=t1)
        c.feed(qtbot, [ev_call(call, t1), ev_team(on_scene, t1)])
        ladder = CheckinLadder(c.ctx)
        welfare: list[tuple[str, str]] = []
        ladder.welfare_check.connect(lambda t, k: welfare.append((t, k)))
        due = t1 + timedelta(minutes=30)  # the site default interval
        assert ladder.check(due) == []
        [first] = ladder.check(due + timedelta(seconds=1))
        assert first.step.action == "request_checkin"
        qtbot.waitUntil(lambda: len(c.store.outbox_due()) == 1, timeout=5000)
        assert c.store.outbox_due()[0].command.kind == "request_checkin"
        c.refresh(qtbot)
        assert ladder.check(due + timedelta(seconds=2)) == []  # once only
        [second] = ladder.check(due + timedelta(minutes=6))
        assert second.step.action == "call_team" and second.contact == "860-555-0103"
        [third] = ladder.check(due + timedelta(minutes=11))
        assert third.step.action == "welfare_check"
        assert welfare == [("CRT-3", "HCR-3")]
        qtbot.waitUntil(
            lambda: (
                {"checkin_call_team", "checkin_welfare_check"}
                <= {a.action for a in c.store.audit(10)}
            ),
            timeout=5000,
        )
        [row] = [a for a in c.store.audit(10) if a.action == "checkin_call_team"]
        assert row.team_id == "CRT-3" and "860-555-0103" in row.reason
        dlg = open_welfare_check(c.ctx, *welfare[0])
        assert dlg.selected_target() is EscalationTarget.POLICE
        assert "welfare check" in dlg.reason.text()
        dlg.reject()
        # A check-in received: the ladder ends; nothing more until the new interval runs out.
        back = replace(on_scene, last_checkin=due + timedelta(minutes=12))
        back = replace(back, updated_at=back.last_checkin)
        c.feed(qtbot, [ev_team(back, back.last_checkin)])
        assert ladder.check(due + timedelta(minutes=13)) == []
    finally:
        close_console(c)


def test_a_checkin_already_requested_by_another_console_is_not_sent_again(
    qtbot: Any, tmp_path: Path
) -> None:
    from console.domain.commands import RequestCheckin

    c = build_console(qtbot, tmp_path, config=make_config(tmp_path, LADDER))
    try:
        call = replace(c.call("HCR-3"), status=CallStatus.ON_SCENE, onscene_at=T0, version=6)
        team = c.source.current().state.teams["CRT-3"]
        t1 = T0 + timedelta(minutes=1)
        on_scene = replace(team, status=TeamStatus.ON_SCENE, status_since=t1, updated_at=t1)
        c.feed(qtbot, [ev_call(call, t1), ev_team(on_scene, t1)])
        c.clock.set(t1 + timedelta(minutes=31))
        c.store.submit(RequestCheckin(team_id="CRT-3"), operator="other.sup")
        c.refresh(qtbot)
        ladder = CheckinLadder(c.ctx)
        assert ladder.check(c.clock.now()) == []
        assert len(c.store.outbox_due()) == 1
    finally:
        close_console(c)
