"""``responder-console db upgrade|rebuild``: the database schema."""

from __future__ import annotations

import argparse
from typing import Any

from console.cli.common import UserError, add_db, open_store


def register(sub: Any) -> None:
    db = sub.add_parser("db", help="database schema")
    dbsub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    up = dbsub.add_parser("upgrade", help="create or migrate the schema (SQLite or PostgreSQL)")
    add_db(up)
    rb = dbsub.add_parser("rebuild", help="recompute the projections from the event log")
    add_db(rb)
    db.set_defaults(_run=run)


def run(args: argparse.Namespace) -> int:
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
    store = open_store(args.db)
    n = store.rebuild_projections()
    print(f"projections rebuilt from {n} events")
    return 0
