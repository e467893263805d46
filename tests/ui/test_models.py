"""Call queue and team board models: model contract, live updates without resets, selection that
survives a feed, numeric sorting, ticking clocks, threshold markers that are not colour alone."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from PySide6.QtCore import QItemSelectionModel, QModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtWidgets import QTableView

from console.domain.commands import AssignTeam, CommandRecord, CommandStatus, SetTeamService
from console.domain.model import (
    Call,
    CallStatus,
    CallType,
    Capabilities,
    Position,
    SafetyFlag,
    Team,
    TeamStatus,
)
from console.domain.rules import Thresholds
from console.ui.board.model import TeamBoardModel, TeamBoardProxy
from console.ui.queue.model import CallQueueModel, CallQueueProxy
from console.ui.tables.model import (
    DARK_PALETTE,
    ID_ROLE,
    LIGHT_PALETTE,
    SORT_ROLE,
    format_age,
    palette_for,
)

T0 = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
DISPLAY = Qt.ItemDataRole.DisplayRole
TOOLTIP = Qt.ItemDataRole.ToolTipRole
BACKGROUND = Qt.ItemDataRole.BackgroundRole
FOREGROUND = Qt.ItemDataRole.ForegroundRole
RESET_SIGNALS = ("modelAboutToBeReset", "modelReset")


def call(
    n: int,
    *,
    age_s: float = 60,
    status: CallStatus = CallStatus.PENDING,
    priority: int = 2,
    type: CallType = CallType.WELFARE_CHECK,
    team: str | None = None,
    flags: tuple[SafetyFlag, ...] = (),
    neighborhood: str = "Frog Hollow",
    now: datetime = T0,
) -> Call:
    received = now - timedelta(seconds=age_s)
    return Call(
        id=f"HCR-{n:06d}",
        status=status,
        priority=priority,
        type=type,
        received_at=received,
        updated_at=received,
        team=team,
        teams=(team,) if team else (),
        safety_flags=flags,
        address=f"{n} Main St",
        neighborhood=neighborhood,
    )


def team(
    n: int,
    *,
    status: TeamStatus = TeamStatus.AVAILABLE,
    since_s: float = 120,
    checkin_s: float | None = None,
    call_id: str | None = None,
    caps: Capabilities | None = None,
    provider: str = "CRT",
    now: datetime = T0,
) -> Team:
    return Team(
        id=f"CRT-{n}",
        status=status,
        updated_at=now - timedelta(seconds=since_s),
        provider=provider,
        status_since=now - timedelta(seconds=since_s),
        call=call_id,
        capabilities=caps or Capabilities(),
        last_checkin=None if checkin_s is None else now - timedelta(seconds=checkin_s),
    )


def text(model: Any, record_id: str, column: str, role: Any = DISPLAY) -> Any:
    return model.data(model.index_of(record_id, model.column_of(column)), role)


def spy(signal: Any) -> list[tuple[Any, ...]]:
    seen: list[tuple[Any, ...]] = []
    signal.connect(lambda *a: seen.append(a))
    return seen


def no_tester_failures(qtlog: Any) -> None:
    bad = [r.message for r in qtlog.records if "FAIL" in r.message or "Tester" in r.message]
    assert not bad, bad


def by_age_seconds(shown: str) -> int:
    """Seconds from an age as shown (``! 04:07``, ``1:05 h``), parsed independently."""
    shown = shown.removeprefix("! ").split(" ◌")[0]
    if shown.endswith(" h"):
        h, m = shown[:-2].split(":")
        return int(h) * 3600 + int(m) * 60
    m, sec = shown.split(":")
    return int(m) * 60 + int(sec)


def feed_pictures(seed: int, steps: int) -> list[list[Call]]:
    """A seeded live feed: calls arrive, change status/priority/team, and leave."""
    rng = random.Random(seed)
    live: dict[str, Call] = {}
    pictures: list[list[Call]] = []
    next_id = 1
    for step in range(steps):
        now = T0 + timedelta(seconds=10 * step)
        for _ in range(rng.randint(0, 3)):
            c = call(next_id, age_s=0, priority=rng.randint(1, 3), now=now)
            live[c.id] = c
            next_id += 1
        for cid in list(live):
            r = rng.random()
            c = live[cid]
            if r < 0.15:
                del live[cid]
            elif r < 0.35:
                nxt = {
                    CallStatus.PENDING: CallStatus.ASSIGNED,
                    CallStatus.ASSIGNED: CallStatus.EN_ROUTE,
                    CallStatus.EN_ROUTE: CallStatus.ON_SCENE,
                    CallStatus.ON_SCENE: CallStatus.CLEARED,
                    CallStatus.CLEARED: CallStatus.CLEARED,
                }[c.status]
                live[cid] = replace(
                    c,
                    status=nxt,
                    team=f"CRT-{rng.randint(1, 9)}",
                    updated_at=now,
                    version=c.version + 1,
                )
            elif r < 0.45:
                live[cid] = replace(c, priority=rng.randint(1, 3), version=c.version + 1)
        pictures.append(list(live.values()))
    return pictures


# -- the Qt model contract ---------------------------------------------------------------------------


def filled_queue() -> CallQueueModel:
    m = CallQueueModel()
    m.set_picture(
        [
            call(1, age_s=30, priority=1),
            call(2, age_s=900, flags=(SafetyFlag.WEAPON,)),
            call(3, age_s=4000, status=CallStatus.ON_SCENE, team="CRT-3"),
            call(4, age_s=50, status=CallStatus.CLEARED),
        ],
        T0,
        pending=[AssignTeam(call_id="HCR-000001", team_id="CRT-3")],
    )
    return m


def filled_board() -> TeamBoardModel:
    m = TeamBoardModel()
    m.set_picture(
        [
            team(1),
            team(2, status=TeamStatus.ON_SCENE, since_s=3000, call_id="HCR-000003"),
            team(3, status=TeamStatus.OFF_DUTY, caps=Capabilities(narcan=True, vehicle_seats=3)),
        ],
        T0,
        positions={"CRT-1": Position(41.76, -72.68, T0 - timedelta(seconds=30))},
        pending=[SetTeamService(team_id="CRT-1", in_service=False)],
    )
    return m


@pytest.mark.parametrize("force_py", [False, True])
def test_queue_passes_the_model_tester(qtmodeltester: Any, qtlog: Any, force_py: bool) -> None:
    queue = filled_queue()
    qtmodeltester.check(queue, force_py=force_py)
    # The tester stays attached: live changes are checked too.
    for i, picture in enumerate(feed_pictures(seed=3, steps=15)):
        queue.set_picture(picture, T0 + timedelta(seconds=10 * i))
        queue.tick(T0 + timedelta(seconds=10 * i + 5))
    queue.set_palette(LIGHT_PALETTE)
    queue.set_thresholds(Thresholds(pending_s={1: 1, 2: 1, 3: 1}))
    no_tester_failures(qtlog)


@pytest.mark.parametrize("force_py", [False, True])
def test_board_passes_the_model_tester(qtmodeltester: Any, qtlog: Any, force_py: bool) -> None:
    board = filled_board()
    qtmodeltester.check(board, force_py=force_py)
    board.set_picture([team(2), team(5), team(6), team(7)], T0)
    board.set_picture([team(5, status=TeamStatus.EN_ROUTE), team(8)], T0)
    board.tick(T0 + timedelta(minutes=1))
    board.set_palette(LIGHT_PALETTE)
    board.set_picture([], T0)
    no_tester_failures(qtlog)


@pytest.mark.parametrize("force_py", [False, True])
def test_queue_proxy_passes_the_model_tester(
    qtmodeltester: Any, qtlog: Any, force_py: bool
) -> None:
    queue = filled_queue()
    qp = CallQueueProxy()
    qp.setSourceModel(queue)
    qp.sort(queue.column_of("age"), Qt.SortOrder.DescendingOrder)
    qtmodeltester.check(qp, force_py=force_py)
    qp.set_open_only(True)
    qp.set_text_filter("hcr")
    for i, picture in enumerate(feed_pictures(seed=4, steps=15)):
        queue.set_picture(picture, T0 + timedelta(seconds=10 * i))
    qp.set_text_filter("")
    qp.set_open_only(False)
    no_tester_failures(qtlog)


@pytest.mark.parametrize("force_py", [False, True])
def test_board_proxy_passes_the_model_tester(
    qtmodeltester: Any, qtlog: Any, force_py: bool
) -> None:
    board = filled_board()
    bp = TeamBoardProxy()
    bp.setSourceModel(board)
    bp.sort(board.column_of("in_status"))
    qtmodeltester.check(bp, force_py=force_py)
    bp.set_on_duty_only(True)
    board.set_picture([team(1), team(4, status=TeamStatus.OUT_OF_SERVICE), team(9)], T0)
    board.tick(T0 + timedelta(minutes=3))
    bp.set_on_duty_only(False)
    no_tester_failures(qtlog)


# -- live feed ------------------------------------------------------------------------------------


@pytest.mark.parametrize("sort_key", ["priority", "age", "status", "team"])
def test_live_feed_never_resets_and_matches_the_picture(sort_key: str) -> None:
    model = CallQueueModel()
    proxy = CallQueueProxy()
    proxy.setSourceModel(model)
    col = model.column_of(sort_key)
    proxy.sort(col)
    resets = [spy(getattr(obj, name)) for name in RESET_SIGNALS for obj in (model, proxy)]
    inserted, removed = spy(model.rowsInserted), spy(model.rowsRemoved)
    for i, picture in enumerate(feed_pictures(seed=11, steps=40)):
        now = T0 + timedelta(seconds=10 * i)
        model.set_picture(picture, now)
        assert sorted(model.ids()) == sorted(c.id for c in picture)
        for c in picture:
            assert text(model, c.id, "status") == c.status.value.replace("_", " ")
            assert text(model, c.id, "priority") == f"P{c.priority}"
            assert text(model, c.id, "team") == (c.team or "")
            age = text(model, c.id, "age").removeprefix("! ")
            assert age == format_age((now - c.received_at).total_seconds())
        assert proxy.rowCount() == len(picture)
        keys = [proxy.data(proxy.index(r, col), SORT_ROLE) for r in range(proxy.rowCount())]
        assert keys == sorted(keys), f"step {i}"
        if sort_key == "age":  # and the ages shown are in order too: ascending, oldest first
            ages = [by_age_seconds(proxy.data(proxy.index(r, col))) for r in range(len(keys))]
            assert ages == sorted(ages, reverse=True), f"step {i}"
        if i % 3 == 0:
            model.tick(now + timedelta(seconds=5))
    assert all(not s for s in resets)
    assert inserted and removed  # the feed exercised both


def test_unchanged_picture_emits_only_the_time_columns() -> None:
    model = filled_queue()
    calls = [model.call(i) for i in model.ids()]
    changed = spy(model.dataChanged)
    inserted, removed = spy(model.rowsInserted), spy(model.rowsRemoved)
    model.set_picture(
        [c for c in calls if c is not None],
        T0,
        pending=[AssignTeam(call_id="HCR-000001", team_id="CRT-3")],
    )
    age = model.column_of("age")
    assert all(tl.column() == br.column() == age for tl, br, _ in changed)
    assert not inserted and not removed
    # A second later the ages move: only the time column is announced, for every row whose
    # age reads differently (an age past the hour shows minutes only).
    before = [model.data(model.index(r, age)) for r in range(model.rowCount())]
    changed.clear()
    model.set_picture(
        [c for c in calls if c is not None],
        T0 + timedelta(seconds=1),
        pending=[AssignTeam(call_id="HCR-000001", team_id="CRT-3")],
    )
    after = [model.data(model.index(r, age)) for r in range(model.rowCount())]
    moved = {r for r in range(model.rowCount()) if before[r] != after[r]}
    assert moved and all(tl.column() == br.column() == age for tl, br, _ in changed)
    rows = {r for tl, br, _ in changed for r in range(tl.row(), br.row() + 1)}
    assert rows == moved


def test_a_changed_call_is_announced_for_its_row_only() -> None:
    model = filled_queue()
    before = {i: model.call(i) for i in model.ids()}
    changed = spy(model.dataChanged)
    new = [c for c in before.values() if c is not None]
    new[1] = replace(new[1], status=CallStatus.ESCALATED, version=2)
    model.set_picture(new, T0, pending=[AssignTeam(call_id="HCR-000001", team_id="CRT-3")])
    row = model.row_of(new[1].id)
    age = model.column_of("age")
    row_changes = [(tl, br) for tl, br, _ in changed if not (tl.column() == br.column() == age)]
    assert row_changes and {(tl.row(), br.row()) for tl, br in row_changes} == {(row, row)}
    assert text(model, new[1].id, "status") == "escalated"


def test_duplicate_ids_in_a_picture_make_one_row() -> None:
    model = CallQueueModel()
    a = call(1)
    model.set_picture([a, replace(a, priority=1)], T0)
    assert model.ids() == [a.id]
    assert text(model, a.id, "priority") == "P1"


def test_selection_survives_a_live_feed(qtbot: Any) -> None:
    model = CallQueueModel()
    proxy = CallQueueProxy()
    proxy.setSourceModel(model)
    view = QTableView()
    qtbot.addWidget(view)
    view.setModel(proxy)
    view.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
    view.setSortingEnabled(True)
    view.sortByColumn(model.column_of("priority"), Qt.SortOrder.AscendingOrder)
    view.resize(800, 300)
    view.show()

    base = [call(n, age_s=30 * n, priority=1 + n % 3) for n in range(1, 31)]
    model.set_picture(base, T0)
    target = "HCR-000017"
    idx = proxy.proxy_index_of(target)
    view.selectionModel().setCurrentIndex(
        idx,
        QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows,
    )
    view.scrollTo(idx)

    def selected() -> list[str]:
        return [proxy.data(i, ID_ROLE) for i in view.selectionModel().selectedRows()]

    assert selected() == [target]
    rng = random.Random(5)
    picture = list(base)
    for step in range(1, 25):
        now = T0 + timedelta(seconds=15 * step)
        # New calls arrive (some sort above the selected one), others change or leave.
        picture += [call(100 + step * 2 + k, age_s=0, priority=1, now=now) for k in range(2)]
        picture = [
            c
            if c.id == target or rng.random() > 0.2
            else replace(c, priority=rng.randint(1, 3), version=c.version + 1)
            for c in picture
            if c.id == target or rng.random() > 0.05
        ]
        if step % 5 == 0:  # the selected call itself changes
            picture = [
                replace(c, status=CallStatus.ASSIGNED, team="CRT-2", version=c.version + 1)
                if c.id == target and c.status is CallStatus.PENDING
                else c
                for c in picture
            ]
        model.set_picture(picture, now)
        model.tick(now + timedelta(seconds=1))
        assert selected() == [target], f"step {step}"
        assert proxy.data(view.currentIndex(), ID_ROLE) == target
    assert text(model, target, "team") == "CRT-2"


# -- sorting -------------------------------------------------------------------------------------------


def test_sorting_by_age_is_numeric() -> None:
    ages = [3900, 9, 3540, 36000, 100, 600]
    model = CallQueueModel()
    model.set_picture(
        [call(i, age_s=a, status=CallStatus.EN_ROUTE, team="CRT-1") for i, a in enumerate(ages)],
        T0,
    )
    proxy = CallQueueProxy()
    proxy.setSourceModel(model)
    col = model.column_of("age")
    proxy.sort(col, Qt.SortOrder.AscendingOrder)
    shown = [proxy.data(proxy.index(r, col)) for r in range(proxy.rowCount())]
    expected = [format_age(a) for a in sorted(ages, reverse=True)]  # ascending: oldest first
    assert shown == expected
    # The same strings sorted as text would be in another order: the test can tell.
    assert sorted(expected) != expected
    assert all(isinstance(proxy.data(proxy.index(r, col), SORT_ROLE), float) for r in range(6))
    # Ticking keeps the order without the proxy re-sorting anything.
    layout = spy(proxy.layoutChanged)
    model.tick(T0 + timedelta(minutes=30))
    shown = [proxy.data(proxy.index(r, col)) for r in range(proxy.rowCount())]
    assert shown == [format_age(a + 1800) for a in sorted(ages, reverse=True)]
    assert not layout


def test_sorting_by_priority_and_check_in_is_numeric() -> None:
    model = CallQueueModel()
    model.set_picture([call(i, priority=p) for i, p in enumerate([3, 1, 2, 1, 3])], T0)
    proxy = CallQueueProxy()
    proxy.setSourceModel(model)
    proxy.sort(model.column_of("priority"), Qt.SortOrder.DescendingOrder)
    col = model.column_of("priority")
    assert [proxy.data(proxy.index(r, col), SORT_ROLE) for r in range(5)] == [3, 3, 2, 1, 1]

    board = TeamBoardModel()
    gaps = [7200, 30, 600]
    board.set_picture([team(i, checkin_s=g) for i, g in enumerate(gaps)], T0)
    bp = TeamBoardProxy()
    bp.setSourceModel(board)
    bp.sort(board.column_of("checkin"))
    assert [bp.id_at(r) for r in range(3)] == ["CRT-1", "CRT-2", "CRT-0"]


def test_team_ids_sort_naturally() -> None:
    board = TeamBoardModel()
    board.set_picture([team(10), team(2), team(1)], T0)
    bp = TeamBoardProxy()
    bp.setSourceModel(board)
    bp.sort(board.column_of("team"))
    assert [bp.id_at(r) for r in range(3)] == ["CRT-1", "CRT-2", "CRT-10"]


# -- ticking -------------------------------------------------------------------------------------------


def test_tick_updates_only_the_age_column() -> None:
    model = filled_queue()
    changed = spy(model.dataChanged)
    inserted, removed = spy(model.rowsInserted), spy(model.rowsRemoved)
    later = T0 + timedelta(seconds=75)
    model.tick(later)
    age = model.column_of("age")
    assert changed
    for tl, br, _roles in changed:
        assert tl.column() == br.column() == age
    rows = {r for tl, br, _ in changed for r in range(tl.row(), br.row() + 1)}
    assert rows == set(range(model.rowCount()))
    assert not inserted and not removed
    c1 = model.call("HCR-000001")
    assert c1 is not None
    assert text(model, c1.id, "age") == format_age((later - c1.received_at).total_seconds())
    # A tick changes no sort key: a proxy sorted by age has nothing to re-sort.
    assert all(SORT_ROLE not in roles for _tl, _br, roles in changed)
    # A closed call's age is still its age; its tooltip says when it closed.
    assert text(model, "HCR-000004", "age") == format_age(50 + 75)
    assert "cleared after" in text(model, "HCR-000004", "age", TOOLTIP)


def test_tick_updates_only_the_board_time_columns() -> None:
    board = filled_board()
    changed = spy(board.dataChanged)
    board.tick(T0 + timedelta(minutes=2))
    cols = {board.column_of("in_status"), board.column_of("checkin")}
    assert changed
    for tl, br, _roles in changed:
        assert {tl.column(), br.column()} <= cols
    assert text(board, "CRT-2", "in_status").startswith(format_age(3000 + 120))


def test_a_call_becomes_overdue_as_the_clock_ticks() -> None:
    model = CallQueueModel(Thresholds(pending_s={1: 120, 2: 600, 3: 1800}))
    model.set_picture([call(1, age_s=590, priority=2)], T0)
    cid = "HCR-000001"
    assert not text(model, cid, "age").startswith("!")
    assert text(model, cid, "age", BACKGROUND) is None
    model.tick(T0 + timedelta(seconds=20))
    assert text(model, cid, "age") == "! " + format_age(610)
    assert text(model, cid, "age", BACKGROUND) is not None


# -- thresholds, markers, tooltips ------------------------------------------------------------------


def test_overdue_pending_call_has_colour_marker_and_reason() -> None:
    th = Thresholds(pending_s={1: 120, 2: 600, 3: 1800})
    model = CallQueueModel(th)
    model.set_picture([call(1, age_s=14 * 60, priority=2), call(2, age_s=5 * 60, priority=2)], T0)
    late, fine = "HCR-000001", "HCR-000002"
    assert text(model, late, "age").startswith("! ")
    bg = text(model, late, "age", BACKGROUND)
    assert bg is not None and bg.color().name() == DARK_PALETTE.overdue_bg
    assert text(model, late, "age", TOOLTIP).startswith("pending 14 min, limit 10 min for P2")
    assert text(model, late, "age", Qt.ItemDataRole.FontRole).bold()
    assert not text(model, fine, "age").startswith("!")
    assert text(model, fine, "age", BACKGROUND) is None
    assert text(model, fine, "age", TOOLTIP) == "pending 5 min, limit 10 min for P2"


def test_call_type_limit_takes_precedence() -> None:
    th = Thresholds(pending_s={1: 120, 2: 600, 3: 1800}, pending_by_type_s={"overdose": 60})
    model = CallQueueModel(th)
    model.set_picture([call(1, age_s=90, priority=3, type=CallType.OVERDOSE)], T0)
    assert text(model, "HCR-000001", "age").startswith("!")
    assert "limit 1 min for suspected overdose calls" in text(model, "HCR-000001", "age", TOOLTIP)
    # Loosening the thresholds (settings dialog) clears the marker without a new picture.
    model.set_thresholds(Thresholds())
    assert not text(model, "HCR-000001", "age").startswith("!")


def test_assigned_call_is_never_pending_overdue() -> None:
    model = CallQueueModel()
    model.set_picture([call(1, age_s=7200, status=CallStatus.EN_ROUTE, team="CRT-1")], T0)
    assert not text(model, "HCR-000001", "age").startswith("!")
    assert text(model, "HCR-000001", "age") == "2:00 h"


def test_overdue_checkin_has_colour_marker_and_reason() -> None:
    board = TeamBoardModel(Thresholds(checkin_interval_s=1800))
    board.set_picture(
        [
            team(1, status=TeamStatus.ON_SCENE, since_s=40 * 60, call_id="HCR-000001"),
            team(2, status=TeamStatus.ON_SCENE, since_s=40 * 60, checkin_s=5 * 60),
            team(3, status=TeamStatus.AVAILABLE, since_s=3 * 3600, checkin_s=3 * 3600),
        ],
        T0,
    )
    assert text(board, "CRT-1", "checkin") == "! " + format_age(40 * 60)
    assert text(board, "CRT-1", "checkin", BACKGROUND).color().name() == DARK_PALETTE.overdue_bg
    assert (
        text(board, "CRT-1", "checkin", TOOLTIP)
        == "on scene, no check-in for 40 min, limit 30 min (site default): overdue"
    )
    assert text(board, "CRT-2", "checkin") == format_age(5 * 60)
    assert text(board, "CRT-2", "checkin", BACKGROUND) is None
    assert text(board, "CRT-3", "checkin", BACKGROUND) is None  # not on scene: no check-in due
    assert text(board, "CRT-1", "call") == "HCR-000001"


def test_checkin_limit_follows_the_policy_and_names_its_rule() -> None:
    from console.domain.checkin import CheckinPolicy, CheckinRule

    policy = CheckinPolicy(
        rules=(CheckinRule(900, "overdose", call_types=frozenset({"overdose"})),)
    )
    board = TeamBoardModel(Thresholds(checkin_interval_s=1800, checkin=policy))
    od = call(1, status=CallStatus.ON_SCENE, team="CRT-1", type=CallType.OVERDOSE)
    board.set_picture(
        [
            team(1, status=TeamStatus.ON_SCENE, since_s=20 * 60, call_id=od.id),
            team(2, status=TeamStatus.ON_SCENE, since_s=20 * 60, call_id="HCR-000002"),
        ],
        T0,
        calls={od.id: od, "HCR-000002": call(2, status=CallStatus.ON_SCENE, team="CRT-2")},
    )
    assert text(board, "CRT-1", "checkin").startswith("!")
    assert text(board, "CRT-1", "checkin", TOOLTIP) == (
        "on scene, no check-in for 20 min, limit 15 min (overdose): overdue"
    )
    assert not text(board, "CRT-2", "checkin").startswith("!")
    assert text(board, "CRT-2", "checkin", TOOLTIP).endswith("limit 30 min (site default)")


def test_safety_flags_and_pending_commands_are_text() -> None:
    model = CallQueueModel()
    model.set_picture(
        [call(1, flags=(SafetyFlag.WEAPON,)), call(2), call(3)],
        T0,
        pending=[
            AssignTeam(call_id="HCR-000002", team_id="CRT-3"),
            CommandRecord(
                "c-1", AssignTeam(call_id="HCR-000003", team_id="CRT-4"), CommandStatus.CONFIRMED
            ),
        ],
    )
    assert text(model, "HCR-000001", "safety") == "⚠"  # the mark; the flags in tip and speech
    tip = text(model, "HCR-000001", "safety", TOOLTIP)
    assert "weapon" in tip and "police" in tip
    assert text(model, "HCR-000001", "safety", Qt.ItemDataRole.AccessibleTextRole) == (
        "Unsafe: weapon"
    )
    assert text(model, "HCR-000002", "safety") == ""
    assert text(model, "HCR-000002", "command") == "⟳"  # the mark; what, in tip and speech
    assert text(model, "HCR-000002", "command", TOOLTIP).endswith("assign CRT-3")
    assert "assign CRT-3" in text(
        model, "HCR-000002", "command", Qt.ItemDataRole.AccessibleTextRole
    )
    assert text(model, "HCR-000003", "command") == ""  # confirmed: no longer pending
    # The answer arrives: the marker goes, with a dataChanged, no reset.
    changed = spy(model.dataChanged)
    model.set_picture([call(1, flags=(SafetyFlag.WEAPON,)), call(2), call(3)], T0)
    assert text(model, "HCR-000002", "command") == ""
    cmd = model.column_of("command")
    assert any(tl.column() <= cmd <= br.column() for tl, br, _ in changed)


def test_board_columns() -> None:
    board = filled_board()
    assert text(board, "CRT-3", "capabilities") == "Narcan · 3 seats"
    assert text(board, "CRT-1", "status") == "available  ⟳ out of service"
    assert text(board, "CRT-2", "status") == "on scene"
    assert text(board, "CRT-2", "provider") == "CRT"
    # CRT-2 has no position: stale marker and the reason; CRT-1's is fresh.
    assert text(board, "CRT-2", "in_status").endswith("◌")
    assert "no position reported" in text(board, "CRT-2", "in_status", TOOLTIP)
    assert not text(board, "CRT-1", "in_status").endswith("◌")
    # Off duty: no staleness complaint.
    assert not text(board, "CRT-3", "in_status").endswith("◌")
    for col in range(board.columnCount()):
        assert board.data(board.index(0, col), ID_ROLE) == board.ids()[0]


def test_id_role_is_the_raw_id_in_every_column() -> None:
    model = filled_queue()
    for row, rid in enumerate(model.ids()):
        for col in range(model.columnCount()):
            assert model.data(model.index(row, col), ID_ROLE) == rid
    assert model.data(QModelIndex(), ID_ROLE) is None


# -- filters ---------------------------------------------------------------------------------------------


def test_queue_filters() -> None:
    model = CallQueueModel()
    model.set_picture(
        [
            call(1, neighborhood="Asylum Hill"),
            call(2, neighborhood="Frog Hollow", status=CallStatus.CLEARED),
            call(3, neighborhood="Asylum Hill", status=CallStatus.ESCALATED),
            call(4, neighborhood="South End", flags=(SafetyFlag.VIOLENCE,)),
        ],
        T0,
    )
    proxy = CallQueueProxy()
    proxy.setSourceModel(model)
    resets = spy(proxy.modelReset)

    def ids() -> list[str]:
        return sorted(str(proxy.id_at(r)) for r in range(proxy.rowCount()))

    proxy.set_text_filter("asylum")
    assert ids() == ["HCR-000001", "HCR-000003"]
    proxy.set_open_only(True)
    assert ids() == ["HCR-000001"]
    proxy.set_text_filter("violence")
    assert ids() == ["HCR-000004"]
    proxy.set_text_filter("")
    proxy.set_status_filter({"cleared", "escalated"})
    assert ids() == ["HCR-000002", "HCR-000003"]
    proxy.set_open_only(False)
    assert len(ids()) == 4
    # A call that closes leaves an "open only" view live.
    proxy.set_open_only(True)
    model.set_picture([call(1, status=CallStatus.CANCELLED), call(4)], T0)
    assert ids() == ["HCR-000004"]
    assert not resets


def test_board_filters() -> None:
    board = filled_board()
    proxy = TeamBoardProxy()
    proxy.setSourceModel(board)
    proxy.set_on_duty_only(True)
    assert sorted(str(proxy.id_at(r)) for r in range(proxy.rowCount())) == ["CRT-1", "CRT-2"]
    proxy.set_text_filter("narcan")
    assert proxy.rowCount() == 0
    proxy.set_on_duty_only(False)
    assert [proxy.id_at(r) for r in range(proxy.rowCount())] == ["CRT-3"]
    assert isinstance(proxy, QSortFilterProxyModel)


# -- theme -----------------------------------------------------------------------------------------------


def test_palette_switch_recolours_without_reset() -> None:
    board = filled_board()
    resets = spy(board.modelReset)
    changed = spy(board.dataChanged)
    fg_dark = text(board, "CRT-1", "status", FOREGROUND).color().name()
    assert fg_dark == DARK_PALETTE.team_status_fg[TeamStatus.AVAILABLE]
    board.set_palette(palette_for("light"))
    assert (
        text(board, "CRT-1", "status", FOREGROUND).color().name()
        == (LIGHT_PALETTE.team_status_fg[TeamStatus.AVAILABLE])
    )
    assert changed and not resets
    assert text(board, "CRT-1", "status") == "available  ⟳ out of service"
    with pytest.raises(ValueError, match="dusk"):
        palette_for("dusk")


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (0, "00:00"),
        (59, "00:59"),
        (61, "01:01"),
        (3599, "59:59"),
        (3600, "1:00 h"),
        (3900, "1:05 h"),
        (36000, "10:00 h"),
        (-5, "00:00"),
    ],
)
def test_format_age(seconds: float, shown: str) -> None:
    assert format_age(seconds) == shown


def test_a_status_change_resorts_the_time_column() -> None:
    board = TeamBoardModel()
    board.set_picture([team(1, since_s=600), team(2, since_s=300), team(3, since_s=60)], T0)
    proxy = TeamBoardProxy()
    proxy.setSourceModel(board)
    proxy.sort(board.column_of("in_status"), Qt.SortOrder.DescendingOrder)
    assert [proxy.id_at(r) for r in range(3)] == ["CRT-1", "CRT-2", "CRT-3"]
    later = T0 + timedelta(minutes=1)
    # CRT-1 changes status now: its time in status starts again, it goes to the bottom.
    board.set_picture(
        [
            team(1, status=TeamStatus.EN_ROUTE, since_s=0, now=later),
            team(2, since_s=300),
            team(3, since_s=60),
        ],
        later,
    )
    assert [proxy.id_at(r) for r in range(3)] == ["CRT-2", "CRT-3", "CRT-1"]
    assert text(board, "CRT-1", "in_status").startswith(format_age(0))


def test_a_partial_picture_touches_only_the_ids_it_names() -> None:
    """What a busy feed sends between two pictures: a few calls changed, one closed (gone from
    an open-only queue), one new. The rows it does not name stay exactly as they were."""
    model = filled_queue()
    before = {rid: model.call(rid) for rid in model.ids()}
    changed = spy(model.dataChanged)
    inserted, removed = spy(model.rowsInserted), spy(model.rowsRemoved)
    bumped = replace(call(2, age_s=900, flags=(SafetyFlag.WEAPON,)), priority=1, version=2)
    model.set_picture(
        [bumped, call(5, age_s=10)],
        T0,
        pending=[AssignTeam(call_id="HCR-000001", team_id="CRT-3")],
        only={"HCR-000002", "HCR-000004", "HCR-000005"},
    )
    assert model.ids() == ["HCR-000001", "HCR-000002", "HCR-000003", "HCR-000005"]
    assert len(removed) == 1 and len(inserted) == 1
    assert model.call("HCR-000002") == bumped
    assert text(model, "HCR-000002", "priority") == "P1"
    for untouched in ("HCR-000001", "HCR-000003"):
        assert model.call(untouched) is before[untouched]
    assert text(model, "HCR-000001", "command", TOOLTIP).endswith("assign CRT-3")
    two = model.row_of("HCR-000002")
    assert {tl.row() for tl, _br, _ in changed} == {two}

    # Seconds later: the rows it does not name wait for the panel's stepped tick, not this
    # update; a jump (a seek) brings every row to the new moment at once.
    changed.clear()
    model.set_picture([bumped], T0 + timedelta(seconds=2), only={"HCR-000002"})
    assert {tl.row() for tl, _br, _ in changed} <= {two}
    model.set_picture([bumped], T0 + timedelta(minutes=5), only={"HCR-000002"})
    assert {tl.row() for tl, _br, _ in changed} == set(range(model.rowCount()))


def test_a_tick_in_steps_reaches_every_row_and_yields_to_a_newer_moment() -> None:
    model = CallQueueModel()
    calls = [call(i, age_s=30) for i in range(1, 251)]
    model.set_picture(calls, T0)
    age = model.column_of("age")

    def ages() -> list[str]:
        return [model.data(model.index(r, age)) for r in range(model.rowCount())]

    steps = model.tick_steps(T0 + timedelta(seconds=5), rows=100)
    next(steps)
    shown = ages()
    assert shown[:100] == ["00:35"] * 100 and shown[100:] == ["00:30"] * 150
    model.set_picture(calls[:-1], T0 + timedelta(seconds=5))  # a call goes between two steps
    assert list(steps) == [None, None]
    assert ages() == ["00:35"] * 249
    # A picture a second later re-ticks every row: the older steps stop where they are.
    old = model.tick_steps(T0 + timedelta(seconds=6), rows=100)
    next(old)
    model.set_picture(calls[:-1], T0 + timedelta(seconds=7))
    assert list(old) == []
    assert ages() == ["00:37"] * 249


def test_a_budgeted_picture_writes_a_few_rows_now_and_the_rest_from_its_backlog() -> None:
    """A burst of changes is written a few rows per turn. Until it is all written, a newer
    record replaces the waiting one, and a call that goes while it waits never comes back."""
    model = CallQueueModel()
    calls = [call(i, age_s=30) for i in range(1, 41)]
    model.set_picture(calls, T0)
    bumped = [replace(c, priority=1, version=2) for c in calls]
    changed = spy(model.dataChanged)
    with model.budgeted(12):
        model.set_picture([*bumped, call(41)], T0, only={c.id for c in bumped} | {"HCR-000041"})
    assert len({tl.row() for tl, _br, _ in changed}) == 12
    assert model.has_backlog() and model.rowCount() == 40
    assert [text(model, c.id, "priority") for c in calls].count("P1") == 12

    # Meanwhile: call 40 is re-described again, call 39 goes.
    again = replace(bumped[-1], priority=3, version=3)
    with model.budgeted(12):
        model.set_picture([again], T0, only={again.id, "HCR-000039"})
    steps = 0
    while True:
        with model.budgeted(12):
            more = model.apply_backlog()
        steps += 1
        if not more:
            break
    # The second picture wrote 12 more at once (call 39 went): 16 left, 12 + 4.
    assert steps == 2
    assert "HCR-000039" not in model.ids() and "HCR-000041" in model.ids()
    assert text(model, again.id, "priority") == "P3"
    assert all(text(model, c.id, "priority") == "P1" for c in calls[:38])
    assert not model.has_backlog()


def test_a_whole_picture_supersedes_the_backlog() -> None:
    model = CallQueueModel()
    calls = [call(i, age_s=30) for i in range(1, 31)]
    model.set_picture(calls, T0)
    with model.budgeted(5):
        model.set_picture([replace(c, priority=1, version=2) for c in calls], T0)
    assert model.has_backlog()
    model.set_picture(calls[:10], T0)  # unbudgeted, everything: the picture as it is now
    assert not model.has_backlog()
    assert model.ids() == [c.id for c in calls[:10]]
    assert [text(model, c.id, "priority") for c in calls[:10]] == ["P2"] * 10
