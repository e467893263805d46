"""Command line and composition root.

Every headless command of CONTRACTS.md is here; each loads only what it needs, so ``state`` or
``sync`` on a server never imports Qt. Errors reach the user as one line on stderr with a
non-zero exit, never as a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from console import __version__

log = logging.getLogger("console")

# Subcommands implemented in their own layer: (module, help). Each module offers
# configure_parser(parser) and run(args) -> int.
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "dispatch-sim": (
        "console.sync.simulator",
        "serve the dispatch protocol (simulated or CSV shift)",
    ),
    "sync": ("console.sync.service", "headless sync service: database <-> dispatch"),
    "export-shift": ("console.replay.shiftfile", "write a self-contained shift file for replay"),
    "replay": ("console.ui.replay_cli", "open the console in replay mode"),
    "config": ("console.config", "check the configuration file, or write the commented default"),
}


class UserError(Exception):
    """A problem the user can fix; printed as one line."""


def _parse_time(value: str) -> datetime:
    try:
        d = datetime.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{value!r} is not an ISO 8601 time") from exc
    if d.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{value!r} needs a UTC offset, e.g. {value}+00:00")
    return d


def _add_db(p: argparse.ArgumentParser, required: bool = True) -> None:
    p.add_argument(
        "--db",
        required=required,
        metavar="URL",
        help="database URL (sqlite:///path/to/file.db, postgresql://host/db) or a file path",
    )


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="responder-console",
        description="Supervisor console for civilian crisis-response teams.",
    )
    p.add_argument("--version", action="version", version=f"responder-console {__version__}")
    p.add_argument("--db", metavar="URL", help="database URL or SQLite file path")
    p.add_argument("--dispatch", metavar="ws://HOST:PORT", help="dispatch notifier URL")
    p.add_argument("--config", metavar="FILE", help="configuration file (TOML)")
    p.add_argument("--operator", metavar="NAME", help="operator name (default: the OS user)")
    p.add_argument(
        "--role",
        choices=("supervisor", "trainer", "viewer"),
        default="supervisor",
        help="supervisors act; trainers and viewers see everything and cannot act",
    )
    p.add_argument(
        "--demo",
        action="store_true",
        help="open on an embedded SQLite database with the dispatch simulator on loopback",
    )
    p.add_argument(
        "--smoke-test",
        type=float,
        metavar="SECONDS",
        help="start, wait until the map shows Leaflet and markers, then exit 0 (1 on timeout); "
        "for checking an installation",
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    db = sub.add_parser("db", help="database schema")
    dbsub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    up = dbsub.add_parser("upgrade", help="create or migrate the schema (SQLite or PostgreSQL)")
    _add_db(up)
    rb = dbsub.add_parser("rebuild", help="recompute the projections from the event log")
    _add_db(rb)

    st = sub.add_parser("state", help="the current picture as JSON")
    _add_db(st)
    st.add_argument("--json", action="store_true", help="JSON output (the only format)")

    rp = sub.add_parser("report", help="workload and response metrics as JSON")
    _add_db(rp)
    rp.add_argument("--from", dest="start", type=_parse_time, metavar="ISO")
    rp.add_argument("--to", dest="end", type=_parse_time, metavar="ISO")
    rp.add_argument("--json", action="store_true", help="JSON output (the only format)")

    q = sub.add_parser("quarantine", help="list input that was refused and kept")
    _add_db(q)
    q.add_argument("--limit", type=int, default=50)

    b = sub.add_parser("bench", help="run the benchmarks (ratios against same-run baselines)")
    b.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    b.add_argument("--json", action="store_true", help="JSON output")
    b.add_argument("--only", metavar="NAME", action="append", help="run only these benchmarks")

    for name, (module, help_) in SUBCOMMANDS.items():
        sp = sub.add_parser(name, help=help_)
        try:
            mod = importlib.import_module(module)
        except ImportError:
            sp.set_defaults(_missing=module)
            continue
        mod.configure_parser(sp)
        sp.set_defaults(_run=mod.run)
    return p


def _open_store(url: str, *, create: bool = False) -> Any:
    from console.store import Store, StoreError

    try:
        return Store.open(url, create=create)
    except StoreError as exc:
        raise UserError(str(exc)) from exc


def cmd_db(args: argparse.Namespace) -> int:
    from console.store import StoreError, make_engine, upgrade
    from console.store.db import normalize_url

    if args.db_command == "upgrade":
        try:
            before, after = upgrade(make_engine(args.db))
        except StoreError as exc:
            raise UserError(str(exc)) from exc
        from console.config import redact_url

        where = redact_url(normalize_url(args.db))
        print(
            f"schema {'created' if before is None else 'at'} {after} ({where})"
            if before in (None, after)
            else f"schema migrated {before} -> {after} ({where})"
        )
        return 0
    store = _open_store(args.db)
    n = store.rebuild_projections()
    print(f"projections rebuilt from {n} events")
    return 0


def cmd_state(args: argparse.Namespace) -> int:
    from console.store.views import state_json

    store = _open_store(args.db)
    print(json.dumps(state_json(store.load_state()), indent=2))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from console.store.metrics import report

    store = _open_store(args.db)
    print(json.dumps(report(store, args.start, args.end), indent=2))
    return 0


def cmd_quarantine(args: argparse.Namespace) -> int:
    store = _open_store(args.db)
    items = store.quarantined(args.limit)
    print(
        json.dumps(
            {
                "count": store.quarantine_count(),
                "items": [
                    {
                        "id": i.id,
                        "received_at": i.received_at.isoformat(),
                        "source": i.source,
                        "reason": i.reason,
                        "raw": i.raw[:2000],
                    }
                    for i in items
                ],
            },
            indent=2,
        )
    )
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from console.bench import run_benchmarks

    results = run_benchmarks(quick=args.quick, only=args.only, progress=sys.stderr)
    if args.json:
        print(json.dumps({"benchmarks": results}, indent=2))
    else:
        for r in results:
            print(
                f"{r['name']:<12} {r['value']:>14.1f} {r['unit']:<10} "
                f"baseline {r['baseline_value']:>14.1f}  ratio {r['ratio']:.3f}   ({r['baseline']})"
            )
    return 0


def cmd_gui(args: argparse.Namespace) -> int:
    try:
        gui = importlib.import_module("console.ui.main")
    except ImportError as exc:
        raise UserError(
            f"the desktop console is not available in this installation ({exc})"
        ) from exc
    result: int = gui.run(args)
    return result


HANDLERS: dict[str, Callable[[argparse.Namespace], int]] = {
    "db": cmd_db,
    "state": cmd_state,
    "report": cmd_report,
    "quarantine": cmd_quarantine,
    "bench": cmd_bench,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if getattr(args, "_missing", None):
            raise UserError(f"{args.command} is not available in this installation")
        if getattr(args, "_run", None):
            return int(args._run(args))
        if args.command in HANDLERS:
            return HANDLERS[args.command](args)
        return cmd_gui(args)
    except UserError as exc:
        print(f"responder-console: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug: one line for the user, the traceback in the log
        log.exception("unexpected error")
        print(f"responder-console: unexpected error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
