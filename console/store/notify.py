"""Change notification between processes sharing one PostgreSQL database (LISTEN/NOTIFY).

Every committing write of the store sends, inside its own transaction, one notification on
:data:`CHANNEL`: the new last event seq, the seq it followed, and what changed (a compact JSON of
:class:`~console.store.Changes`). PostgreSQL delivers it only when the transaction commits, and
notifications of different transactions in commit order; the store serialises event appends,
so ``after`` of each notification is the ``seq`` of the one before. A listener that sees a jump
knows it missed something and reloads everything.

:class:`ChangeListener` is the consoles' side: a dedicated autocommit psycopg 3 connection that
never blocks (``fileno()`` for a select loop or a ``QSocketNotifier``, then ``poll()``).
Qt-free: the headless tools and tests use it as it is.
"""

from __future__ import annotations

import contextlib
import json
import logging
import select
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, text

from console.config import redact_url
from console.domain.changes import Changes

from .db import StoreError

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger("console.store.notify")

CHANNEL = "rc_changes"
"""The one channel every store write notifies and every console listens on."""

MAX_PAYLOAD = 7900
"""PostgreSQL refuses NOTIFY payloads of 8000 bytes or more; above this, say "everything"."""

_FIELDS = ("calls", "teams", "positions", "commands", "alerts", "notes", "destinations")


class ListenerLost(StoreError):
    """The listening connection is gone (server restart, network): reconnect, then reload."""


@dataclass(frozen=True, slots=True)
class ChangeNote:
    """One committed write as a listener hears it."""

    seq: int
    """The last event seq once the write committed."""
    after: int
    """The last event seq before the write: equal to the previous note's ``seq`` unless missed."""
    changes: Changes | None
    """What changed (``seq`` set); None when everything may have changed (a big batch, a
    rebuild, a reconnect or a missed notification): reload the whole picture."""


# -- the writer's side -------------------------------------------------------------------------


def encode(changes: Changes | None, after: int, seq: int) -> str:
    """The notification payload: compact JSON, ids sorted, empty fields left out."""
    body: dict[str, Any] = {"seq": seq, "after": after}
    if changes is None:
        body["all"] = True
        return json.dumps(body, separators=(",", ":"))
    for name in _FIELDS:
        ids = getattr(changes, name)
        if ids:
            body[name] = sorted(ids)
    if changes.program:
        body["program"] = sorted(f"{k}:{i}" for k, i in changes.program)
    out = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
    if len(out.encode("utf-8")) > MAX_PAYLOAD:
        return json.dumps({"seq": seq, "after": after, "all": True}, separators=(",", ":"))
    return out


def decode(payload: str) -> ChangeNote:
    """Parse a payload of :func:`encode`; anything unreadable becomes "everything changed"."""
    try:
        body = json.loads(payload)
        seq = int(body["seq"])
        after = int(body.get("after", seq))
    except (ValueError, TypeError, KeyError) as exc:
        log.warning("unreadable change notification %.200r: %s", payload, exc)
        return ChangeNote(0, 0, None)
    if body.get("all"):
        return ChangeNote(seq, after, None)
    sets = {name: frozenset(str(i) for i in body.get(name, ())) for name in _FIELDS}
    program = frozenset(
        (k, i) for p in body.get("program", ()) for k, _, i in [str(p).partition(":")]
    )
    return ChangeNote(seq, after, Changes(**sets, seq=seq, program=program))


def publish(conn: Connection, changes: Changes | None, after: int, seq: int) -> None:
    """Queue the notification in ``conn``'s transaction (PostgreSQL only; a no-op on SQLite)."""
    if conn.dialect.name != "postgresql":
        return
    conn.execute(
        text("SELECT pg_notify(:channel, :payload)"),
        {"channel": CHANNEL, "payload": encode(changes, after, seq)},
    )


# -- the listener's side -----------------------------------------------------------------------


def libpq_url(url: str) -> str:
    """A SQLAlchemy-style PostgreSQL URL as libpq takes it (``postgresql://...``)."""
    if "://" not in url:
        raise StoreError(f"{url!r} is not a PostgreSQL URL; change notification needs PostgreSQL")
    scheme, rest = url.split("://", 1)
    if scheme.split("+", 1)[0] not in ("postgresql", "postgres"):
        raise StoreError(
            f"{redact_url(url)} is not a PostgreSQL URL; change notification needs PostgreSQL"
        )
    return "postgresql://" + rest


class ChangeListener:
    """LISTEN on :data:`CHANNEL` without ever blocking the caller.

    Use :meth:`connect`, then watch :meth:`fileno` for readability and call :meth:`poll`.
    Connection settings come from the URL and libpq's own environment (``PGPASSFILE``,
    ``PGSSLMODE``...); a password is never put in a message.
    """

    def __init__(self, url: str, *, channel: str = CHANNEL, connect_timeout_s: int = 5) -> None:
        self.url = libpq_url(url)
        self.channel = channel
        self.connect_timeout_s = connect_timeout_s
        self.last_seq = 0
        """The highest seq heard (or read at connect): the base for gap detection."""
        self._conn: psycopg.Connection[Any] | None = None

    @property
    def connected(self) -> bool:
        return self._conn is not None and not self._conn.closed

    def connect(self) -> None:
        """Open the connection and LISTEN; afterwards every committed write is heard."""
        import psycopg

        self.close()
        try:
            conn = psycopg.connect(
                self.url,
                autocommit=True,
                connect_timeout=self.connect_timeout_s,
                # A dead server or a cut cable must surface as a readable, failing socket.
                keepalives=1,
                keepalives_idle=10,
                keepalives_interval=5,
                keepalives_count=3,
                application_name="responder-console listener",
            )
        except psycopg.Error as exc:
            raise ListenerLost(
                f"cannot listen for changes on {redact_url(self.url)}: {_first_line(exc)}"
            ) from exc
        try:
            conn.execute(f'LISTEN "{self.channel}"')
            # Read after LISTEN: a write committing in between is heard and also counted here,
            # which is harmless; the other order could miss one.
            row = conn.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()
            self.last_seq = int(row[0]) if row else 0
        except psycopg.Error as exc:
            conn.close()
            raise ListenerLost(
                f"cannot listen for changes on {redact_url(self.url)}: {_first_line(exc)}"
            ) from exc
        self._conn = conn

    def fileno(self) -> int:
        if self._conn is None:
            raise ListenerLost("the change listener is not connected")
        return self._conn.fileno()

    def poll(self) -> list[ChangeNote]:
        """Every notification already received, in commit order; never blocks.

        A note whose ``after`` is past the last seq heard means something was missed: its
        ``changes`` become None (reload everything).
        """
        import psycopg

        if self._conn is None:
            raise ListenerLost("the change listener is not connected")
        out: list[ChangeNote] = []
        try:
            for n in self._conn.notifies(timeout=0):
                out.append(self._accept(decode(n.payload)))
        except psycopg.Error as exc:
            self.close()
            raise ListenerLost(
                f"lost the change listener on {redact_url(self.url)}: {_first_line(exc)}"
            ) from exc
        return out

    def wait(self, timeout_s: float) -> list[ChangeNote]:
        """Block up to ``timeout_s`` for notifications (headless tools and tests)."""
        deadline = time.monotonic() + timeout_s
        while True:
            notes = self.poll()
            left = deadline - time.monotonic()
            if notes or left <= 0:
                return notes
            select.select([self.fileno()], [], [], left)

    def _accept(self, note: ChangeNote) -> ChangeNote:
        if note.changes is not None and note.after > self.last_seq:
            log.info("missed changes between seq %d and %d: reloading", self.last_seq, note.after)
            note = ChangeNote(note.seq, note.after, None)
        self.last_seq = max(self.last_seq, note.seq)
        return note

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):  # closing a broken connection must not raise
                self._conn.close()
            self._conn = None

    def __enter__(self) -> ChangeListener:
        self.connect()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
