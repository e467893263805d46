"""The program's monthly report: its figures against ``report --json`` and against what a real
CAD export gives, and the reasons it infers for eligible calls no team took."""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from console.domain.events import CallReceived, CallUpdated, Event, TeamStatusChanged
from console.domain.model import (
    Call,
    CallStatus,
    CallType,
    Capabilities,
    SafetyFlag,
    Team,
    TeamStatus,
)
from console.domain.projection import fold
from console.domain.rules import ServiceHours
from console.domain.synthetic import synthetic_days
from console.store import Store
from console.store.read.metrics import report
from console.store.read.program import (
    TeamTimeline,
    month_window,
    program_report,
    unserved_reason_at_receipt,
    write_csvs,
)

NY = ZoneInfo("America/New_York")
T = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)
DAY = ServiceHours(time(8, 0), time(20, 0), UTC)


def _call(cid: str = "C-1", at: datetime = T, **kw: Any) -> Call:
    return Call(cid, CallStatus.CANCELLED, 2, CallType.MENTAL_HEALTH, at, at, **kw)


def _team(tid: str, status: TeamStatus, at: datetime = T - timedelta(hours=1), **caps: Any) -> Team:
    return Team(tid, status, at, "CRT", at, capabilities=Capabilities(**caps))


# -- reasons, constructed ------------------------------------------------------------------------


def test_a_call_outside_program_hours_is_said_to_be() -> None:
    night = T.replace(hour=23)
    free = [_team("A", TeamStatus.AVAILABLE)]
    assert unserved_reason_at_receipt(_call(at=night), free, DAY) == "outside_program_hours"
    assert unserved_reason_at_receipt(_call(at=T), free, DAY) == "not_recorded"
    # A program open around the clock ("00:00" to "24:00") has no outside, even at 23:59:59.5.
    allday = ServiceHours(time(0, 0), time(23, 59, 59), UTC)
    late = T.replace(hour=23, minute=59, second=59, microsecond=500_000)
    assert unserved_reason_at_receipt(_call(at=late), free, allday) == "not_recorded"


def test_no_team_on_duty_when_every_team_is_off_or_out_of_service() -> None:
    # No team on the board at all proves nothing (the log may not have reached them yet).
    assert unserved_reason_at_receipt(_call(), [], DAY) == "not_recorded"
    teams = [_team("A", TeamStatus.OFF_DUTY), _team("B", TeamStatus.OUT_OF_SERVICE)]
    assert unserved_reason_at_receipt(_call(), teams, DAY) == "no_team_on_duty"


def test_all_teams_busy_only_when_every_team_on_duty_is_busy() -> None:
    busy = [_team("A", TeamStatus.ON_SCENE), _team("B", TeamStatus.EN_ROUTE)]
    off = [_team("C", TeamStatus.OFF_DUTY)]
    assert unserved_reason_at_receipt(_call(), busy + off, DAY) == "all_teams_busy"
    free = [_team("D", TeamStatus.AVAILABLE)]
    assert unserved_reason_at_receipt(_call(), busy + free, DAY) == "not_recorded"


@pytest.mark.parametrize(
    ("need", "caps_lacking", "caps_having"),
    [
        ({"juvenile": True}, {}, {"juvenile_certified": True}),
        ({"language": "es"}, {"languages": ("en",)}, {"languages": ("en", "es")}),
        (
            {"transport_needed": True, "transport_seats": 3},
            {"vehicle_seats": 2},
            {"vehicle_seats": 4},
        ),
        ({"type": CallType.OVERDOSE}, {"narcan": False}, {"narcan": True}),
    ],
)
def test_no_capable_team_when_no_free_team_has_what_the_call_needs(
    need: dict[str, Any], caps_lacking: dict[str, Any], caps_having: dict[str, Any]
) -> None:
    call = replace(_call(), **need)
    lacking = [_team("A", TeamStatus.AVAILABLE, **caps_lacking)]
    having = _team("B", TeamStatus.AVAILABLE, **caps_having)
    busy_having = _team("C", TeamStatus.ON_SCENE, **caps_having)
    assert unserved_reason_at_receipt(call, lacking, DAY) == "no_capable_team"
    # A team that had it was busy: busy, as the console records it when the call closes.
    assert unserved_reason_at_receipt(call, [*lacking, busy_having], DAY) == "all_teams_busy"
    assert unserved_reason_at_receipt(call, [*lacking, having], DAY) == "not_recorded"


def test_the_timeline_gives_each_teams_record_in_force_at_an_instant() -> None:
    a1 = _team("A", TeamStatus.AVAILABLE, T - timedelta(hours=2))
    a2 = _team("A", TeamStatus.ON_SCENE, T - timedelta(minutes=5))
    a3 = _team("A", TeamStatus.AVAILABLE, T + timedelta(minutes=30))
    b1 = _team("B", TeamStatus.OFF_DUTY, T + timedelta(minutes=1))
    tl = TeamTimeline({"A": [a1, a2, a3], "B": [b1]})
    assert tl.at(T) == [a2]  # B was not on the board yet
    assert tl.at(T - timedelta(hours=1)) == [a1]
    assert tl.at(T + timedelta(hours=1)) == [a3, b1]


def _ev(kind: type[Event], sid: str, at: datetime, **kw: Any) -> Event:
    return kind(source="dispatch", source_id=sid, occurred_at=at, recorded_at=at, **kw)


def test_reasons_are_judged_from_the_teams_history_at_each_calls_receipt(tmp_path: Path) -> None:
    """Two teams; the log says what each was doing when each call came in, though at the end
    both are free. The report's reasons follow the log, not the end state."""
    t0 = datetime(2026, 11, 10, 8, 0, tzinfo=UTC)
    ev: list[Event] = []
    n = 0

    def team(tid: str, status: TeamStatus, at: datetime, **caps: Any) -> None:
        nonlocal n
        n += 1
        t = Team(tid, status, at, "CRT", at, capabilities=Capabilities(**caps))
        ev.append(_ev(TeamStatusChanged, f"t{n}", at, team=t))

    def unserved_call(cid: str, at: datetime, **kw: Any) -> None:
        c = Call(cid, CallStatus.PENDING, 2, CallType.WELFARE_CHECK, at, at, **kw)
        ev.append(_ev(CallReceived, f"{cid}-1", at, call=c))
        end = at + timedelta(minutes=5)
        ev.append(
            _ev(
                CallUpdated,
                f"{cid}-2",
                end,
                call=replace(c, status=CallStatus.CANCELLED, updated_at=end, version=2),
            )
        )

    team("A", TeamStatus.AVAILABLE, t0)
    team("B", TeamStatus.OFF_DUTY, t0)
    team("A", TeamStatus.ON_SCENE, t0 + timedelta(hours=1))
    unserved_call("BUSY", t0 + timedelta(hours=1, minutes=10))  # A busy, B off: all busy
    team("B", TeamStatus.AVAILABLE, t0 + timedelta(hours=2), juvenile_certified=False)
    unserved_call("YOUTH", t0 + timedelta(hours=2, minutes=10), juvenile=True)  # B can't
    team("A", TeamStatus.AVAILABLE, t0 + timedelta(hours=3))
    unserved_call("FREE", t0 + timedelta(hours=3, minutes=10))  # both free: the log can't say
    unserved_call("NIGHT", t0 + timedelta(hours=14))  # 22:00 UTC, after program hours
    team("A", TeamStatus.OFF_DUTY, t0 + timedelta(hours=15))
    team("B", TeamStatus.OFF_DUTY, t0 + timedelta(hours=15))
    unserved_call("NOBODY", t0 + timedelta(hours=15, minutes=30))
    # A call with a safety flag is not eligible, so it gets no reason.
    unserved_call("UNSAFE", t0 + timedelta(hours=1, minutes=20), safety_flags=(SafetyFlag.WEAPON,))
    team("A", TeamStatus.AVAILABLE, t0 + timedelta(hours=20))
    team("B", TeamStatus.AVAILABLE, t0 + timedelta(hours=20))
    store = Store.open(f"sqlite:///{tmp_path / 'r.db'}")
    store.append(ev)
    hours = ServiceHours(time(7, 0), time(21, 0), UTC)
    rep = program_report(store, "2026-11", tz=UTC, hours=hours)
    t = rep.table("unserved_reasons")
    got = {r[0]: (r[2], r[3]) for r in t.rows}
    assert got["all_teams_busy"] == (1, 1)
    assert got["no_capable_team"] == (1, 1)
    assert got["not_recorded"] == (1, 0)
    # NIGHT, and NOBODY too: 23:30 UTC is outside the hours, and that reason comes first.
    assert got["outside_program_hours"] == (2, 2)
    assert got["no_team_on_duty"] == (0, 0)
    assert sum(r[2] for r in t.rows) == rep.figures["eligible_not_served"] == 5
    rep2 = program_report(store, "2026-11", tz=UTC, hours=ServiceHours(time(0), time(23, 59, 59)))
    got2 = {r[0]: r[2] for r in rep2.table("unserved_reasons").rows}
    assert got2["no_team_on_duty"] == 1 and got2["outside_program_hours"] == 0
    assert got2["not_recorded"] == 2  # FREE and NIGHT (both teams free at 22:00)
    store.close()


# -- a generated month ---------------------------------------------------------------------------


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_a_generated_month_equals_report_json_and_its_csvs_equal_the_report(
    db_url: str, tmp_path: Path
) -> None:
    # From three days before the month: calls and team records before it must not count.
    events = synthetic_days(33, 600, seed=5, start=datetime(2026, 10, 29, 7, tzinfo=UTC))
    store = Store.open(db_url)
    for i in range(0, len(events), 4000):
        store.append(events[i : i + 4000])
    targets = {"received_to_dispatched": 300.0, "received_to_onscene": 1200.0}
    rep = program_report(store, "2026-11", tz=NY, targets=targets, scheduled_teams=10)
    start, end = month_window("2026-11", NY)
    assert start == datetime(2026, 11, 1, tzinfo=NY)
    assert end + timedelta(microseconds=1) == datetime(2026, 12, 1, tzinfo=NY)
    js = report(store, start, end)
    assert rep.figures == js
    calls = [c for c in fold(events).calls.values() if start <= c.received_at <= end]
    assert 2000 < len(calls) == js["calls_received"]

    t = rep.tables
    # Volume: every breakdown adds up to the calls received, and equals an independent count.
    for name in ("volume_by_source", "volume_by_type", "volume_by_hour", "volume_by_weekday"):
        assert sum(t[name].column("calls")) == len(calls), name
    assert dict(
        zip(t["volume_by_type"].column("type"), t["volume_by_type"].column("calls"), strict=True)
    ) == {k.value: v for k, v in Counter(c.type for c in calls).items()}
    hours = Counter(c.received_at.astimezone(NY).hour for c in calls)
    assert t["volume_by_hour"].column("calls") == [hours[h] for h in range(24)]
    service = dict(zip(t["service"].column("measure"), t["service"].column("calls"), strict=True))
    assert service["not_served"] == js["eligible_not_served"]
    assert service["eligible"] == sum(1 for c in calls if not c.safety_flags)
    assert sum(t["unserved_reasons"].column("calls")) == js["eligible_not_served"]
    # Timeliness is report --json's, with the share within each target.
    iv = js["intervals_s"]
    for row in t["timeliness"].rows:
        name, n, p50, p90, mean, target, within = row
        assert (n, p50, p90, mean) == tuple(iv[name][k] for k in ("n", "p50", "p90", "mean"))
        if name == "received_to_dispatched":
            vals = [
                (c.dispatched_at - c.received_at).total_seconds()
                for c in calls
                if c.dispatched_at and c.dispatched_at >= c.received_at
            ]
            assert p50 == pytest.approx(float(np.percentile(vals, 50)))
            assert p90 == pytest.approx(float(np.percentile(vals, 90)))
            assert target == 300.0
            assert within == pytest.approx(np.mean(np.array(vals) <= 300), abs=1e-4)
    esc = dict(
        zip(*(t["escalations_by_target"].column(k) for k in ("target", "calls")), strict=True)
    )
    assert esc == js["escalations"]
    util = t["team_utilization"]
    assert (
        dict(zip(util.column("team"), util.column("utilisation"), strict=True))
        == js["team_utilization"]
    )
    for staffed, busy, u in zip(
        util.column("staffed_hours"),
        util.column("busy_hours"),
        util.column("utilisation"),
        strict=True,
    ):
        assert busy / staffed == pytest.approx(u, abs=1e-3)
    wk = t["demand_by_hour_of_week"]
    assert sum(wk.column("calls")) == len(calls)
    assert sum(wk.column("hours_in_month")) == 30 * 24 + 1  # the clocks went back on 1 Nov
    cov = dict(zip(t["coverage"].column("measure"), t["coverage"].column("value"), strict=True))
    assert cov["scheduled_team_hours"] == 10 * (30 * 24 + 1)
    assert cov["staffed_team_hours"] == pytest.approx(sum(util.column("staffed_hours")), abs=0.1)

    # The CSVs hold the same figures, and the data dictionary describes every column.
    files = write_csvs(rep, tmp_path / "csv")
    names = {p.name for p in files}
    assert names == {f"{k}.csv" for k in t} | {"data_dictionary.csv"}
    dd = _csv_rows(tmp_path / "csv" / "data_dictionary.csv")
    described = {(r["file"], r["column"]) for r in dd}
    for p in files:
        header = next(csv.reader(p.open(encoding="utf-8")))
        assert all((p.name, col) in described for col in header), p.name
    rows = _csv_rows(tmp_path / "csv" / "timeliness.csv")
    for r in rows:
        s = iv[r["interval"]]
        assert int(r["n"]) == s["n"]
        assert float(r["median_s"]) == s["p50"] and float(r["p90_s"]) == s["p90"]
    store.close()


# -- the real CAD week ---------------------------------------------------------------------------

CSV_REL = Path("cad") / "decc_weekly" / "decc_week48_cad_pseudonymized.csv"
MISSING = {"", "NULL"}


def _t(raw: str) -> datetime | None:
    raw = raw.strip()
    return None if raw in MISSING else datetime.fromisoformat(raw).replace(tzinfo=NY)


def test_the_real_cad_week_gives_the_counts_and_percentiles_of_the_export(
    shared_data: Path, tmp_path: Path
) -> None:
    path = shared_data / CSV_REL
    if not path.is_file():
        pytest.skip(f"real CAD export not found at {path}")
    with path.open(newline="", encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    calls = []
    for n, row in enumerate(rows):
        rec = _t(row["Incident_Start_Time"]) or _t(row["Response_Date"])
        assert rec is not None
        cleared = _t(row["Incident_First_Close_Time"]) or _t(row["Final_Closed_Time"])
        calls.append(
            Call(
                f"CAD-{n:05d}",
                CallStatus.CLEARED,
                2,
                CallType.WELFARE_CHECK,
                rec,
                cleared or rec,
                dispatched_at=_t(row["Incident_Dispatch_Time"]),
                onscene_at=_t(row["Incident_Arrival_Time"]),
                cleared_at=cleared,
                team=f"U-{n % 40}",
                teams=(f"U-{n % 40}",),
            )
        )
    store = Store.open(f"sqlite:///{tmp_path / 'cad.db'}")
    store.append([_ev(CallReceived, f"csv-{c.id}", c.updated_at, call=c) for c in calls])
    rep = program_report(store, "2025-11", tz=NY)
    start, end = month_window("2025-11", NY)
    assert rep.figures == report(store, start, end)

    # Independently of the console's code: numpy over the export's own columns.
    def secs(col: str) -> np.ndarray:
        return np.array(
            [np.nan if (v := _t(r[col])) is None else v.timestamp() for r in rows], np.float64
        )

    rec = np.array(
        [(_t(r["Incident_Start_Time"]) or _t(r["Response_Date"])).timestamp() for r in rows]  # type: ignore[union-attr]
    )
    assert rep.figures["calls_received"] == len(rows) == 1493
    # The export's own Hour and DOW columns (local time of receipt).
    hours = Counter(int(r["Hour"]) for r in rows)
    assert rep.table("volume_by_hour").column("calls") == [hours[h] for h in range(24)]
    days = Counter(r["DOW"] for r in rows)
    wd = rep.table("volume_by_weekday")
    assert dict(zip(wd.column("weekday"), wd.column("calls"), strict=True)) == {
        d.title(): days[d] for d in ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
    }
    tl = {r[0]: r for r in rep.table("timeliness").rows}
    for name, col in (
        ("received_to_dispatched", "Incident_Dispatch_Time"),
        ("received_to_onscene", "Incident_Arrival_Time"),
    ):
        d = secs(col) - rec
        ok = d[~np.isnan(d) & (d >= 0)]
        _, n, p50, p90, *_ = tl[name]
        assert n == ok.size
        assert p50 == pytest.approx(np.percentile(ok, 50), abs=1e-3)
        assert p90 == pytest.approx(np.percentile(ok, 90), abs=1e-3)
    store.close()


def test_the_benchmark_computes_the_same_figures_with_plain_sql() -> None:
    """The quick benchmark's SQL baseline is checked against the report (counts by type and
    hour, service counts, escalations, every interval's n, median and 90th percentile)."""
    from benchmarks.program_report import bench_program_report

    (res,) = bench_program_report(quick=True)
    assert res["name"] == "program_report" and "error" not in res
    assert res["calls"] > 500 and res["value"] > 0 and res["baseline_value"] > 0


def test_safety_counts_backup_requests_once_and_police_involvement(tmp_path: Path) -> None:
    from console.domain.events import Alert, AlertKind, AlertRaised, CallEscalated, Severity
    from console.domain.model import EscalationTarget

    t0 = datetime(2026, 11, 5, 14, 0, tzinfo=UTC)
    ev: list[Event] = []
    targets = [EscalationTarget.POLICE, EscalationTarget.CO_RESPONSE, EscalationTarget.EMS, None]
    for i, target in enumerate(targets):
        at = t0 + timedelta(minutes=i)
        c = Call(f"S-{i}", CallStatus.PENDING, 2, CallType.MENTAL_HEALTH, at, at)
        ev.append(_ev(CallReceived, f"s{i}", at, call=c))
        if target is not None:
            done = replace(
                c, status=CallStatus.ESCALATED, updated_at=at, version=2, escalated_to=target
            )
            ev.append(_ev(CallUpdated, f"s{i}u", at + timedelta(seconds=1), call=done))
            ev.append(
                _ev(CallEscalated, f"s{i}e", at + timedelta(seconds=1), call_id=c.id, target=target)
            )

    def alert(aid: str, kind: AlertKind, at: datetime) -> Alert:
        return Alert(aid, kind, Severity.CRITICAL, "CRT-1", "backup", at)

    backup = alert("backup_request:CRT-1", AlertKind.BACKUP_REQUEST, t0)
    ev.append(_ev(AlertRaised, "a1", t0, alert=backup))
    ev.append(_ev(AlertRaised, "a1-again", t0 + timedelta(seconds=5), alert=backup))
    ev.append(
        _ev(
            AlertRaised, "a2", t0, alert=alert("pending_overdue:S-3", AlertKind.PENDING_OVERDUE, t0)
        )
    )
    # A request in October is not November's.
    oct_ = datetime(2026, 10, 20, tzinfo=UTC)
    ev.append(
        _ev(
            AlertRaised,
            "a3",
            oct_,
            alert=alert("backup_request:CRT-2", AlertKind.BACKUP_REQUEST, oct_),
        )
    )
    store = Store.open(f"sqlite:///{tmp_path / 's.db'}")
    store.append(ev)
    rep = program_report(store, "2026-11", tz=UTC)
    safety = dict(rep.table("safety").rows)
    assert safety["backup_requests"] == 1
    assert safety["co_responses"] == 1
    assert safety["escalations"] == 3
    assert safety["calls_with_police_involvement"] == 2  # police and co-response
    assert safety["share_with_police_involvement"] == 0.5
    store.close()


def test_the_programs_own_records_reach_the_report(db_url: str) -> None:
    from console.domain.clock import ManualClock
    from console.domain.commands import (
        CloseFollowUp,
        GiveUnservedReason,
        OpenFollowUp,
        RecordFollowUpAttempt,
        RecordNaloxone,
        RecordOutcome,
    )
    from console.domain.events import UnservedReasonGiven
    from console.domain.program import FollowUpEnd, Outcome, UnservedReason

    t0 = datetime(2026, 11, 20, 14, 0, tzinfo=UTC)
    store = Store.open(db_url, clock=ManualClock(t0 + timedelta(hours=5)))
    ev: list[Event] = []
    for i, cid in enumerate("ABCDEFG"):
        at = t0 + timedelta(minutes=i)
        c = Call(cid, CallStatus.PENDING, 2, CallType.OVERDOSE, at, at)
        ev.append(_ev(CallReceived, f"{cid}1", at, call=c))
        end = at + timedelta(minutes=30)
        if cid in "ABCG":  # a team went, the call was cleared
            done = replace(
                c,
                status=CallStatus.CLEARED,
                team="CRT-1",
                teams=("CRT-1",),
                dispatched_at=at,
                cleared_at=end,
                updated_at=end,
                version=2,
            )
        else:  # eligible, no team, cancelled
            done = replace(c, status=CallStatus.CANCELLED, updated_at=end, version=2)
        ev.append(_ev(CallUpdated, f"{cid}2", end, call=done))
    ev.append(
        UnservedReasonGiven(
            source="console",
            source_id="inf-E",
            occurred_at=t0 + timedelta(hours=1),
            recorded_at=t0 + timedelta(hours=1),
            call_id="E",
            reason=UnservedReason.DUPLICATE,
            operator="console",
            inferred=True,
        )
    )
    store.append(ev)

    def do(cmd: Any) -> Any:
        return store.submit(cmd, operator="ann")

    do(
        RecordOutcome(
            call_id="A", outcome=Outcome.TRANSPORTED_ED, destination_kind="emergency_department"
        )
    )
    do(
        RecordOutcome(
            call_id="B",
            outcome=Outcome.TRANSPORTED_COMMUNITY,
            destination_kind="Mary's place, 12 Elm Street",
        )
    )
    do(RecordOutcome(call_id="G", outcome=Outcome.POLICE_INVOLVED))
    do(RecordNaloxone(call_id="A", doses=2, given_at=t0 + timedelta(minutes=5)))
    do(RecordNaloxone(call_id="A", doses=1, given_at=t0 + timedelta(minutes=9)))
    do(GiveUnservedReason(call_id="D", unserved=UnservedReason.CALLER_DECLINED))
    fa = next(
        iter(
            do(
                OpenFollowUp(call_id="A", owner="CRT", due_at=t0 + timedelta(days=2))
            ).changes.program
        )
    )[1]
    do(RecordFollowUpAttempt(followup_id=fa, channel="phone", result="no_answer"))
    do(RecordFollowUpAttempt(followup_id=fa, channel="phone", result="reached"))
    do(CloseFollowUp(followup_id=fa, end=FollowUpEnd.CONNECTED))
    do(OpenFollowUp(call_id="B", owner="CRT", due_at=t0 + timedelta(days=2)))

    rep = program_report(store, "2026-11", tz=UTC)
    t = rep.tables
    outcomes = {r[0]: r[2] for r in t["outcomes"].rows}
    assert outcomes["transported_ed"] == outcomes["transported_community"] == 1
    assert outcomes["police_involved"] == 1 and outcomes["referred"] == 0
    assert outcomes["needs_outcome"] == 1  # C
    assert sorted(map(tuple, t["transports"].rows)) == [
        ("transported_community", "(other)", 1),  # free text is never shown
        ("transported_ed", "emergency_department", 1),
    ]
    fu = dict(t["followups"].rows)
    assert (fu["followups_opened"], fu["followups_attempted"], fu["followup_attempts"]) == (2, 1, 2)
    assert (fu["followups_connected"], fu["followups_open"], fu["followups_declined"]) == (1, 1, 0)
    assert (fu["calls_with_naloxone"], fu["naloxone_doses"]) == (1, 3)
    reasons = {r[0]: (r[2], r[3]) for r in t["unserved_reasons"].rows}
    assert reasons["caller_declined"] == (1, 0)  # the supervisor's, over the log's
    assert reasons["duplicate"] == (1, 1)  # recorded by the console from the log
    # F: no team was ever on the board, which proves nothing (nor does it at the close)
    assert reasons["no_team_on_duty"] == (0, 0) and reasons["not_recorded"][0] >= 1
    safety = dict(t["safety"].rows)
    assert safety["calls_with_police_involvement"] == 1
    store.close()


def test_waits_at_destinations_by_the_sites_name_and_never_the_cads_text(tmp_path: Path) -> None:
    from console.domain.destinations import Destination, DestinationKind, DestinationSet

    t0 = datetime(2026, 11, 10, 20, 0, tzinfo=UTC)
    csu = Destination(
        "csu", "North Crisis Stabilization", DestinationKind.CRISIS_STABILIZATION, 41.8, -72.7
    )
    site = DestinationSet((csu,))
    store = Store.open(f"sqlite:///{tmp_path / 'w.db'}")
    ev: list[Event] = []
    waits = {
        "CRT-1": ("csu", 30),
        "CRT-2": ("North crisis stabilization", 50),
        "CRT-3": ("Mary Roe's flat, 12 Elm St", 20),
    }
    for n, (tid, (where, minutes)) in enumerate(waits.items()):
        at = t0 + timedelta(minutes=n)
        there = Team(tid, TeamStatus.AT_DESTINATION, at, "CRT", at, destination=where)
        back = at + timedelta(minutes=minutes)
        ev += [
            _ev(TeamStatusChanged, f"{tid}a", at, team=there),
            _ev(
                TeamStatusChanged,
                f"{tid}b",
                back,
                team=Team(tid, TeamStatus.AVAILABLE, back, "CRT", back),
            ),
        ]
    store.append(ev)
    rep = program_report(store, "2026-11", tz=UTC, destinations=site)
    rows = {r[0]: r[1:] for r in rep.tables["destination_waits"].rows}
    assert rows == {
        "North Crisis Stabilization": [2, 40.0, 48.0, 1.33],
        "(other)": [1, 20.0, 20.0, 0.33],
    }
    out = tmp_path / "csv"
    write_csvs(rep, out)
    assert not any("Roe" in p.read_text() or "Elm" in p.read_text() for p in out.iterdir())
