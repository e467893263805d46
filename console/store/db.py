"""Engines and schema versions.

SQLite (the embedded default) runs in WAL with ``synchronous=NORMAL``: a crash loses no committed
transaction and single-row commits are ~3x faster than the default journal. PostgreSQL is the
same code by URL. The schema is created and migrated by Alembic; a database written by a newer
version of the console is refused, never touched.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError

log = logging.getLogger("console.store")

MIGRATIONS = Path(__file__).with_name("migrations")


class StoreError(RuntimeError):
    """A storage problem a person can act on (bad URL, unreachable server, newer schema...)."""


class SchemaTooNew(StoreError):
    pass


class SchemaMissing(StoreError):
    pass


def normalize_url(url: str) -> str:
    """Accept a bare path for SQLite and plain ``postgresql://`` for psycopg 3."""
    if "://" not in url:
        return f"sqlite:///{Path(url).expanduser().resolve()}"
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def make_engine(url: str) -> Engine:
    url = normalize_url(url)
    try:
        u = make_url(url)
    except ArgumentError as exc:
        raise StoreError(f"database URL {url!r} is not valid: {exc}") from exc
    if u.get_backend_name() == "sqlite":
        if u.database and u.database != ":memory:":
            parent = Path(u.database).parent
            if not parent.exists():
                raise StoreError(f"database folder {parent} does not exist")
        # Pooled: opening a connection re-runs the pragmas, which costs more than a small batch.
        engine = create_engine(
            url,
            pool_size=4,
            max_overflow=8,
            connect_args={"check_same_thread": False, "timeout": 30},
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        # Let SQLAlchemy manage transactions (pysqlite's legacy implicit BEGIN is bypassed).
        event.listen(engine, "connect", lambda c, r: setattr(c, "isolation_level", None))
        event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
        return engine
    if u.get_backend_name() == "postgresql":
        return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)
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


def current_revision(engine: Engine) -> str | None:
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    except OperationalError as exc:
        raise StoreError(f"cannot open the database: {exc.orig}") from exc


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
