"""The gateway's command operations: each caller hears about its own command only, whether it is
queued, refused or answered; and the live picture reloads only for writes it has not shown."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fixtures_dialogs import T0, Console, console_session

from console.domain.commands import AddNote, AssignTeam, ChangePriority
from console.store import Changes

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def console(qtbot: Any, tmp_path: Path) -> Iterator[Console]:
    yield from console_session(qtbot, tmp_path)


@pytest.fixture
def viewer(qtbot: Any, tmp_path: Path) -> Iterator[Console]:
    yield from console_session(qtbot, tmp_path, role="viewer")


def test_an_operation_hears_its_own_command_queued_then_answered(qtbot: Any, console: Console):
    gw = console.gateway
    heard: list[tuple[str, object]] = []
    first = gw.submit(
        AssignTeam(call_id="HCR-1", team_id="CRT-1", reason="closest", expected_version=3)
    )
    first.on_queued(lambda cid: heard.append(("first queued", cid)))
    first.on_refused(lambda why: heard.append(("first refused", why)))
    first.on_answered(lambda ok, detail: heard.append(("first answered", (ok, detail))))
    second = gw.submit(AddNote(call_id="HCR-3", text="on the way"))
    second.on_queued(lambda cid: heard.append(("second queued", cid)))
    qtbot.waitUntil(lambda: len(heard) == 2, timeout=5000)
    assert {h[0] for h in heard} == {"first queued", "second queued"}
    assert dict(heard)["first queued"] == first.command_id != second.command_id
    assert first.command_id in gw.pending()

    assert first.command_id is not None
    console.store.record_answer(
        first.command_id, accepted=True, detail="ok", at=T0, source_id="answer:test"
    )
    console.refresh(qtbot)
    qtbot.waitUntil(lambda: ("first answered", (True, "ok")) in heard, timeout=5000)
    assert first.answer == (True, "ok") and second.answer is None
    assert first.command_id not in gw.pending()
    # A callback added after the answer runs at once.
    late: list[bool] = []
    first.on_answered(lambda ok, _d: late.append(ok))
    assert late == [True]


def test_a_refusal_reaches_callbacks_set_after_submit(viewer: Console) -> None:
    op = viewer.gateway.submit(AddNote(call_id="HCR-1", text="hello"))
    reasons: list[str] = []
    queued: list[str] = []
    op.on_queued(queued.append).on_refused(reasons.append)
    assert reasons == ["Viewer role: actions are disabled"] and queued == []
    assert op.refusal == reasons[0] and op.command_id is None


def test_a_rule_refusal_comes_back_on_the_writer_thread(qtbot: Any, console: Console) -> None:
    reasons: list[str] = []
    console.gateway.submit(ChangePriority(call_id="HCR-999", priority=1, reason="x")).on_refused(
        reasons.append
    )
    qtbot.waitUntil(lambda: bool(reasons), timeout=5000)
    assert "HCR-999" in reasons[0]


def test_notify_skips_a_write_the_picture_already_shows(qtbot: Any, console: Console) -> None:
    src = console.source
    console.refresh(qtbot)
    shown = src.current().seq
    # The poke that schedules a reload is emitted (or not) inside notify itself.
    with qtbot.assertNotEmitted(src._poked):
        src.notify(Changes(calls=frozenset({"HCR-1"}), seq=shown))
    with qtbot.waitSignal(src._poked, timeout=1000):
        src.notify(Changes(calls=frozenset({"HCR-1"}), seq=shown + 1))
    with qtbot.waitSignal(src._poked, timeout=1000):
        src.notify()  # unknown: reload


def test_a_queued_command_shows_without_a_poll(qtbot: Any, console: Console) -> None:
    src = console.source
    console.refresh(qtbot)
    shown = src.current().seq
    queued: list[str] = []
    console.gateway.submit(AddNote(call_id="HCR-1", text="n")).on_queued(queued.append)
    qtbot.waitUntil(lambda: bool(queued), timeout=5000)
    # The fixture's poll is an hour: only the gateway's notice can bring the note in.
    qtbot.waitUntil(lambda: src.current().seq > shown, timeout=5000)
