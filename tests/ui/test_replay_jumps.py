"""A replay's "next escalation / overdue / backup" lands on the moment and selects the call
concerned, shown in the queue even when it has closed, marked with when it closed."""

from __future__ import annotations

from typing import Any

import pytest
import test_replay_ui

from console.domain.model import CallStatus

pytestmark = [pytest.mark.webengine, pytest.mark.timeout(180)]

# The replay window on a de-identified synthetic shift, as the other replay tests build it.
shift_files = test_replay_ui.shift_files
replay = test_replay_ui.replay


def _status_text(queue: Any, cid: str) -> str:
    return str(queue.model.data(queue.model.index_of(cid, queue.model.column_of("status"))))


def test_next_escalation_selects_the_call_and_shows_it_closed(qtbot: Any, replay: Any) -> None:
    src, ctx = replay.source, replay.ctx
    queue = replay.window.panels["queue"]
    assert queue.only.isChecked()  # open calls only: an escalated call is not among them
    replay.timeline.jump_btns["escalation"].click()
    m = src.engine.next_mark(src.engine.start, "escalation")
    assert m is not None and src.now() == m.at
    assert src.current().state.calls[m.subject].status is CallStatus.ESCALATED
    assert ctx.selection.call_id == m.subject
    qtbot.waitUntil(lambda: queue.selected_id() == m.subject, timeout=10_000)
    assert " · closed at " in _status_text(queue, m.subject)

    # Another row chosen: the closed call goes again.
    other = next(i for i in queue.model.ids() if i != m.subject)
    queue.table.setCurrentIndex(queue.proxy.proxy_index_of(other))
    assert ctx.selection.call_id == other
    qtbot.waitUntil(lambda: not queue.proxy.proxy_index_of(m.subject).isValid(), timeout=10_000)
    assert queue.selected_id() == other


def test_next_overdue_selects_the_waiting_call(qtbot: Any, replay: Any) -> None:
    src, ctx = replay.source, replay.ctx
    queue = replay.window.panels["queue"]
    m = src.engine.next_mark(src.engine.start, "overdue")
    assert m is not None
    replay.timeline.jump_btns["overdue"].click()
    assert src.now() == m.at and ctx.selection.call_id == m.subject
    qtbot.waitUntil(lambda: queue.selected_id() == m.subject, timeout=10_000)
    assert " · closed at " not in _status_text(queue, m.subject)  # it is open: no mark


def test_previous_and_key_moments_include_the_trainers_bookmarks(qtbot: Any, replay: Any) -> None:
    from datetime import timedelta

    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    src, ctx, tl = replay.source, replay.ctx, replay.timeline
    marks = src.engine.marks()
    assert len(marks) >= 2
    # Shift+click on a jump button goes back to the previous one of its kind.
    second = [m for m in marks if m.kind == marks[0].kind][1:2]
    if second:
        src.seek(second[0].at + timedelta(seconds=1))
        qtbot.mouseClick(
            tl.jump_btns[marks[0].kind],
            Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.ShiftModifier,
        )
        assert src.now() == second[0].at and ctx.selection.call_id is not None
    # A bookmark on a call is a key moment like the others: ] lands on it and selects its call.
    first = marks[0]
    call_id = next(iter(src.current().state.calls))
    at = first.at - timedelta(seconds=30)
    src.seek(at)
    dlg = tl.add_bookmark()
    assert dlg is not None
    dlg.title_edit.setText("Look here")
    if getattr(dlg, "call_box", None) is not None:
        dlg.call_box.setCurrentIndex(max(0, dlg.call_box.findData(call_id)))
    dlg.accept()
    bookmark = next(a for a in tl.strip.annotations if a.title == "Look here")
    src.seek(at - timedelta(minutes=1))
    tl.setFocus()
    moment = tl.jump_moment(back=False)
    assert moment is not None and moment[0] == bookmark.at and src.now() == bookmark.at
    if bookmark.call_id:
        assert ctx.selection.call_id == bookmark.call_id
    assert tl.jump_moment(back=False) is not None and src.now() == first.at
    QTest.keyClick(tl, Qt.Key.Key_BracketLeft)  # "[": back to the bookmark
    assert src.now() == bookmark.at
    # The status bar's clock and the timeline's say the same time after every jump.
    status = replay.window.clock_label.text().removeprefix("Replay ")
    assert status and tl.time_label.text().startswith(status)


def test_a_click_on_a_key_events_mark_lands_on_it(qtbot: Any, replay: Any, artifacts: Any) -> None:
    from PySide6.QtCore import QPoint, Qt

    src, ctx, tl = replay.source, replay.ctx, replay.timeline
    strip = tl.strip
    tl.resize(1600, 110)
    m = src.engine.marks()[len(src.engine.marks()) // 2]
    x = round(strip.x_of(m.at)) + 3  # a few pixels off its centre: still on a mark
    hit = strip.mark_near(x)  # this one, or a neighbour drawn closer to the pointer
    assert hit is not None and abs(strip.x_of(hit.at) - x) <= 3
    src.seek(src.engine.start)
    qtbot.mouseClick(strip, Qt.MouseButton.LeftButton, pos=QPoint(x, 5))
    assert src.now() == hit.at
    assert ctx.selection.call_id is not None
    # Below the marks, the strip seeks where it is pressed, as before.
    qtbot.mouseClick(strip, Qt.MouseButton.LeftButton, pos=QPoint(x + 40, 40))
    assert src.now() != m.at
    assert tl.play_btn.accessibleName() in ("Play", "Pause") and tl.play_btn.text() in ("▶", "▮▮")
    tl.grab().save(str(artifacts / "replay_timeline_marks.png"))
