"""A synthetic, lifecycle-valid event stream: for benchmarks and property tests.

Deterministic for a seed. Calls go pending -> assigned -> en route -> on scene -> cleared (a few
escalated or cancelled); teams follow; positions move. Every record is a full snapshot, as the
feed sends them.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import datetime, timedelta

from .events import (
    CallEscalated,
    CallReceived,
    CallUpdated,
    Event,
    TeamAssigned,
    TeamPositionReported,
    TeamStatusChanged,
)
from .model import (
    Call,
    CallStatus,
    CallType,
    Capabilities,
    EscalationTarget,
    Position,
    SafetyFlag,
    Team,
    TeamStatus,
)

HARTFORD = (41.7637, -72.6851)


def synthetic_shift(
    n_events: int, *, seed: int = 1, start: datetime, teams: int = 12, id_prefix: str = "HCR"
) -> list[Event]:
    """About ``n_events`` events of a busy shift starting at ``start``, in occurrence order.

    Calls are numbered ``{id_prefix}-000001`` on."""
    rng = random.Random(seed)
    out: list[Event] = []
    seq = 0

    def sid() -> str:
        nonlocal seq
        seq += 1
        return f"syn-{seed}-{seq:08d}"

    t = start
    roster: dict[str, Team] = {}
    for i in range(teams):
        tid = f"CRT-{i + 1}"
        caps = Capabilities(
            narcan=i % 2 == 0,
            vehicle_seats=2 if i % 3 == 0 else 0,
            juvenile_certified=i % 4 == 0,
            languages=("en", "es") if i % 3 == 1 else ("en",),
        )
        roster[tid] = Team(tid, TeamStatus.AVAILABLE, t, "CRT", t, None, caps)
        out.append(
            TeamStatusChanged(
                source="dispatch", source_id=sid(), occurred_at=t, recorded_at=t, team=roster[tid]
            )
        )
    free = list(roster)
    active: list[tuple[Call, str, list[CallStatus]]] = []
    n_call = 0
    types = [t for t in CallType if t is not CallType.UNRECOGNISED]
    while len(out) < n_events:
        t += timedelta(seconds=rng.uniform(5, 40))
        roll = rng.random()
        if roll < 0.25 or not active:
            n_call += 1
            lat = HARTFORD[0] + rng.uniform(-0.03, 0.03)
            lon = HARTFORD[1] + rng.uniform(-0.03, 0.03)
            flags = (rng.choice(list(SafetyFlag)),) if rng.random() < 0.05 else ()
            c = Call(
                f"{id_prefix}-{n_call:06d}",
                CallStatus.PENDING,
                rng.choice((1, 2, 2, 3)),
                rng.choice(types),
                t,
                t,
                lat=lat,
                lon=lon,
                safety_flags=flags,
            )
            out.append(
                CallReceived(
                    source="dispatch", source_id=sid(), occurred_at=t, recorded_at=t, call=c
                )
            )
            if flags or not free:
                end = CallStatus.ESCALATED if flags else CallStatus.CANCELLED
                t2 = t + timedelta(seconds=rng.uniform(30, 120))
                c2 = replace(
                    c,
                    status=end,
                    updated_at=t2,
                    cleared_at=t2,
                    version=2,
                    escalated_to=EscalationTarget.POLICE if flags else None,
                )
                out.append(
                    CallUpdated(
                        source="dispatch", source_id=sid(), occurred_at=t2, recorded_at=t2, call=c2
                    )
                )
                if flags:
                    out.append(
                        CallEscalated(
                            source="dispatch",
                            source_id=sid(),
                            occurred_at=t2,
                            recorded_at=t2,
                            call_id=c.id,
                            target=EscalationTarget.POLICE,
                        )
                    )
                continue
            tid = free.pop(rng.randrange(len(free)))
            active.append(
                (
                    c,
                    tid,
                    [
                        CallStatus.ASSIGNED,
                        CallStatus.EN_ROUTE,
                        CallStatus.ON_SCENE,
                        CallStatus.CLEARED,
                    ],
                )
            )
        elif roll < 0.45:
            tid = rng.choice(list(roster))
            pos = Position(
                HARTFORD[0] + rng.uniform(-0.04, 0.04), HARTFORD[1] + rng.uniform(-0.04, 0.04), t
            )
            out.append(
                TeamPositionReported(
                    source="dispatch",
                    source_id=sid(),
                    occurred_at=t,
                    recorded_at=t,
                    team_id=tid,
                    position=pos,
                )
            )
        else:
            i = rng.randrange(len(active))
            c, tid, steps = active[i]
            st = steps.pop(0)
            kw: dict[str, object] = {"status": st, "updated_at": t, "version": c.version + 1}
            if st is CallStatus.ASSIGNED:
                kw.update(team=tid, teams=(tid,), dispatched_at=t)
            elif st is CallStatus.EN_ROUTE:
                kw["enroute_at"] = t
            elif st is CallStatus.ON_SCENE:
                kw["onscene_at"] = t
            else:
                kw.update(cleared_at=t, disposition="resolved_on_scene")
            c = replace(c, **kw)  # type: ignore[arg-type]
            out.append(
                CallUpdated(
                    source="dispatch", source_id=sid(), occurred_at=t, recorded_at=t, call=c
                )
            )
            team_status = {
                CallStatus.ASSIGNED: TeamStatus.ASSIGNED,
                CallStatus.EN_ROUTE: TeamStatus.EN_ROUTE,
                CallStatus.ON_SCENE: TeamStatus.ON_SCENE,
                CallStatus.CLEARED: TeamStatus.AVAILABLE,
            }[st]
            tm = replace(
                roster[tid],
                status=team_status,
                updated_at=t,
                status_since=t,
                call=None if st is CallStatus.CLEARED else c.id,
            )
            roster[tid] = tm
            out.append(
                TeamStatusChanged(
                    source="dispatch", source_id=sid(), occurred_at=t, recorded_at=t, team=tm
                )
            )
            if st is CallStatus.ASSIGNED:
                out.append(
                    TeamAssigned(
                        source="dispatch",
                        source_id=sid(),
                        occurred_at=t,
                        recorded_at=t,
                        call_id=c.id,
                        team_id=tid,
                    )
                )
            if steps:
                active[i] = (c, tid, steps)
            else:
                active.pop(i)
                free.append(tid)
    return out


def synthetic_days(
    days: int, events_per_day: int, *, seed: int = 1, start: datetime, teams: int = 12
) -> list[Event]:
    """``days`` busy shifts, one starting at ``start`` and each a day after the one before, in
    occurrence order: a month of work for reports and their benchmarks. A day's calls are
    numbered ``HCR{day}-...`` so no two days share a call number."""
    out: list[Event] = []
    for d in range(days):
        out.extend(
            synthetic_shift(
                events_per_day,
                seed=seed * 1000 + d,
                start=start + timedelta(days=d),
                teams=teams,
                id_prefix=f"HCR{d:02d}",
            )
        )
    return out
