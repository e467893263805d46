"""The destination board: the panel (open / closing soon / closed, capacity with its age, the
criteria's symbols), a supervisor's capacity figure, the transport proposal sent to dispatch,
and the map layer on the real page."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fixtures_dialogs import (
    CALL_AT,
    Console,
    build_console,
    close_console,
    ev_call,
    ev_pos,
    ev_team,
    make_config,
    themed,
)
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from console.domain.commands import SetDestination
from console.domain.events import AlertKind
from console.domain.model import Call, CallStatus, CallType, Team, TeamStatus
from console.ui.destinations.dialogs import CapacityDialog, DestinationDialog
from console.ui.destinations.layer import layer_items
from console.ui.destinations.panel import COL_CAPACITY, COL_STATUS, ID_ROLE, DestinationsPanel

MONDAY_2PM = datetime(2026, 12, 7, 19, 0, tzinfo=UTC)
"""Monday 14:00 in Hartford: the sobering center and the night shelter are closed."""


@pytest.fixture
def console(qtbot: Any, tmp_path: Path) -> Iterator[Console]:
    cfg = make_config(tmp_path, '[destinations]\nfile = "sample"\n')
    c = build_console(qtbot, tmp_path, config=cfg)
    c.clock.set(MONDAY_2PM)
    c.source._on_tick()  # the picture's clock follows the tick
    c.refresh(qtbot)
    try:
        yield c
    finally:
        close_console(c)


def _panel(qtbot: Any, console: Console) -> DestinationsPanel:
    panel = DestinationsPanel(console.ctx)
    qtbot.addWidget(panel)
    panel.resize(900, 420)
    panel.show()
    return panel


def _row(panel: DestinationsPanel, did: str) -> dict[str, str]:
    r = panel.row_of(did)
    return {
        "status": panel.table.item(r, COL_STATUS).text(),  # type: ignore[union-attr]
        "capacity": panel.table.item(r, COL_CAPACITY).text(),  # type: ignore[union-attr]
    }


def _order(panel: DestinationsPanel) -> list[str]:
    return [
        str(panel.table.item(r, COL_STATUS).data(ID_ROLE))  # type: ignore[union-attr]
        for r in range(panel.table.rowCount())
    ]


def _set_capacity(qtbot: Any, console: Console, panel: DestinationsPanel, did: str, n: int) -> None:
    dlg = panel.open_capacity_dialog(did)
    assert isinstance(dlg, CapacityDialog)
    dlg.available.setValue(n)
    dlg.reason.setText("intake desk")
    with qtbot.waitSignal(dlg.finished, timeout=5000):
        dlg.accept()
    console.refresh(qtbot)


def test_panel_open_first_capacity_with_age_and_stale_shown_as_stale(
    qtbot: Any, console: Console, artifacts: Path
) -> None:
    panel = _panel(qtbot, console)
    order = _order(panel)
    assert len(order) == 10
    closed = {"sobering-park-st", "shelter-bushnell-night"}
    assert set(order[-2:]) == closed  # closed at 14:00 on a Monday, listed last
    assert _row(panel, "sobering-park-st")["status"] == "○ closed, opens 18:00"
    assert _row(panel, "detox-riverside")["status"] == "● open until 23:00"
    assert _row(panel, "ed-saint-francis")["status"] == "● open 24 h"
    assert "SAMPLE DATA" in panel.summary.text()
    assert panel.summary.text().startswith("8 open · 0 closing soon · 2 closed")
    # Criteria: one chip per criterion, its meaning as its tooltip.
    chips = panel.table.cellWidget(panel.row_of("csu-north-end"), 4)
    tips = [c.toolTip() for c in chips.chips]  # type: ignore[union-attr]
    assert "Needs medical clearance before intake" in tips
    assert "Call before bringing anyone" in tips
    assert "Does not take intoxicated persons (sober only)" in tips
    assert _row(panel, "detox-riverside")["capacity"] == "no figure"
    assert _row(panel, "ed-hartford-hospital")["capacity"] == "not counted"

    panel.table.selectRow(panel.row_of("detox-riverside"))
    # The button opens the dialog on the selected destination.
    qtbot.mouseClick(panel.capacity_button, Qt.MouseButton.LeftButton)
    [opened] = panel.findChildren(CapacityDialog)
    assert opened.destination.id == "detox-riverside"
    opened.reject()
    opened.deleteLater()
    _set_capacity(qtbot, console, panel, "detox-riverside", 4)
    qtbot.waitUntil(lambda: _row(panel, "detox-riverside")["capacity"] == "4 of 20 free, 0 s ago")
    [audit] = console.store.audit(1)
    assert (audit.operator, audit.action, audit.answer_status) == (
        "sup.jones",
        "destination_status",
        "done",
    )
    # The selection stays on its destination while rows are rewritten.
    assert panel.selected_destination() == "detox-riverside"

    # Near closing (Riverside closes at 23:00): "closing soon"; much later the figure is stale.
    console.clock.set(MONDAY_2PM + timedelta(hours=8, minutes=40))
    console.source._on_tick()
    panel.refresh()
    assert _row(panel, "detox-riverside")["status"] == "◐ closing in 20 min"
    cap = _row(panel, "detox-riverside")["capacity"]
    assert cap.startswith("stale (8.7 h old; was 4 of 20 free")
    assert "free, " not in cap.split("was")[0]
    with themed("dark"):
        console.clock.set(MONDAY_2PM + timedelta(minutes=20))
        console.source._on_tick()
        panel.refresh()
        QApplication.processEvents()  # the themed style's sizes laid out before the grab
        panel.grab().save(str(artifacts / "destinations_panel.png"))


def test_transport_proposal_ranks_explains_and_sends_set_destination(
    qtbot: Any, console: Console, artifacts: Path
) -> None:
    t = MONDAY_2PM
    call = Call(
        "HCR-9",
        CallStatus.TRANSPORTING,
        2,
        CallType.SUBSTANCE_USE,
        t - timedelta(minutes=40),
        t,
        dispatched_at=t - timedelta(minutes=35),
        enroute_at=t - timedelta(minutes=34),
        onscene_at=t - timedelta(minutes=20),
        team="CRT-1",
        teams=("CRT-1",),
        lat=CALL_AT[0],
        lon=CALL_AT[1],
        transport_needed=True,
        language="es",
        version=7,
    )
    team = Team("CRT-1", TeamStatus.TRANSPORTING, t, provider="A", status_since=t, call="HCR-9")
    console.feed(qtbot, [ev_call(call, t), ev_team(team, t), ev_pos("CRT-1", *CALL_AT, t)])
    panel = _panel(qtbot, console)
    assert "CRT-1 (HCR-9)" in panel.transport_hint.text()
    _set_capacity(qtbot, console, panel, "detox-riverside", 3)
    _set_capacity(qtbot, console, panel, "shelter-frog-hollow-youth", 0)

    console.ctx.selection.select_call("HCR-9")
    dlg = panel.open_proposal()
    assert isinstance(dlg, DestinationDialog)
    qtbot.addWidget(dlg)
    p = dlg.proposal
    why = dict(p.ineligible)
    # Substance use: intoxicated assumed; the sober-only places say so.
    assert "does not take intoxicated persons" in why["shelter-bushnell-night"]
    assert (
        why["shelter-frog-hollow-youth"][0] == "full" or "full" in why["shelter-frog-hollow-youth"]
    )
    assert "no capacity figure" in why["sobering-park-st"] or any(
        "closed" in w for w in why["sobering-park-st"]
    )
    # The call says Spanish: the detox's intake staff speak English only.
    assert why["detox-riverside"] == ("no intake staff speaking es",)
    ranked = [c.destination_id for c in p.ranked]
    assert "ed-hartford-hospital" in ranked
    # The supervisor learns the person speaks English: the detox can take them.
    dlg.language.setText("en")
    p = dlg.proposal
    ranked = [c.destination_id for c in p.ranked]
    assert "detox-riverside" in ranked
    travel = [c.travel_s for c in p.ranked]
    assert travel == sorted(travel)  # nearest first
    # Ineligible rows are greyed and cannot be chosen.
    last = dlg.list.topLevelItem(dlg.list.topLevelItemCount() - 1)
    assert last is not None and last.text(0) == "✕" and not last.flags()
    # Correcting the person's needs re-ranks: not intoxicated, the night shelter's reason moves.
    dlg.intoxicated.setChecked(False)
    assert "does not take intoxicated persons" not in dict(dlg.proposal.ineligible).get(
        "shelter-bushnell-night", ()
    )
    dlg.intoxicated.setChecked(True)
    # Choose the detox and send: one set_destination command in the outbox.
    for i in range(dlg.list.topLevelItemCount()):
        it = dlg.list.topLevelItem(i)
        if it is not None and it.data(0, ID_ROLE) == "detox-riverside":
            dlg.list.setCurrentItem(it)
            it.setSelected(True)
    with themed("dark"):
        dlg.grab().save(str(artifacts / "destination_proposal.png"))
    with qtbot.waitSignal(dlg.finished, timeout=5000):
        dlg.accept()
    [item] = console.store.outbox_due()
    cmd = item.command
    assert isinstance(cmd, SetDestination)
    assert (cmd.call_id, cmd.team_id, cmd.destination_id, cmd.destination_name) == (
        "HCR-9",
        "CRT-1",
        "detox-riverside",
        "Riverside Detox Intake (sample)",
    )
    assert cmd.expected_version == 7 and "min away" in cmd.reason
    # What the sync client sends is the command as the protocol documents it.
    from console.wire import protocol as proto

    msg = proto.command("k1", cmd, operator="sup.jones", issued_at=t, command_id="c1")
    args = json.loads(json.dumps(msg))["command"]["args"]
    assert args["kind"] == "set_destination"
    assert {k: args[k] for k in ("call_id", "team_id", "destination_id")} == {
        "call_id": "HCR-9",
        "team_id": "CRT-1",
        "destination_id": "detox-riverside",
    }


def test_wait_at_destination_raises_an_alert_in_the_alerts_panel(
    qtbot: Any, console: Console
) -> None:
    from console.ui.alerts.panel import AlertsPanel

    t = MONDAY_2PM
    team = Team(
        "CRT-2",
        TeamStatus.AT_DESTINATION,
        t,
        provider="B",
        status_since=t,
        call="HCR-3",
        destination="Riverside Detox Intake (sample)",
    )
    console.feed(qtbot, [ev_team(team, t)])
    console.clock.set(t + timedelta(minutes=46))
    console.source._on_tick()
    panel = AlertsPanel(console.ctx)
    qtbot.addWidget(panel)
    panel.refresh()
    waits = [a for a in panel.alerts if a.kind is AlertKind.DESTINATION_WAIT]
    assert [a.message for a in waits] == [
        "CRT-2 waiting 46 min at detox intake (Riverside Detox Intake (sample))"
    ]


@pytest.mark.webengine
@pytest.mark.timeout(90)
def test_map_layer_tells_open_from_closed_by_shape_and_colour(
    qtbot: Any, tmp_path: Path, artifacts: Path
) -> None:
    from console.config import parse_config
    from console.ui.map.view import MapView

    ds = parse_config('[destinations]\nfile = "sample"\n').destinations
    view = MapView(tile_url=None, overlays=[])
    view.resize(900, 700)
    view.show()
    try:
        qtbot.waitUntil(lambda: view.is_ready, timeout=20000)
        items = layer_items(ds, {}, MONDAY_2PM)
        assert view.set_destinations(items)
        assert not view.set_destinations(items)  # unchanged: nothing sent

        def snap() -> dict[str, dict[str, Any]]:
            box: list[Any] = []
            view.run_js("JSON.stringify(rcMap.destinationSnapshot())", box.append)
            qtbot.waitUntil(lambda: bool(box), timeout=5000)
            return {d["id"]: d for d in json.loads(box[0])}

        qtbot.waitUntil(lambda: len(snap()) == 10, timeout=5000)
        s = snap()
        opened, shut = s["detox-riverside"], s["sobering-park-st"]
        assert opened["state"] == "open" and shut["state"] == "closed"
        assert opened["rendered"] and shut["rendered"]
        # Shape: the open one is a rotated (diamond) filled square; the closed one is not
        # rotated, hollow and grey. Colour differs too.
        assert opened["transform"] not in ("none", None)
        assert shut["transform"] in ("none", None)
        assert opened["background"] == "rgb(46, 125, 50)"
        assert shut["background"] == "rgb(255, 255, 255)"
        assert opened["border"] != shut["border"]
        legend: list[Any] = []
        view.run_js(
            "JSON.stringify(Array.from(document.querySelectorAll('.rc-lg-dest'),"
            " (r) => r.textContent))",
            legend.append,
        )
        qtbot.waitUntil(lambda: bool(legend), timeout=5000)
        assert json.loads(legend[0]) == ["open", "closing within 30 min", "×closed"]
        # An hour later the sobering center is still closed; at 17:40 it is about to open and
        # the detox changes to "closing soon" near 23:00: only what changed is redrawn.
        later = layer_items(ds, {}, MONDAY_2PM + timedelta(hours=8, minutes=40))
        assert view.set_destinations(later)
        qtbot.waitUntil(lambda: snap()["detox-riverside"]["state"] == "closing_soon")
        assert snap()["sobering-park-st"]["state"] == "open"
        shown: list[Any] = []
        view.run_js("rcMap.showDestination('detox-riverside')", shown.append)
        qtbot.waitUntil(lambda: bool(shown), timeout=5000)
        assert shown == [True]
        box: list[Any] = []
        view.run_js("rcMap.map.setView([41.765, -72.685], 14); true", box.append)
        qtbot.waitUntil(lambda: bool(box), timeout=5000)
        view.grab().save(str(artifacts / "destinations_map_layer.png"))
    finally:
        view.dispose()


def test_window_docks_the_board_with_a_shortcut_and_the_call_menu_proposes(
    qtbot: Any, tmp_path: Path
) -> None:
    from PySide6.QtCore import QSettings

    from console.store import Store
    from console.ui.shell.main import build_console as build_window

    cfg = make_config(tmp_path, '[destinations]\nfile = "sample"\n')
    store = Store.open(f"sqlite:///{tmp_path / 'w.db'}")
    console = build_window(
        cfg,
        store,
        dispatch_url=None,
        operator="J. Doe",
        role="supervisor",
        settings=QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat),
        show=False,
    )
    win = console.window
    try:
        assert "destinations" in win.docks
        assert win.panel_actions["destinations"].shortcut().toString() == "Ctrl+8"
        assert win.propose_destination_action.shortcut().toString() == "Ctrl+Shift+D"
        shortcuts = [k for k, _ in win.shortcut_list()]
        assert len(shortcuts) == len(set(shortcuts))
        panel = win.destinations_panel
        with qtbot.waitSignal(panel.destination_selected, timeout=2000) as sig:
            panel.table.selectRow(panel.row_of("detox-riverside"))
        assert sig.args == ["detox-riverside"]
    finally:
        console.close()
