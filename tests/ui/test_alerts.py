"""Alerts against a real store, picture source and gateway: timers at the picture's clock, the
backup-request banner until acknowledged (and the ack in the audit), keyboard acknowledgement
from the panel, the dispatch link, viewers, and the generated alarm sound."""

from __future__ import annotations

import wave
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fixtures_dialogs import (
    T0,
    Console,
    backup_alert,
    console_session,
    ev_alert,
    themed,
)
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QVBoxLayout, QWidget

from console.domain.events import Alert, AlertKind, Severity
from console.sync.client import LinkHealth, LinkState
from console.ui.alerts.panel import (
    ALERT_ID_ROLE,
    SEVERITY_MARK,
    AlertBanner,
    AlertsPanel,
    alarm_wav,
    severity_text,
)

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def console(qtbot: Any, tmp_path: Path) -> Iterator[Console]:
    yield from console_session(qtbot, tmp_path)


@pytest.fixture
def viewer_console(qtbot: Any, tmp_path: Path) -> Iterator[Console]:
    yield from console_session(qtbot, tmp_path, role="viewer")


def ids(panel: AlertsPanel) -> list[str]:
    return [a.id for a in panel.alerts]


def tick(c: Console, seconds: float) -> None:
    """Move the clock and deliver the once-a-second tick the source's timer would send."""
    c.clock.advance(seconds)
    c.source._on_tick()
    c.settle()


def test_timers_follow_the_picture_clock_and_severity_order(qtbot: Any, console: Console) -> None:
    panel = AlertsPanel(console.ctx)
    qtbot.addWidget(panel)
    # Ready for the keyboard on the first row, without taking over the console's selection.
    assert panel.selected_alert() is not None and console.ctx.selection.call_id is None
    # At T0 nothing has waited long: only the calls no civilian team can take (HCR-2 unsafe,
    # HCR-4 an overdose with no Narcan carrier on duty).
    assert sorted(ids(panel)) == ["no_eligible_team:HCR-2", "no_eligible_team:HCR-4"]
    unsafe = next(a for a in panel.alerts if a.subject == "HCR-2")
    assert "weapon" in unsafe.message and "police" in unsafe.message

    # HCR-1 (P1) was received 30 s before T0; its limit is 120 s. 100 s later it is overdue,
    # the P2 calls (limit 600 s) are not.
    tick(console, 100)
    pend = [a for a in panel.alerts if a.kind is AlertKind.PENDING_OVERDUE]
    assert [a.subject for a in pend] == ["HCR-1"]
    assert pend[0].severity is Severity.HIGH
    # Severity first; each row spells the severity out (not colour alone).
    ranks = [a.severity.rank for a in panel.alerts]
    assert ranks == sorted(ranks)
    # Grouped by severity and kind, with a count; each alert's own line spells it out too.
    first = panel.tree.topLevelItem(0)
    assert first is not None
    assert first.text(0).startswith(severity_text(panel.alerts[0].severity) + " · ")
    line = first.child(0)
    assert first.isExpanded() and line.text(0) == SEVERITY_MARK[panel.alerts[0].severity]
    assert line.data(0, Qt.ItemDataRole.AccessibleTextRole) == severity_text(
        panel.alerts[0].severity
    )


def test_backup_request_banner_until_acknowledged_and_audited(
    qtbot: Any, console: Console, artifacts: Path
) -> None:
    host = QWidget()
    qtbot.addWidget(host)
    lay = QVBoxLayout(host)
    banner = AlertBanner(console.ctx, host, sound=False)
    panel = AlertsPanel(console.ctx, host)
    lay.addWidget(banner)
    lay.addWidget(panel)
    host.resize(1000, 360)
    host.show()
    qtbot.waitExposed(host)
    assert banner.isHidden()

    chosen = panel.selected_alert()
    assert chosen is not None
    alert = backup_alert("CRT-3", T0)
    console.feed(qtbot, [ev_alert(alert, T0)])
    assert banner.isVisible()
    # The new alert goes on top; the row the supervisor was on stays current.
    current = panel.selected_alert()
    assert current is not None and current.id == chosen.id
    assert "BACKUP REQUEST" in banner.text.text() and "CRT-3" in banner.text.text()
    assert banner.icon.text() == "⚠"
    assert banner.alarms == 1
    qtbot.waitUntil(lambda: banner.flashes >= 2, timeout=3000)  # it flashes
    assert panel.alerts[0].id == alert.id  # critical first in the panel too
    with themed("dark"):
        QApplication.processEvents()  # let the new style's sizes reach the layout
        host.grab().save(str(artifacts / "alert_banner.png"))

    # Time passing and other updates do not clear it.
    tick(console, 60)
    console.refresh(qtbot)
    assert banner.isVisible() and banner.alarms == 1  # the alarm sounds once per alert

    with qtbot.waitSignal(console.gateway.submitted, timeout=5000):
        banner.acknowledge("CRT-1 sent to back up")
    assert banner.isHidden()
    console.refresh(qtbot)
    state = console.source.current().state
    assert state.acks[alert.id].operator == "sup.jones"
    assert state.acks[alert.id].note == "CRT-1 sent to back up"
    assert banner.isHidden() and alert.id not in ids(panel)
    audit = console.store.audit()
    assert (audit[0].action, audit[0].operator, audit[0].reason, audit[0].team_id) == (
        "acknowledge_alert",
        "sup.jones",
        "CRT-1 sent to back up",
        "CRT-3",
    )

    # A new request from the same team is a new alert: the banner and the alarm come back.
    again = backup_alert("CRT-3", T0 + timedelta(minutes=5))
    console.feed(qtbot, [ev_alert(again, T0 + timedelta(minutes=5))])
    assert banner.isVisible() and banner.alarms == 2


def test_acknowledge_from_the_panel_with_keyboard_and_note(qtbot: Any, console: Console) -> None:
    panel = AlertsPanel(console.ctx)
    qtbot.addWidget(panel)
    assert panel.select_alert("no_eligible_team:HCR-4")
    assert console.ctx.selection.call_id == "HCR-4"  # the alert's call is selected everywhere
    qtbot.keyClicks(panel.note, "waiting for CRT-5 with Narcan")
    with qtbot.waitSignal(console.gateway.submitted, timeout=5000):
        qtbot.keyClick(panel.note, Qt.Key.Key_Return)
    assert "no_eligible_team:HCR-4" not in ids(panel)  # hidden at once
    console.refresh(qtbot)
    tick(console, 30)
    assert "no_eligible_team:HCR-4" not in ids(panel)  # and stays gone
    entry = console.store.audit()[0]
    assert (entry.action, entry.call_id, entry.reason) == (
        "acknowledge_alert",
        "HCR-4",
        "waiting for CRT-5 with Narcan",
    )


def test_link_down_is_an_alert(qtbot: Any, console: Console) -> None:
    panel = AlertsPanel(console.ctx)
    qtbot.addWidget(panel)
    assert not any(a.kind is AlertKind.LINK_DOWN for a in panel.alerts)
    down = LinkHealth(
        state=LinkState.RECONNECTING, since=T0, url="ws://127.0.0.1:1", last_error="refused"
    )
    with qtbot.waitSignal(console.source.picture_changed, timeout=3000):
        console.source.set_link(down)
    console.settle()
    link = [a for a in panel.alerts if a.kind is AlertKind.LINK_DOWN]
    assert len(link) == 1 and "Dispatch link down" in link[0].message


def test_viewer_cannot_acknowledge(qtbot: Any, viewer_console: Console) -> None:
    c = viewer_console
    panel = AlertsPanel(c.ctx)
    banner = AlertBanner(c.ctx, sound=False)
    qtbot.addWidget(panel)
    qtbot.addWidget(banner)
    c.feed(qtbot, [ev_alert(backup_alert("CRT-2", T0), T0)])
    assert not banner.isHidden()  # a viewer sees the emergency too
    assert not banner.ack_button.isEnabled() and "Viewer" in banner.ack_button.toolTip()
    assert not panel.ack_button.isEnabled()
    assert banner.acknowledge("x") is None
    assert panel.acknowledge_selected() is None
    assert "Viewer" in panel.error.text()
    assert c.store.audit() == [] and not banner.isHidden()


def test_alarm_sound_is_generated_not_shipped(tmp_path: Path) -> None:
    path = alarm_wav(tmp_path / "cache" / "alarm.wav")
    with wave.open(str(path), "rb") as w:
        assert (w.getnchannels(), w.getsampwidth()) == (1, 2)
        seconds = w.getnframes() / w.getframerate()
    assert 0.5 < seconds < 1.0
    assert alarm_wav(path) == path  # reused, not rewritten


def test_alarm_sounds_where_available(qtbot: Any, console: Console) -> None:
    banner = AlertBanner(console.ctx, sound=True)
    qtbot.addWidget(banner)
    console.feed(qtbot, [ev_alert(backup_alert("CRT-1", T0), T0)])
    assert banner.alarms == 1
    assert banner._alarm is not None and banner._alarm.kind in ("wav", "beep")


def test_banner_button_asks_for_a_note_and_enter_acknowledges(qtbot: Any, console: Console) -> None:
    banner = AlertBanner(console.ctx, sound=False)
    qtbot.addWidget(banner)
    alert = backup_alert("CRT-2", T0)
    console.feed(qtbot, [ev_alert(alert, T0)])
    dlg = banner.acknowledge_with_dialog()
    assert dlg is not None and dlg.alert.id == alert.id
    qtbot.addWidget(dlg)
    qtbot.keyClicks(dlg.note, "called CRT-2, all fine")
    with qtbot.waitSignal(console.gateway.submitted, timeout=5000):
        qtbot.keyClick(dlg.note, Qt.Key.Key_Return)
    assert banner.isHidden()
    console.refresh(qtbot)
    assert console.source.current().state.acks[alert.id].note == "called CRT-2, all fine"


def _waiting(n: int) -> list[Alert]:
    return [
        Alert(
            f"pending_overdue:HCR-{i}",
            AlertKind.PENDING_OVERDUE,
            Severity.MEDIUM,
            f"HCR-{i}",
            f"HCR-{i} pending {i} min",
            T0 - timedelta(minutes=i),
        )
        for i in range(n)
    ]


def test_rows_follow_moves_in_place_a_screenful_per_turn(qtbot: Any, console: Console) -> None:
    """An alert that moves rewrites the rows it passes, not the list; a wholesale reorder
    is written a screenful per turn of the event loop; the current alert stays current."""
    panel = AlertsPanel(console.ctx)
    qtbot.addWidget(panel)
    panel.resize(500, 400)
    panel.show()
    qtbot.waitExposed(panel)
    console.settle()
    tree = panel.tree

    def rows() -> list[str]:
        group = tree.topLevelItem(0)
        assert group is not None and tree.topLevelItemCount() == 1  # one kind, one severity
        return [group.child(k).data(0, ALERT_ID_ROLE) for k in range(group.childCount())]

    alerts = _waiting(60)
    panel._show(alerts, T0)
    console.settle()
    group = tree.topLevelItem(0)
    assert group is not None and group.text(0) == "■ MEDIUM · 60 pending past limit"
    assert not group.isExpanded()  # a long group of medium alerts starts closed
    group.setExpanded(True)  # the supervisor opens it
    assert rows() == [a.id for a in alerts]
    assert panel.select_alert("pending_overdue:HCR-30")

    touched: set[int] = set()
    tree.model().dataChanged.connect(
        lambda tl, br, *_: touched.update(range(tl.row(), br.row() + 1))
    )
    moved = [*alerts[:10], alerts[50], *alerts[10:50], *alerts[51:]]
    panel._show(moved, T0)
    console.settle()
    assert rows() == [a.id for a in moved]
    assert touched == set(range(10, 51))
    selected = panel.selected_alert()
    assert selected is not None and selected.id == "pending_overdue:HCR-30"

    everything = moved[::-1]
    panel._show(everything, T0)
    assert rows() == [a.id for a in moved]  # the list is not rewritten in the same turn
    console.ctx.pacer.run_next()  # the next turn: one screenful
    written = [r == a.id for r, a in zip(rows(), everything, strict=True)]
    assert 0 < sum(written) < len(everything)  # part now, the rest on later turns
    console.settle()
    assert rows() == [a.id for a in everything]
    selected = panel.selected_alert()
    assert selected is not None and selected.id == "pending_overdue:HCR-30"
    # Fewer alerts: the surplus rows go.
    panel._show(everything[:5], T0)
    console.settle()
    assert rows() == [a.id for a in everything[:5]]


def test_alerts_are_grouped_by_kind_with_counts_and_groups_open_and_close(
    qtbot: Any, console: Console
) -> None:
    panel = AlertsPanel(console.ctx)
    qtbot.addWidget(panel)
    panel.resize(600, 400)
    panel.show()
    qtbot.waitExposed(panel)
    high = [
        Alert(
            f"pending_overdue:HCR-H{i}",
            AlertKind.PENDING_OVERDUE,
            Severity.HIGH,
            f"HCR-H{i}",
            f"HCR-H{i} pending {20 + i} min",
            T0 - timedelta(minutes=20 + i),
        )
        for i in range(13)
    ]
    panel._show([*high, *_waiting(30)], T0)
    console.settle()
    tree = panel.tree
    heads = [tree.topLevelItem(g).text(0) for g in range(tree.topLevelItemCount())]
    assert heads == ["▲ HIGH · 13 pending past limit", "■ MEDIUM · 30 pending past limit"]
    high_group, medium_group = tree.topLevelItem(0), tree.topLevelItem(1)
    assert high_group.isExpanded() and not medium_group.isExpanded()
    # One readable line per alert: severity, age, subject, what.
    line = high_group.child(0)
    assert [line.text(c) for c in range(3)] == ["▲", "20 min", "HCR-H0"]
    assert line.toolTip(0) == "▲ HIGH"  # the mark, its word in the tooltip and in speech
    assert line.text(3) == "HCR-H0 pending 20 min"  # the group row says the kind

    # Enter on a group opens or closes it, and the choice is kept when the list changes.
    tree.setCurrentItem(medium_group)
    qtbot.keyClick(tree, Qt.Key.Key_Return)
    assert medium_group.isExpanded()
    assert panel.selected_alert() is None  # a group is not an alert
    qtbot.keyClick(tree, Qt.Key.Key_Return)
    assert not medium_group.isExpanded()
    panel._show([*high[1:], *_waiting(31)], T0)
    console.settle()
    assert tree.topLevelItem(0).text(0) == "▲ HIGH · 12 pending past limit"
    assert not tree.topLevelItem(1).isExpanded()
    # Choosing an alert in a closed group opens it.
    assert panel.select_alert("pending_overdue:HCR-7")
    assert tree.topLevelItem(1).isExpanded()
    chosen = panel.selected_alert()
    assert chosen is not None and chosen.id == "pending_overdue:HCR-7"


def test_a_new_picture_refreshes_the_alerts_in_two_short_turns(
    qtbot: Any, console: Console
) -> None:
    """The rules of the picture alone (calls no team can take), then the clock's and the
    list: each its own turn of the event loop, and the end result is the whole refresh."""
    panel = AlertsPanel(console.ctx)
    qtbot.addWidget(panel)
    console.settle()
    before = ids(panel)
    jobs: list[object] = []
    console.ctx.pacer.on_job = lambda key, _ms: jobs.append(key)
    console.feed(qtbot, [ev_alert(backup_alert("CRT-2", T0), T0)])
    console.settle()
    mine = [k for k in jobs if isinstance(k, tuple) and k[:2] == (panel, "refresh")]
    assert len(mine) == 2, jobs
    assert set(ids(panel)) > set(before)
    assert any(a.kind is AlertKind.BACKUP_REQUEST for a in panel.alerts)


def test_ctrl_return_on_a_group_line_says_why_nothing_was_acknowledged(
    qtbot: Any, console: Console
) -> None:
    """Arrowing through the list lands on a group's line as well as on alerts: Ctrl+Return
    there acknowledges nothing, and says so, until an alert is chosen."""
    from PySide6.QtTest import QTest

    panel = AlertsPanel(console.ctx)
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitExposed(panel)
    panel.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is panel, timeout=5000)
    group = panel.tree.topLevelItem(0)
    assert group is not None and group.childCount() >= 1
    panel.tree.setFocus()
    panel.tree.setCurrentItem(group)
    before = len(console.source.current().state.commands)
    QTest.keyClick(panel.tree, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert panel.error.isVisible()
    assert "Nothing acknowledged" in panel.error.text() and "Down" in panel.error.text()
    assert len(console.source.current().state.commands) == before
    # Down to the group's first alert: the hint goes, and Ctrl+Return acknowledges it.
    QTest.keyClick(panel.tree, Qt.Key.Key_Down)
    chosen = panel.selected_alert()
    assert chosen is not None and not panel.error.isVisible()
    with qtbot.waitSignal(console.gateway.submitted, timeout=5000):
        QTest.keyClick(panel.tree, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    console.refresh(qtbot)
    assert chosen.id in console.source.current().state.acks


def test_in_a_narrow_dock_the_alert_text_keeps_the_room_and_is_never_cut_unmarked(
    qtbot: Any, console: Console
) -> None:
    """At 1280x800 the alerts dock is under 300 px wide. Every column must fit (a column
    running past the edge is cut with no "…" to say so) and the alert's own words get the
    room: its subject column goes, since each message starts with its call or team."""
    console.feed(qtbot, [ev_alert(backup_alert("YRT-1", T0), T0)])
    panel = AlertsPanel(console.ctx)
    qtbot.addWidget(panel)
    panel.resize(280, 500)
    panel.show()
    qtbot.waitExposed(panel)
    hdr = panel.tree.header()
    qtbot.waitUntil(lambda: hdr.length() <= panel.tree.viewport().width(), timeout=3000)
    assert panel.tree.isColumnHidden(2)
    line = panel.tree.topLevelItem(0).child(0)
    assert line.text(3).startswith("YRT-1 requests backup")
    fm = panel.tree.fontMetrics()
    assert hdr.sectionSize(3) >= fm.horizontalAdvance("YRT-1 requests backup")
    # Widened (floated, or a larger monitor): the subject column comes back.
    panel.resize(700, 500)
    qtbot.waitUntil(lambda: not panel.tree.isColumnHidden(2), timeout=3000)
    assert hdr.length() <= panel.tree.viewport().width()
