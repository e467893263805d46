"""``responder-console db upgrade|rebuild|check|verify|grants``: the database schema, its
health, its integrity and its privileges."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from console.cli.common import UserError, add_db, open_store


def register(sub: Any) -> None:
    db = sub.add_parser("db", help="database schema")
    dbsub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    up = dbsub.add_parser(
        "upgrade",
        help="create or migrate the schema (SQLite or PostgreSQL; on PostgreSQL also the "
        "roles' functions and grants, see db grants)",
    )
    add_db(up)
    rb = dbsub.add_parser("rebuild", help="recompute the projections from the event log")
    add_db(rb)
    ck = dbsub.add_parser(
        "check", help="full integrity check: exit 0 when sound, 1 with the problem named"
    )
    add_db(ck)
    ve = dbsub.add_parser(
        "verify",
        help="check the hash chains of the event log and the audit",
        description="Recompute the hash chain of the event log and of the audit (each row's "
        "SHA-256 over the row before's hash and its own content) and compare it with the stored "
        "one. Exit 0 with 'verified N events, M audit rows' when both hold; exit 1 with one "
        "line naming the first row that breaks a chain (a row altered, or one before it "
        "deleted or inserted); exit 2 when the database cannot be read.",
    )
    add_db(ve)
    ve.add_argument(
        "--latest",
        type=int,
        metavar="N",
        help="check only the latest N rows of each chain (default: all)",
    )
    gr = dbsub.add_parser(
        "grants",
        help="print the PostgreSQL roles and grants the console needs (db upgrade installs them)",
        description="Print the SQL of least privilege on PostgreSQL: the NOLOGIN group roles "
        "rc_supervisor, rc_trainer, rc_viewer and rc_sync (an administrator with CREATEROLE "
        "creates them once per server), the functions through which supervisors submit "
        "commands and the sync service records dispatch's answers (they record the login "
        "themselves), and the grants: viewers and trainers read everything but person "
        "details, nobody may update or delete the event log or the audit. `db upgrade` "
        "installs the same as the schema's owner (and creates the roles when it may). "
        'Each person then logs in as their own role, e.g. CREATE ROLE "j.rivera" LOGIN; '
        'GRANT rc_supervisor TO "j.rivera"; Exit 0; 2 when --db is not PostgreSQL.',
    )
    add_db(gr)
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
            before, after = upgrade(make_engine(args.db), grants=True)
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
    if args.db_command == "verify":
        return _verify(args)
    if args.db_command == "grants":
        if not normalize_url(args.db).startswith("postgresql"):
            raise UserError("db grants is for PostgreSQL; an SQLite database has no roles")
        from console.store.grants import script

        print(script(), end="")
        return 0
    store = open_store(args.db)
    n = store.rebuild_projections()
    print(f"projections rebuilt from {n} events")
    return 0


def _verify(args: argparse.Namespace) -> int:
    import sys

    from console.store.chain import verify

    if args.latest is not None and args.latest < 1:
        raise UserError("--latest must be at least 1")
    store = open_store(args.db)
    try:
        verdict = verify(store.engine, latest=args.latest)
    finally:
        store.close()
    if not verdict.ok:
        print(f"responder-console: integrity check failed: {verdict.broken}", file=sys.stderr)
        return 1
    print(f"verified {verdict.events} events, {verdict.audit_rows} audit rows")
    return 0
