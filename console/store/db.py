"""Engines and schema versions.

SQLite (the embedded default) runs in WAL with ``synchronous=NORMAL``: a crash of the program loses
no committed transaction and single-row commits are ~3x faster than the default journal. The sync
service, whose commits precede an acknowledgement to dispatch, opens its engine with
``synchronous=FULL`` so that a commit also survives a power cut (``bench`` prints the cost).
PostgreSQL is the same code by URL.

Opening a database runs SQLite's ``quick_check``; a damaged file is refused with what to do
(:class:`StoreCorrupt`). :func:`integrity_check` is the full check of ``db check``. Engines never
put SQL parameters (call content) into exception messages or logs, and the database file and its
``-wal``/``-shm`` companions are readable by their owner only. The schema is created and migrated by Alembic; a database written by a newer
version of the console is refused, never touched.
"""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError

log = logging.getLogger("console.store")

MIGRATIONS = Path(__file__).with_name("migrations")


class StoreError(RuntimeError):
    """A storage problem a person can act on (bad URL, unreachable server, newer schema...)."""


class SchemaTooNew(StoreError):
    pass


class SchemaMissing(StoreError):
    pass


class SchemaTooOld(StoreError):
    """The database's schema is older than this console's: ``db upgrade`` migrates it."""


RESTORE_HINT = 'restore it from the last backup (see docs/operations.md, "Damaged database")'


class StoreCorrupt(StoreError):
    """The database file is damaged: refused, never written."""


class StoreWriteError(StoreError):
    """A write the database refused (read-only, disk full, locked for too long)."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"database cannot be written: {reason}")
        self.reason = reason


def write_failure_reason(exc: BaseException) -> str | None:
    """A short reason when ``exc`` is the database refusing a write; None for anything else.

    Only the driver's own words are kept (never a statement or its parameters).
    """
    if isinstance(exc, StoreWriteError):
        return exc.reason
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    if isinstance(exc, DBAPIError) or type(orig).__module__.startswith(("sqlite3", "psycopg")):
        msg = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
        low = msg.lower()
        for needle, reason in (
            ("readonly", "the database is read-only"),
            ("read-only", "the database is read-only"),
            ("disk is full", "the disk is full"),
            ("no space left", "the disk is full"),
            ("database or disk is full", "the disk is full"),
            ("locked", "the database stayed locked by another program"),
            ("disk i/o error", "disk I/O error"),
            ("malformed", "the database file is damaged"),
            ("not a database", "the database file is damaged"),
        ):
            if needle in low:
                return reason
        return f"{type(orig).__name__}: {msg[:200]}"
    if isinstance(exc, OSError):
        return exc.strerror or type(exc).__name__
    return None


def normalize_url(url: str) -> str:
    """Accept a bare path for SQLite and plain ``postgresql://`` for psycopg 3."""
    if "://" not in url:
        return f"sqlite:///{Path(url).expanduser().resolve()}"
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


SYNCHRONOUS = ("NORMAL", "FULL")
FILE_MODE = 0o600


def _sqlite_pragmas(synchronous: str) -> Any:
    def apply(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA synchronous={synchronous}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=10000")
        cur.close()

    return apply


def sqlite_path(engine: Engine) -> Path | None:
    """The file of a SQLite engine (None for PostgreSQL or an in-memory database)."""
    if engine.dialect.name != "sqlite":
        return None
    db = engine.url.database
    if not db or db == ":memory:" or db.startswith("file:"):
        return None
    return Path(db)


def restrict_files(engine: Engine) -> None:
    """The database file and its ``-wal``/``-shm`` companions: owner read/write only."""
    path = sqlite_path(engine)
    if path is None:
        return
    for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        with contextlib.suppress(FileNotFoundError, PermissionError):
            if p.exists() and (p.stat().st_mode & 0o777) != FILE_MODE:
                os.chmod(p, FILE_MODE)


def make_engine(url: str, *, synchronous: str = "NORMAL") -> Engine:
    url = normalize_url(url)
    try:
        u = make_url(url)
    except ArgumentError as exc:
        raise StoreError(f"database URL {url!r} is not valid: {exc}") from exc
    if synchronous not in SYNCHRONOUS:
        raise ValueError(f"synchronous must be one of {SYNCHRONOUS}, not {synchronous!r}")
    if u.get_backend_name() == "sqlite":
        if u.database and u.database != ":memory:" and not u.database.startswith("file:"):
            parent = Path(u.database).parent
            if not parent.exists():
                raise StoreError(f"database folder {parent} does not exist")
        # Pooled: opening a connection re-runs the pragmas, which costs more than a small batch.
        engine = create_engine(
            url,
            pool_size=4,
            max_overflow=8,
            connect_args={"check_same_thread": False, "timeout": 30},
            hide_parameters=True,
        )
        event.listen(engine, "connect", _sqlite_pragmas(synchronous))
        event.listen(engine, "connect", lambda c, r: restrict_files(engine))
        # Let SQLAlchemy manage transactions (pysqlite's legacy implicit BEGIN is bypassed).
        event.listen(engine, "connect", lambda c, r: setattr(c, "isolation_level", None))
        event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
        return engine
    if u.get_backend_name() == "postgresql":
        return create_engine(
            url, pool_pre_ping=True, pool_size=5, max_overflow=5, hide_parameters=True
        )
    raise StoreError(
        f"unsupported database {u.get_backend_name()!r}: use sqlite:/// or postgresql://"
    )


def _alembic_config(engine: Engine) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def head_revision() -> str:
    script = ScriptDirectory(str(MIGRATIONS))
    head = script.get_current_head()
    assert head is not None
    return head


def _damaged(exc: DBAPIError) -> bool:
    low = str(exc.orig).lower()
    return "malformed" in low or "not a database" in low or "corrupt" in low


def current_revision(engine: Engine) -> str | None:
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    except DBAPIError as exc:
        if _damaged(exc):
            raise StoreCorrupt(
                f"the database file is damaged ({str(exc.orig).splitlines()[0]}): {RESTORE_HINT}"
            ) from exc
        if isinstance(exc, OperationalError):
            raise StoreError(f"cannot open the database: {exc.orig}") from exc
        raise


def _sqlite_check(engine: Engine, pragma: str) -> list[str]:
    """Problems named by ``PRAGMA quick_check`` / ``integrity_check`` (empty when sound)."""
    try:
        with engine.connect() as conn:
            rows = [str(r[0]) for r in conn.exec_driver_sql(f"PRAGMA {pragma}")]
    except DBAPIError as exc:
        if _damaged(exc):
            return [str(exc.orig).splitlines()[0]]
        raise StoreError(f"cannot open the database: {exc.orig}") from exc
    return [] if rows == ["ok"] else rows


def quick_check(engine: Engine) -> None:
    """Refuse a damaged SQLite file (``PRAGMA quick_check``); nothing to do on PostgreSQL."""
    if engine.dialect.name != "sqlite":
        return
    problems = _sqlite_check(engine, "quick_check")
    if problems:
        raise StoreCorrupt(f"the database file is damaged ({problems[0]}): {RESTORE_HINT}")


def integrity_check(engine: Engine) -> tuple[list[str], list[str]]:
    """The full check of ``db check``: (what was checked, problems found; empty when sound)."""
    checked: list[str] = []
    if engine.dialect.name == "sqlite":
        problems = _sqlite_check(engine, "integrity_check")
        checked.append("SQLite integrity_check (every page, index and constraint)")
        if problems:
            return checked, problems
        with engine.connect() as conn:
            fk = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        checked.append("foreign keys")
        if fk:
            return checked, [f"{len(fk)} rows break a foreign key (first in table {fk[0][0]})"]
    else:
        current_revision(engine)  # connects, or says why not
        checked.append("connection")
    rev = current_revision(engine)
    checked.append(f"schema revision {rev}")
    if rev is None:
        return checked, ["the database has no Responder Console schema"]
    known = {s.revision for s in ScriptDirectory(str(MIGRATIONS)).walk_revisions()}
    if rev not in known:
        return checked, [f"the schema ({rev}) is newer than this console knows"]
    counts = []
    with engine.connect() as conn:
        for table in ("events", "calls", "teams", "outbox", "audit"):
            try:
                n = conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            except DBAPIError as exc:
                return checked, [f"table {table} cannot be read: {str(exc.orig).splitlines()[0]}"]
            counts.append(f"{table} {n}")
    checked.append("row counts (" + ", ".join(counts) + ")")
    return checked, []


def check_revision(engine: Engine) -> None:
    """Refuse a database of a newer (unknown) schema; say so when it has none."""
    rev = current_revision(engine)
    if rev is None:
        raise SchemaMissing(
            "the database has no Responder Console schema: run `responder-console db upgrade --db URL`"
        )
    known = {s.revision for s in ScriptDirectory(str(MIGRATIONS)).walk_revisions()}
    if rev not in known:
        raise SchemaTooNew(
            f"the database schema ({rev}) is newer than this console knows; "
            "upgrade the console, the database was left untouched"
        )
    head = head_revision()
    if rev != head:
        raise SchemaTooOld(
            f"the database schema ({rev}) is older than this console's ({head}): "
            "run `responder-console db upgrade --db URL` (the sync service's or an "
            "administrator's login on a shared database)"
        )


def upgrade(engine: Engine, *, grants: bool = False) -> tuple[str | None, str]:
    """Create or migrate the schema to head; returns (before, after) revisions.

    On PostgreSQL the roles' functions and grants (console.store.grants) are (re)installed
    when the schema changed, or always with ``grants`` (``db upgrade``): a console opening an
    up-to-date database changes nothing."""
    before = current_revision(engine)
    if before is not None:
        known = {s.revision for s in ScriptDirectory(str(MIGRATIONS)).walk_revisions()}
        if before not in known:
            raise SchemaTooNew(
                f"the database schema ({before}) is newer than this console knows; "
                "upgrade the console, the database was left untouched"
            )
    command.upgrade(_alembic_config(engine), "head")
    after = head_revision()
    if engine.dialect.name == "postgresql" and (grants or before != after):
        from .grants import install

        install(engine)
    if before != after:
        log.info("schema migrated from %s to %s", before, after)
    return before, after
