"""The monthly program report of a 30-day, 15,000-call database, against computing its figures
with plain SQL on the same file in the same run.

The SQL baseline is what a hand-written report would do: counts grouped in SQLite, interval
seconds computed from the stored records' times and sorted in SQL (percentiles picked from the
sorted rows), team time summed with a window function over the team-status events. The report
also infers reasons, builds the hour-of-week coverage and checks every figure against
``report --json``'s code path, so a ratio of a few is expected; the target is the absolute time.
"""

from __future__ import annotations

import math
import sqlite3
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from console.domain.synthetic import synthetic_days
from console.store.read.program import ProgramReport, month_window, program_report
from console.store.store import Store

START = datetime(2026, 11, 1, 6, 0, tzinfo=UTC)

_INTERVALS = {
    "received_to_dispatched": ("received_at", "dispatched_at"),
    "dispatched_to_enroute": ("dispatched_at", "enroute_at"),
    "enroute_to_onscene": ("enroute_at", "onscene_at"),
    "received_to_onscene": ("received_at", "onscene_at"),
    "onscene_to_cleared": ("onscene_at", "cleared_at"),
}


def _pct(v: list[float], q: float) -> float:
    if not v:
        return 0.0
    pos = (len(v) - 1) * q
    lo = math.floor(pos)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (pos - lo)


def sql_figures(path: Path, start: datetime, end: datetime) -> dict[str, Any]:
    """The report's main figures with plain SQL (sqlite3, no ORM, no domain code)."""
    con = sqlite3.connect(path)
    a, b = start.strftime("%Y-%m-%d %H:%M:%S.%f"), end.strftime("%Y-%m-%d %H:%M:%S.%f")
    w = "received_at BETWEEN ? AND ?"
    out: dict[str, Any] = {}
    try:
        for name, expr in (
            ("type", "type"),
            ("hour", "strftime('%H', received_at)"),
            ("weekday", "strftime('%w', received_at)"),
            ("neighborhood", "neighborhood"),
            ("hour_of_week", "strftime('%w-%H', received_at)"),
        ):
            out[name] = dict(
                con.execute(f"SELECT {expr}, count(*) FROM calls WHERE {w} GROUP BY 1", (a, b))
            )
        out["service"] = con.execute(
            "SELECT count(*), sum(unsafe = 0), sum(unsafe = 0 AND team IS NOT NULL),"
            " sum(unsafe = 0 AND team IS NULL AND status IN ('cleared','escalated','cancelled'))"
            f" FROM calls WHERE {w}",
            (a, b),
        ).fetchone()
        out["escalations"] = dict(
            con.execute(
                "SELECT e.target, count(*) FROM escalations e JOIN calls c ON c.id = e.call_id"
                f" WHERE c.{w} GROUP BY 1",
                (a, b),
            )
        )
        for name, (x, y) in _INTERVALS.items():
            d = (
                f"(julianday(json_extract(data, '$.{y}')) - "
                f"julianday(json_extract(data, '$.{x}'))) * 86400.0"
            )
            vals = [
                r[0]
                for r in con.execute(
                    f"SELECT {d} AS d FROM calls WHERE {w} AND d >= 0 ORDER BY d", (a, b)
                )
            ]
            out[name] = (len(vals), _pct(vals, 0.5), _pct(vals, 0.9))
        out["teams"] = con.execute(
            "WITH s AS (SELECT entity_id AS team,"
            " json_extract(payload, '$.team.status') AS status,"
            " max(julianday(coalesce(json_extract(payload, '$.team.status_since'),"
            "   json_extract(payload, '$.team.updated_at'))), julianday(?)) AS t0,"
            " lead(julianday(coalesce(json_extract(payload, '$.team.status_since'),"
            "   json_extract(payload, '$.team.updated_at'))), 1, julianday(?))"
            "   OVER (PARTITION BY entity_id ORDER BY occurred_at, seq) AS t1"
            " FROM events WHERE kind = 'team_status')"
            " SELECT team, sum(CASE WHEN status != 'off_duty' THEN t1 - t0 END),"
            " sum(CASE WHEN status IN ('assigned','en_route','on_scene','transporting',"
            "   'at_destination') THEN t1 - t0 END)"
            " FROM s WHERE t1 > t0 GROUP BY team",
            (start.isoformat(), end.isoformat()),
        ).fetchall()
    finally:
        con.close()
    return out


def check_same_figures(rep: ProgramReport, base: dict[str, Any]) -> None:
    """The baseline computed the report's figures, not others: calls, types, hours of day (UTC),
    service counts, escalations and the intervals agree."""
    t = rep.tables
    received, eligible, served, not_served = base["service"]
    svc = dict(zip(t["service"].column("measure"), t["service"].column("calls"), strict=True))
    got = (svc["received"], svc["eligible"], svc["served"], svc["not_served"])
    if got != (received, eligible, served, not_served):
        raise AssertionError(f"service counts differ: report {got}, SQL {base['service']}")
    types = dict(
        zip(t["volume_by_type"].column("type"), t["volume_by_type"].column("calls"), strict=True)
    )
    if types != base["type"]:
        raise AssertionError(f"calls by type differ: report {types}, SQL {base['type']}")
    hours = {
        f"{h:02d}": n
        for h, n in zip(
            t["volume_by_hour"].column("hour"), t["volume_by_hour"].column("calls"), strict=True
        )
        if n
    }
    if hours != base["hour"]:
        raise AssertionError("calls by hour differ")
    esc = {k: v for k, v in rep.figures["escalations"].items() if v}  # type: ignore[attr-defined]
    if esc != base["escalations"]:
        raise AssertionError(f"escalations differ: report {esc}, SQL {base['escalations']}")
    for row in t["timeliness"].rows:
        n, p50, p90 = base[row[0]]
        if row[1] != n or abs(row[2] - p50) > 1e-3 or abs(row[3] - p90) > 1e-3:
            raise AssertionError(f"{row[0]} differs: report {row[1:4]}, SQL {(n, p50, p90)}")


def bench_program_report(quick: bool) -> list[dict[str, Any]]:
    per_day = 250 if quick else 3_700  # about 500 calls a day: 15,000 in the month
    events = synthetic_days(30, per_day, seed=11, start=START)
    with tempfile.TemporaryDirectory(prefix="rc-bench-") as d:
        path = Path(d) / "month.db"
        store = Store.open(f"sqlite:///{path}")
        for i in range(0, len(events), 5_000):
            store.append(events[i : i + 5_000])
        start, end = month_window("2026-11", UTC)
        t0 = time.perf_counter()
        rep = program_report(store, "2026-11", tz=UTC)
        dt = time.perf_counter() - t0
        store.close()
        t0 = time.perf_counter()
        base = sql_figures(path, start, end)
        base_dt = time.perf_counter() - t0
    calls = int(rep.figures["calls_received"])  # type: ignore[call-overload]
    check_same_figures(rep, base)
    return [
        {
            "name": "program_report",
            "unit": "s",
            "value": round(dt, 3),
            "baseline": "the same figures with plain SQL (sqlite3) on the same file",
            "baseline_value": round(base_dt, 3),
            "ratio": round(dt / base_dt, 3) if base_dt else 0.0,
            "calls": calls,
            "events": len(events),
            "days": 30,
            "target": "value < 10 s for 15,000 calls",
        }
    ]
