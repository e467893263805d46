"""A small live console for the action, alert and audit tests.

The real parts: a Store on an SQLite file, the LivePictureSource reloading from it on a worker
thread, the CommandGateway queuing through the store's writer thread. Time is a ManualClock
shared by the store and the picture source, so hours and ages are deterministic.

The world (positions in Hartford; distances chosen so the ranking is obvious by construction):
- HCR-1  pending P1 mental-health call at CALL_AT, no safety flags.
- HCR-2  pending P2 call flagged WEAPON (fails the safety screen; police suggested).
- HCR-3  assigned to CRT-3 (for reassign).
- HCR-4  pending P2 overdose call (only Narcan carriers are eligible; used for "no eligible").
- CRT-1  available, standing at the call (0 km): the obvious best.
- CRT-2  available, about 4 km away.
- CRT-3  assigned to HCR-3.
- CRT-4  out of service.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QApplication

from console.config import Config, parse_config
from console.domain.clock import ManualClock
from console.domain.events import (
    Alert,
    AlertKind,
    AlertRaised,
    CallReceived,
    Event,
    Severity,
    Source,
    TeamPositionReported,
    TeamStatusChanged,
)
from console.domain.model import (
    Call,
    CallStatus,
    CallType,
    Position,
    SafetyFlag,
    Team,
    TeamStatus,
)
from console.store import Store
from console.ui.core import theme
from console.ui.core.app_globals import DEFAULT_THEME, GLOBALS
from console.ui.core.context import ConsoleContext, build_context
from console.ui.core.gateway import CommandGateway
from console.ui.core.picture import LivePictureSource
from console.ui.core.tasks import TaskManager

T0 = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
"""03:00 UTC: outside mobile-crisis hours 08:00-20:00 used by the ``hours`` tests."""
CALL_AT = (41.7637, -72.6851)
FAR = (41.7990, -72.6851)  # ~3.9 km north

_seq = 0


def _sid() -> str:
    global _seq
    _seq += 1
    return f"t-{_seq:06d}"


def ev_call(call: Call, at: datetime) -> CallReceived:
    return CallReceived(
        source=Source.DISPATCH, source_id=_sid(), occurred_at=at, recorded_at=at, call=call
    )


def ev_team(team: Team, at: datetime) -> TeamStatusChanged:
    return TeamStatusChanged(
        source=Source.DISPATCH, source_id=_sid(), occurred_at=at, recorded_at=at, team=team
    )


def ev_pos(team_id: str, lat: float, lon: float, at: datetime) -> TeamPositionReported:
    return TeamPositionReported(
        source=Source.DISPATCH,
        source_id=_sid(),
        occurred_at=at,
        recorded_at=at,
        team_id=team_id,
        position=Position(lat, lon, at),
    )


def ev_alert(alert: Alert, at: datetime) -> AlertRaised:
    return AlertRaised(
        source=Source.DISPATCH, source_id=_sid(), occurred_at=at, recorded_at=at, alert=alert
    )


def backup_alert(team_id: str, at: datetime) -> Alert:
    return Alert(
        f"backup_request:{team_id}:{at.isoformat()}",
        AlertKind.BACKUP_REQUEST,
        Severity.CRITICAL,
        team_id,
        f"{team_id} requests backup",
        at,
    )


def world_events(t: datetime) -> list[Event]:
    received = t - timedelta(seconds=30)
    calls = [
        Call(
            "HCR-1",
            CallStatus.PENDING,
            1,
            CallType.MENTAL_HEALTH,
            received,
            received,
            lat=CALL_AT[0],
            lon=CALL_AT[1],
            address="10 Main St",
            version=3,
        ),
        Call(
            "HCR-2",
            CallStatus.PENDING,
            2,
            CallType.EMOTIONAL_DISTRESS,
            received,
            received,
            lat=CALL_AT[0],
            lon=CALL_AT[1],
            address="12 Park St",
            safety_flags=(SafetyFlag.WEAPON,),
        ),
        Call(
            "HCR-3",
            CallStatus.ASSIGNED,
            2,
            CallType.WELFARE_CHECK,
            received,
            received,
            dispatched_at=received,
            team="CRT-3",
            teams=("CRT-3",),
            lat=FAR[0],
            lon=FAR[1],
            address="99 Albany Ave",
            version=5,
        ),
        Call(
            "HCR-4",
            CallStatus.PENDING,
            2,
            CallType.OVERDOSE,
            received,
            received,
            lat=CALL_AT[0],
            lon=CALL_AT[1],
            address="3 Broad St",
        ),
    ]
    teams = [
        Team("CRT-1", TeamStatus.AVAILABLE, t, provider="A", status_since=t),
        Team("CRT-2", TeamStatus.AVAILABLE, t, provider="B", status_since=t),
        Team("CRT-3", TeamStatus.ASSIGNED, t, provider="A", status_since=t, call="HCR-3"),
        Team("CRT-4", TeamStatus.OUT_OF_SERVICE, t, provider="B", status_since=t),
    ]
    out: list[Event] = [ev_call(c, received) for c in calls]
    out += [ev_team(tm, t) for tm in teams]
    out += [
        ev_pos("CRT-1", *CALL_AT, t),
        ev_pos("CRT-2", *FAR, t),
        ev_pos("CRT-3", *FAR, t),
    ]
    return out


def make_config(tmp_path: Path, extra: str = "") -> Config:
    text = (
        '[escalation.mobile_crisis]\nstart = "08:00"\nend = "20:00"\n'
        "[thresholds.pending_s]\n1 = 120\n2 = 600\n3 = 1800\n" + extra
    )
    return parse_config(text, env={}, data_dir=tmp_path)


@dataclass
class Console:
    ctx: ConsoleContext
    store: Store
    clock: ManualClock
    source: LivePictureSource
    gateway: CommandGateway
    tasks: TaskManager

    def feed(self, qtbot: Any, events: list[Event]) -> None:
        """Append dispatch events and wait until the picture shows them."""
        res = self.store.append(events)
        target = res.last_seq
        self.source.notify()
        qtbot.waitUntil(lambda: self.source.current().seq >= target, timeout=5000)
        self.settle()

    def refresh(self, qtbot: Any) -> None:
        """Wait until the picture includes everything the store holds now."""
        target = self.store.last_seq()
        self.source.notify()
        qtbot.waitUntil(lambda: self.source.current().seq >= target, timeout=5000)
        self.settle()

    def settle(self) -> None:
        """Run the panels' paced updates now (the event loop would run them next)."""
        if self.ctx.pacer is not None:
            self.ctx.pacer.flush()

    def call(self, call_id: str) -> Call:
        return self.source.current().state.calls[call_id]


def build_console(
    qtbot: Any, tmp_path: Path, *, role: str = "supervisor", config: Config | None = None
) -> Console:
    clock = ManualClock(T0)
    store = Store.open(f"sqlite:///{tmp_path / 'console.db'}", clock=clock)
    store.append(world_events(T0))
    cfg = config or make_config(tmp_path)
    ctx = build_context(cfg, store, clock=clock, operator="sup.jones", role=role, poll_s=3600)
    source, gateway, tasks = ctx.pictures, ctx.gateway, ctx.tasks
    assert isinstance(source, LivePictureSource) and tasks is not None
    source.start()
    qtbot.waitUntil(lambda: source.reloads >= 1, timeout=5000)
    return Console(ctx, store, clock, source, gateway, tasks)


def close_console(c: Console) -> None:
    c.source.stop()
    c.tasks.shutdown(wait=True)
    c.store.close()


def console_session(qtbot: Any, tmp_path: Path, role: str = "supervisor") -> Iterator[Console]:
    """For a test module's fixture: ``yield from console_session(qtbot, tmp_path)``."""
    c = build_console(qtbot, tmp_path, role=role)
    try:
        yield c
    finally:
        close_console(c)


@contextmanager
def themed(name: str = "dark") -> Iterator[None]:
    """Apply a theme for a screenshot, then put the application's look back."""
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    palette, sheet, style = app.palette(), app.styleSheet(), app.style().name()
    theme.apply_theme(app, name)
    try:
        yield
    finally:
        app.setStyleSheet(sheet)
        app.setPalette(palette)
        app.setStyle(style)
        GLOBALS.theme = DEFAULT_THEME


def whole_console(
    tmp_path: Path,
    store: Store,
    clock: Any,
    *,
    operator: str = "J. Doe",
    config: Config | None = None,
) -> Any:
    """The whole window as the console builds it, on ``store``, with no dispatch link and its
    settings in ``tmp_path`` (close it with ``.close()``)."""
    from PySide6.QtCore import QSettings

    from console.config import load_config
    from console.ui.shell.main import build_console

    return build_console(
        config or load_config(None),
        store,
        dispatch_url=None,
        operator=operator,
        role="supervisor",
        clock=clock,
        settings=QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat),
    )
