"""``responder-console db upgrade|rebuild|check``: the database schema and its health."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from console.cli.common import UserError, add_db, open_store


def register(sub: Any) -> None:
    db = sub.add_parser("db", help="database schema")
    dbsub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    up = dbsub.add_parser("upgrade", help="create or migrate the schema (SQLite or PostgreSQL)")
    add_db(up)
    rb = dbsub.add_parser("rebuild", help="recompute the projections from the event log")
    add_db(rb)
    ck = dbsub.add_parser(
        "check", help="full integrity check: exit 0 when sound, 1 with the problem named"
    )
    add_db(ck)
    db.set_defaults(_run=run)


def run_check(url: str) -> int:
    from console.config import redact_url
    from console.store import StoreError, make_engine
    from console.store.db import RESTORE_HINT, integrity_check, normalize_url

    where = redact_url(normalize_url(url))
    engine = make_engine(url)
    try:
        checked, problems = integrity_check(engine)
    except StoreError as exc:
        raise UserError(str(exc)) from exc
    finally:
        engine.dispose()
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        first = " ".join(problems[0].split())
        if "no Responder Console schema" in first:
            hint = "run `responder-console db upgrade --db URL`"
        elif "newer than this console" in first:
            hint = "upgrade the console"
        else:
            first, hint = f"damaged: {first}", RESTORE_HINT
        print(f"responder-console: database {where}: {first}{more}; {hint}", file=sys.stderr)
        return 1
    print(f"database {where} is sound: checked " + "; ".join(checked))
    return 0


def run(args: argparse.Namespace) -> int:
    from console.store import StoreError, make_engine, upgrade
    from console.store.db import normalize_url

    if args.db_command == "check":
        return run_check(args.db)
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
    store = open_store(args.db)
    n = store.rebuild_projections()
    print(f"projections rebuilt from {n} events")
    return 0
