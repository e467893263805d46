"""``report --json`` counts the program's records: why eligible calls went unserved (adding up
to ``eligible_not_served``), outcomes, calls needing one, naloxone given; the live store, the
aggregates and a replay agree."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from console.domain.commands import GiveUnservedReason, RecordNaloxone, RecordOutcome
from console.domain.events import CallReceived, Event, Source, UnservedReasonGiven
from console.domain.model import Call, CallStatus, CallType, SafetyFlag
from console.domain.program import Outcome, UnservedReason
from console.store import Store
from console.store.read.aggregates import Aggregates
from console.store.read.metrics import report

T0 = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
END = T0 + timedelta(hours=8)
OLD_KEYS = {
    "from",
    "to",
    "calls_received",
    "calls_cleared",
    "calls_escalated",
    "escalations",
    "intervals_s",
    "team_utilization",
    "eligible_not_served",
}


def _call(i: int, status: CallStatus, *, minutes: int = 0, **kw: Any) -> Call:
    at = T0 + timedelta(minutes=minutes)
    c = Call(f"C{i}", status, 2, CallType.WELFARE_CHECK, at, at + timedelta(minutes=30))
    return replace(c, **kw)


def _ev(c: Call) -> Event:
    return CallReceived(
        source=Source.DISPATCH,
        source_id=f"call:{c.id}",
        occurred_at=c.updated_at,
        recorded_at=c.updated_at,
        call=c,
    )


def _world() -> list[Call]:
    team = {"team": "CRT-1", "teams": ("CRT-1",)}
    return [
        _call(1, CallStatus.ESCALATED),  # eligible, unserved: the supervisor says why
        _call(2, CallStatus.CANCELLED, minutes=5),  # eligible, unserved: inferred
        _call(3, CallStatus.ESCALATED, minutes=10),  # eligible, unserved: no reason
        _call(4, CallStatus.ESCALATED, safety_flags=(SafetyFlag.WEAPON,)),  # not eligible
        _call(5, CallStatus.CLEARED, minutes=20, **team),  # outcome recorded
        _call(6, CallStatus.CLEARED, minutes=25, **team),  # needs an outcome
        _call(7, CallStatus.CLEARED, minutes=30, teams=("CRT-2",)),  # needs an outcome
        _call(10, CallStatus.CLEARED, minutes=35),  # cleared, no team: unserved, no outcome
        _call(8, CallStatus.ON_SCENE, minutes=40, **team),  # open: naloxone given
        _call(9, CallStatus.CLEARED, minutes=-600, **team),  # before the period
    ]


def _store(url: str) -> Store:
    store = Store.open(url, create=True)
    calls = _world()
    store.append([_ev(c) for c in calls])
    store.append(
        [
            UnservedReasonGiven(
                source=Source.CONSOLE,
                source_id="unserved-inferred:C2",
                occurred_at=T0 + timedelta(minutes=35),
                recorded_at=T0 + timedelta(minutes=35),
                call_id="C2",
                reason=UnservedReason.ALL_TEAMS_BUSY,
                operator="console",
                inferred=True,
            )
        ]
    )
    sub = [
        GiveUnservedReason(call_id="C1", unserved=UnservedReason.CALLER_DECLINED),
        RecordOutcome(call_id="C5", outcome=Outcome.REFERRED),
        RecordOutcome(
            call_id="C9", outcome=Outcome.TRANSPORTED_ED, destination_kind="emergency_department"
        ),
        RecordNaloxone(call_id="C8", doses=2, given_at=T0 + timedelta(minutes=45)),
        RecordNaloxone(call_id="C8", doses=1, given_at=T0 + timedelta(minutes=50)),
        RecordNaloxone(call_id="C5", doses=1, given_at=T0 + timedelta(minutes=22)),
    ]
    for cmd in sub:
        store.submit(cmd, operator="ann")
    return store


def test_report_counts_the_program_records(db_url: str) -> None:
    store = _store(db_url)
    try:
        rep = report(store, T0, END)
        assert set(rep) >= OLD_KEYS
        reasons = rep["not_served_reasons"]
        assert isinstance(reasons, dict)
        assert reasons["caller_declined"] == 1 and reasons["all_teams_busy"] == 1
        assert reasons["not_recorded"] == 2  # C3, C10
        assert set(reasons) == {r.value for r in UnservedReason} | {"not_recorded"}
        assert sum(reasons.values()) == rep["eligible_not_served"] == 4
        outcomes = rep["outcomes"]
        assert isinstance(outcomes, dict)
        assert outcomes == {o.value: (1 if o is Outcome.REFERRED else 0) for o in Outcome}
        assert rep["needs_outcome"] == 2  # C6, C7
        assert rep["naloxone"] == {"calls": 2, "doses": 4}
        # the whole log: C9's transport and its period count too
        whole = report(store)
        assert whole["outcomes"]["transported_ed"] == 1  # type: ignore[index]
        # the aggregates behind the plots give the same report
        agg = Aggregates.from_store(store, T0 - timedelta(hours=12), END)
        assert agg.report(T0, END) == rep
        agg2 = Aggregates.from_state(store.load_state(), T0 - timedelta(hours=12), END)
        assert agg2.report(T0, END) == rep
    finally:
        store.close()


def test_report_json_from_the_command_line(sqlite_url: str) -> None:
    _store(sqlite_url).close()
    out = subprocess.run(
        [sys.executable, "-m", "console", "report", "--db", sqlite_url, "--json",
         "--from", T0.isoformat(), "--to", END.isoformat()],
        capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    rep = json.loads(out.stdout)
    assert set(rep) >= OLD_KEYS
    assert rep["not_served_reasons"]["not_recorded"] == 2
    assert rep["outcomes"]["referred"] == 1
    assert rep["needs_outcome"] == 2
    assert rep["naloxone"] == {"calls": 2, "doses": 4}
