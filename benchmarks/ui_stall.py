"""``ui_stall``: the longest GUI-thread stall while a busy feed arrives.

The whole console runs (window, map, queue, board, plots, alerts, audit) on a real SQLite file
with 60 teams, 300 open calls, 200 open follow-ups (a third of them overdue) and 30
destinations. A feeder thread commits ~200 events a second in small batches, as the sync
service would, and notifies the picture source after each. A 10 ms heartbeat timer
on the GUI thread records how late it fires; its worst lateness is the stall. The baseline is
the same heartbeat, same window and data, with no feed.
"""

from __future__ import annotations

import random
import tempfile
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from console.domain.events import (
    CallReceived,
    CallUpdated,
    Event,
    FollowUpOpened,
    TeamPositionReported,
    TeamStatusChanged,
)
from console.domain.model import (
    Call,
    CallStatus,
    CallType,
    Capabilities,
    Position,
    Team,
    TeamStatus,
)
from console.ui.map.env import bench_app

N_TEAMS = 60
N_CALLS = 300
N_FOLLOWUPS = 200
"""Open follow-ups in the log (the follow-ups dock and the overdue alert rule read them)."""
RATE = 200.0
"""Events per second the feed delivers."""
BATCH_EVERY_S = 0.05
HEARTBEAT_MS = 10
TARGET_MS = 50.0
LAT = (41.724, 41.808)
LON = (-72.718, -72.643)


def _app() -> Any:
    return bench_app("ui_stall")


class _Clock:
    """Wall clock; the feed's records are stamped with it so ages look live."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class Feed:
    """A busy shift's traffic: positions, call updates, team check-ins (lifecycle-valid)."""

    def __init__(self, seed: int = 7) -> None:
        self.rng = random.Random(seed)
        self.n = 0
        self.teams: dict[str, Team] = {}
        self.pos: dict[str, Position] = {}
        self.calls: dict[str, Call] = {}

    def _sid(self) -> str:
        self.n += 1
        return f"bench-{self.n:09d}"

    def initial(self, now: datetime) -> list[Event]:
        rng = self.rng
        out: list[Event] = []
        for i in range(N_TEAMS):
            tid = f"CRT-{i + 1}"
            status = TeamStatus.AVAILABLE if i % 3 else TeamStatus.ON_SCENE
            t = Team(
                tid,
                status,
                now,
                "CRT" if i % 2 else "YRT",
                now,
                capabilities=Capabilities(narcan=i % 2 == 0, vehicle_seats=3 if i % 3 == 0 else 0),
                last_checkin=now,
            )
            self.teams[tid] = t
            out.append(self._team_ev(t, now))
            p = Position(rng.uniform(*LAT), rng.uniform(*LON), now)
            self.pos[tid] = p
            out.append(self._pos_ev(tid, p, now))
        types = list(CallType)
        for i in range(N_CALLS):
            cid = f"HCR-{i + 1:06d}"
            c = Call(
                id=cid,
                status=CallStatus.PENDING,
                priority=1 + i % 3,
                type=types[i % len(types)],
                received_at=now - timedelta(seconds=rng.uniform(0, 3600)),
                updated_at=now,
                lat=rng.uniform(*LAT),
                lon=rng.uniform(*LON),
                address=f"{rng.randint(10, 1999)} Main St",
                neighborhood="Downtown",
            )
            self.calls[cid] = c
            out.append(
                CallReceived(
                    source="dispatch",
                    source_id=self._sid(),
                    occurred_at=now,
                    recorded_at=now,
                    call=c,
                )
            )
        for i in range(N_FOLLOWUPS):
            cid = f"HCR-{i + 1:06d}"
            out.append(
                FollowUpOpened(
                    source="console",
                    source_id=self._sid(),
                    occurred_at=now,
                    recorded_at=now,
                    followup_id=f"FU-{cid}",
                    call_id=cid,
                    owner="CRT" if i % 2 else "YRT",
                    due_at=now + timedelta(hours=rng.uniform(-24, 48)),
                    cause="referred",
                    operator="bench",
                )
            )
        return out

    def _team_ev(self, t: Team, now: datetime) -> Event:
        return TeamStatusChanged(
            source="dispatch", source_id=self._sid(), occurred_at=now, recorded_at=now, team=t
        )

    def _pos_ev(self, tid: str, p: Position, now: datetime) -> Event:
        return TeamPositionReported(
            source="dispatch",
            source_id=self._sid(),
            occurred_at=now,
            recorded_at=now,
            team_id=tid,
            position=p,
        )

    def batch(self, n: int, now: datetime) -> list[Event]:
        rng = self.rng
        out: list[Event] = []
        for _ in range(n):
            r = rng.random()
            if r < 0.6:  # a team moves
                tid = rng.choice(list(self.pos))
                p = self.pos[tid]
                q = Position(
                    p.lat + rng.uniform(-4e-4, 4e-4), p.lon + rng.uniform(-4e-4, 4e-4), now
                )
                self.pos[tid] = q
                out.append(self._pos_ev(tid, q, now))
            elif r < 0.9:  # a call is re-described (priority, revision)
                cid = rng.choice(list(self.calls))
                c = self.calls[cid]
                c = replace(c, priority=1 + (c.priority % 3), updated_at=now, version=c.version + 1)
                self.calls[cid] = c
                out.append(
                    CallUpdated(
                        source="dispatch",
                        source_id=self._sid(),
                        occurred_at=now,
                        recorded_at=now,
                        call=c,
                    )
                )
            else:  # a team checks in
                tid = rng.choice(list(self.teams))
                t = replace(self.teams[tid], updated_at=now, last_checkin=now)
                self.teams[tid] = t
                out.append(self._team_ev(t, now))
        return out


class Heartbeat:
    """A precise timer on the GUI thread; records how late each tick fires."""

    def __init__(self, interval_ms: int = HEARTBEAT_MS) -> None:
        from PySide6.QtCore import QElapsedTimer, Qt, QTimer

        self.interval = interval_ms / 1000.0
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)
        self.elapsed = QElapsedTimer()
        self.last = 0.0
        self.late: list[float] = []

    def start(self) -> None:
        self.late = []
        self.elapsed.start()
        self.last = 0.0
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def _tick(self) -> None:
        t = self.elapsed.nsecsElapsed() / 1e9
        self.late.append(max(0.0, (t - self.last) - self.interval) * 1000.0)
        self.last = t

    @property
    def worst_ms(self) -> float:
        return max(self.late[1:], default=0.0)

    def pct(self, q: float) -> float:
        xs = sorted(self.late[1:])
        if not xs:
            return 0.0
        k = (len(xs) - 1) * q
        lo = int(k)
        hi = min(lo + 1, len(xs) - 1)
        return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def _job_label(key: Any) -> str:
    """A pacer key as ``Class.name``: keys are bound methods, or (owner, step name) for a
    panel's stepped work (``QueuePanel.tick``, ``AlertsPanel.rows``)."""
    if isinstance(key, tuple) and len(key) == 2 and isinstance(key[1], str):
        owner = getattr(key[0], "__self__", key[0])
        return f"{type(owner).__name__}.{key[1]}"
    if isinstance(key, tuple) and key:
        key = key[0]
    owner = getattr(key, "__self__", None)
    name = getattr(key, "__name__", None)
    if owner is not None and name is not None:
        return f"{type(owner).__name__}.{name}"
    return str(key)


class Slices:
    """Times the GUI-thread jobs the console's pacer runs, through its timing hook."""

    def __init__(self) -> None:
        self.times: dict[str, list[float]] = {}
        self.recording = False

    def record(self, key: Any, ms: float) -> None:
        if self.recording:
            self.times.setdefault(_job_label(key), []).append(ms)

    def summary(self) -> dict[str, dict[str, float]]:
        out: dict[str, dict[str, float]] = {}
        for label, xs in self.times.items():
            if not xs:
                continue
            ys = sorted(xs)
            out[label] = {
                "n": len(ys),
                "p50_ms": round(ys[len(ys) // 2], 1),
                "max_ms": round(ys[-1], 1),
                "total_ms": round(sum(ys), 0),
            }
        return dict(sorted(out.items(), key=lambda kv: -kv[1]["max_ms"]))


def _run_loop(app: Any, seconds: float) -> None:
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()


def _wait(app: Any, cond: Any, timeout_s: float) -> bool:
    from PySide6.QtCore import QCoreApplication, QEventLoop

    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if cond():
            return True
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
    return bool(cond())


def bench_ui_stall(quick: bool) -> list[dict[str, Any]]:
    app = _app()
    duration = 10.0 if quick else 60.0
    return _measure(app, duration, Slices())


N_DESTINATIONS = 30


def _with_destinations(config: Any) -> Any:
    """The configuration with N_DESTINATIONS destinations (the demo's sample, repeated under
    new ids): the destinations dock and map layer run through the whole measurement."""
    import dataclasses

    from console.ui.shell.main import with_sample_destinations

    sample = with_sample_destinations(config).destinations
    places = [
        dataclasses.replace(d, id=f"{d.id}-{n}", name=f"{d.name} {n}")
        for n in range(N_DESTINATIONS // max(1, len(sample.destinations)) + 1)
        for d in sample.destinations
    ][:N_DESTINATIONS]
    return dataclasses.replace(
        config, destinations=dataclasses.replace(sample, destinations=tuple(places))
    )


def _measure(app: Any, duration: float, slices: Slices) -> list[dict[str, Any]]:
    from PySide6.QtCore import QSettings

    from console.config import load_config
    from console.store import Store
    from console.ui.shell.main import build_console, settle_process

    with tempfile.TemporaryDirectory(prefix="rc-bench-ui-") as tmp:
        clock = _Clock()
        store = Store.open(f"sqlite:///{Path(tmp) / 'bench.db'}", clock=clock)
        feed = Feed()
        store.append(feed.initial(clock.now()))
        config = _with_destinations(load_config(None, env={}, data_dir=Path(tmp)))
        console = build_console(
            config,
            store,
            dispatch_url=None,
            operator="bench",
            role="supervisor",
            clock=clock,
            settings=QSettings(str(Path(tmp) / "s.ini"), QSettings.Format.IniFormat),
        )
        if console.ctx.pacer is not None:
            console.ctx.pacer.on_job = slices.record
        try:
            win = console.window
            win.resize(1920, 1080)
            pictures = console.ctx.pictures
            mv = win.map_panel.map_view
            _wait(app, lambda: len(pictures.current().state.calls) == N_CALLS, 60)
            if mv is not None:
                _wait(app, lambda: mv.is_ready, 60)
            _run_loop(app, 2.0)  # settle: first paints, column sizing, page fit
            settle_process()  # as the console does once it is up

            hb = Heartbeat()
            hb.start()
            _run_loop(app, duration)
            hb.stop()
            idle_worst, idle_p99 = hb.worst_ms, hb.pct(0.99)

            stop = threading.Event()
            delivered = [0]
            per_batch = max(1, round(RATE * BATCH_EVERY_S))

            def feeder() -> None:
                nxt = time.monotonic()
                while not stop.is_set():
                    evs = feed.batch(per_batch, clock.now())
                    store.append(evs)
                    delivered[0] += len(evs)
                    pictures.notify()
                    nxt += BATCH_EVERY_S
                    delay = nxt - time.monotonic()
                    if delay > 0:
                        stop.wait(delay)

            reloads0 = pictures.reloads
            th = threading.Thread(target=feeder, name="bench-feed", daemon=True)
            slices.recording = True
            hb.start()
            t0 = time.monotonic()
            th.start()
            _run_loop(app, duration)
            stop.set()
            th.join(10)
            wall = time.monotonic() - t0
            hb.stop()
            slices.recording = False
            busy_worst, busy_p99 = hb.worst_ms, hb.pct(0.99)
            reloads = pictures.reloads - reloads0
            loads = sorted(pictures.load_ms)
            load_p50 = loads[len(loads) // 2] if loads else 0.0
        finally:
            console.close()
    return [
        {
            "name": "ui_stall",
            "unit": "ms",
            "value": round(busy_worst, 2),
            "baseline": f"the same {HEARTBEAT_MS} ms heartbeat's worst lateness with the window idle",
            "baseline_value": round(idle_worst, 2),
            "ratio": round(busy_worst / idle_worst, 3) if idle_worst > 0 else 0.0,
            "target_ms": TARGET_MS,
            "p99_ms": round(busy_p99, 2),
            "baseline_p99_ms": round(idle_p99, 2),
            "events": delivered[0],
            "events_per_s": round(delivered[0] / wall, 1) if wall > 0 else 0.0,
            "picture_reloads_per_s": round(reloads / wall, 2) if wall > 0 else 0.0,
            "picture_reload_p50_ms": round(load_p50, 1),
            "teams": N_TEAMS,
            "open_calls": N_CALLS,
            "open_followups": N_FOLLOWUPS,
            "destinations": N_DESTINATIONS,
            "seconds": duration,
            "gui_slices": slices.summary(),
        }
    ]
