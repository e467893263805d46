"""``bench notify``: how soon another console hears of a committed write (PostgreSQL).

A writer process appends one call record at a time; a separate listener process (the way a
second console runs) waits on its :class:`~console.store.notify.ChangeListener`, and on each
notification fetches the changed call rows, as the live picture does. Measured per write:

- ``notify``: from the start of the write to the other process hearing it (includes the write
  transaction itself, so it bounds commit-to-heard from above);
- ``notify_fetch``: the same, to the other process having read the changed rows;
- ``after_commit_ms_p50`` (a field of both): the part after the writer's commit returned.

The baseline is a plain ``SELECT 1`` round trip on the same server in the same run. Target: the
p95 under 100 ms on loopback. The server comes from ``RC_BENCH_PG_URL`` (or ``RC_TEST_PG_URL``),
a role allowed to create databases: the benchmark works in a database of its own and drops it.
The URL reaches the listener process through its environment, never its command line.
"""

from __future__ import annotations

import argparse
import os
import select
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from console.config import redact_url
from console.store.db import StoreError

TARGET_MS = 100.0
_URL_ENV = "RC_BENCH_LISTEN_URL"


def _server_url() -> str:
    url = os.environ.get("RC_BENCH_PG_URL") or os.environ.get("RC_TEST_PG_URL")
    if not url:
        raise StoreError(
            "the notify benchmark needs a PostgreSQL server: set RC_BENCH_PG_URL "
            "(postgresql://user@host/db, password in PGPASSFILE) to a role that may create databases"
        )
    return url


def _pct(values: list[float], q: float) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def _read_line(proc: subprocess.Popen[str], timeout_s: float) -> str:
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], timeout_s)
    if not ready:
        raise StoreError(f"the listener process said nothing for {timeout_s:.0f} s")
    line = proc.stdout.readline()
    if not line:
        raise StoreError(f"the listener process ended (exit code {proc.poll()})")
    return line.strip()


def bench_notify(quick: bool) -> list[dict[str, Any]]:
    import psycopg

    from console.domain.events import CallReceived
    from console.domain.model import Call, CallStatus, CallType
    from console.store.notify import libpq_url
    from console.store.store import Store

    n = 60 if quick else 400
    admin = libpq_url(_server_url())
    name = f"rc_bench_{uuid.uuid4().hex[:10]}"
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as exc:
        raise StoreError(
            f"cannot create a scratch database on {redact_url(admin)}: {exc}".splitlines()[0]
        ) from exc
    url = admin.rsplit("/", 1)[0] + "/" + name
    store: Store | None = None
    proc: subprocess.Popen[str] | None = None
    try:
        store = Store.open(url)
        env = {**os.environ, _URL_ENV: url}
        proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.store_notify", "--listen"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        if _read_line(proc, 30) != "ready":
            raise StoreError("the listener process did not start")

        # Baseline: a plain round trip to the same server.
        rtt: list[float] = []
        with psycopg.connect(url, autocommit=True) as conn:
            for _ in range(n):
                t = time.monotonic()
                conn.execute("SELECT 1").fetchone()
                rtt.append((time.monotonic() - t) * 1000)

        heard: list[float] = []
        fetched: list[float] = []
        write: list[float] = []
        t0 = datetime(2026, 1, 1, tzinfo=UTC)
        for i in range(n):
            at = t0 + timedelta(seconds=i)
            call = Call(f"B-{i:06d}", CallStatus.PENDING, 2, CallType.WELFARE_CHECK, at, at)
            ev = CallReceived(
                source="dispatch", source_id=f"b{i}", occurred_at=at, recorded_at=at, call=call
            )
            start = time.monotonic()
            res = store.append([ev])
            write.append((time.monotonic() - start) * 1000)
            while True:  # the listener reports each seq it heard, in order
                seq_s, t_heard, t_fetched = _read_line(proc, 10).split()
                if int(seq_s) >= res.last_seq:
                    break
            heard.append((float(t_heard) - start) * 1000)
            fetched.append((float(t_fetched) - start) * 1000)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(10)
        if store is not None:
            store.close()
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    base = statistics.median(rtt)
    out = []
    for label, values in (("notify", heard), ("notify_fetch", fetched)):
        p50 = statistics.median(values)
        p95 = _pct(values, 95)
        out.append(
            {
                "name": label,
                "unit": "ms p50",
                "value": p50,
                "baseline": "SELECT 1 round trip p50 (same server, same run)",
                "baseline_value": base,
                "ratio": p50 / base if base > 0 else 0.0,
                "p95_ms": p95,
                "max_ms": max(values),
                "write_ms_p50": statistics.median(write),
                # Time past the writer's own commit returning: the notification's share.
                "after_commit_ms_p50": statistics.median(
                    v - w for v, w in zip(values, write, strict=True)
                ),
                "target_ms": TARGET_MS,
                "meets_target": p95 < TARGET_MS,
                "samples": n,
            }
        )
    return out


def _listen_main() -> int:
    """The second console: hear each write, fetch the changed calls, report the times."""
    import psycopg

    from console.store.notify import ChangeListener

    url = os.environ.get(_URL_ENV)
    if not url:
        print(f"{_URL_ENV} is not set", file=sys.stderr)
        return 2
    listener = ChangeListener(url)
    listener.connect()
    with psycopg.connect(listener.url, autocommit=True) as reader:
        print("ready", flush=True)
        while True:
            for note in listener.wait(60):
                t_heard = time.monotonic()
                if note.changes is not None and note.changes.calls:
                    reader.execute(
                        "SELECT data FROM calls WHERE id = ANY(%s)", (sorted(note.changes.calls),)
                    ).fetchall()
                t_fetched = time.monotonic()
                print(f"{note.seq} {t_heard} {t_fetched}", flush=True)


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--listen", action="store_true", help="run as the listening console")
    args = p.parse_args()
    if not args.listen:
        results = bench_notify(quick=True)
        for r in results:
            print(r)
        raise SystemExit(0)
    try:
        raise SystemExit(_listen_main())
    except KeyboardInterrupt:
        raise SystemExit(0) from None
