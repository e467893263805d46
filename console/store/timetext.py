"""The text forms of the times the store writes, and a batch's times written once each.

Three forms, each fixed by what is already stored:

- a record's JSON (a call's or team's ``data``, an event's payload) holds ``isoformat()``;
- a time column on SQLite holds ``"YYYY-MM-DD HH:MM:SS.ffffff"`` in UTC, the text SQLAlchemy
  writes for :class:`~console.store.schema.UtcDateTime` (so it sorts and compares as before);
- the hash chains (:mod:`console.store.chain`) cover :func:`canon_time`, ``isoformat()`` of the
  time in UTC.

``datetime.isoformat`` is the largest single cost of writing a batch. orjson writes an aware
time in UTC as the same text as ``isoformat()`` (microseconds only when not zero, ``+00:00``)
several times faster, so a UTC time takes that path; any other time (another offset, naive, a
subclass) takes the standard library's, which is what decides the text for those.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson


def canon_time(d: datetime | None) -> str:
    """A time as the hash chains cover it (empty for none; naive is taken as UTC)."""
    if d is None:
        return ""
    if d.tzinfo is None:  # stored naive on SQLite: UTC
        d = d.replace(tzinfo=UTC)
    return d.astimezone(UTC).isoformat()


def _db_time(sqlite: bool) -> Callable[[datetime | None], Any]:
    """Convert an aware time the way :class:`~console.store.schema.UtcDateTime` stores it."""

    def conv(v: datetime | None) -> Any:
        if v is None:
            return None
        if v.tzinfo is not UTC:
            v = v.astimezone(UTC)
        # "YYYY-MM-DD HH:MM:SS.ffffff", the text SQLAlchemy's SQLite DateTime reads and sorts.
        return v.isoformat(" ", "microseconds")[:26] if sqlite else v

    return conv


def json_time(d: datetime) -> Any:
    """A record's time for :func:`orjson.dumps`: a UTC time as it is (orjson writes the text
    ``isoformat()`` gives), any other as ``isoformat()`` text."""
    if d.tzinfo is UTC and type(d) is datetime:
        return d
    return d.isoformat()


def _utc_iso(d: datetime) -> str:
    """``d.isoformat()`` of an exact ``datetime`` whose tzinfo is UTC."""
    return orjson.dumps(d).decode()[1:-1]


class BatchTimes:
    """The column and chain texts of a batch's times, each time converted once.

    The events, records and rows of a batch share their time objects (a call's ``updated_at``
    is its event's time), so entries are keyed by identity; each entry keeps its time alive,
    so an identity is never reused while the batch is written.
    """

    def __init__(self, sqlite: bool) -> None:
        self._sqlite = sqlite
        self._to_db = _db_time(sqlite)
        self._done: dict[int, tuple[datetime, Any, str]] = {}

    def texts(self, v: datetime) -> tuple[Any, str]:
        """(the column value, the chain's text) of an aware time."""
        r = self._done.get(id(v))
        if r is None:
            r = self._done[id(v)] = (v, *self._convert(v))
        return r[1], r[2]

    def db(self, v: datetime | None) -> Any:
        """The column value of a time (None stays None)."""
        if v is None:
            return None
        r = self._done.get(id(v))
        if r is None:
            r = self._done[id(v)] = (v, *self._convert(v))
        return r[1]

    def _convert(self, v: datetime) -> tuple[Any, str]:
        if v.tzinfo is UTC and type(v) is datetime:
            s = _utc_iso(v)
            if not self._sqlite:
                return v, s
            # s is "YYYY-MM-DDTHH:MM:SS[.ffffff]+00:00": the column drops the offset and
            # always has six digits of microseconds.
            if len(s) == 32:
                return s[:26].replace("T", " "), s
            return s[:19].replace("T", " ") + ".000000", s
        return self._to_db(v), canon_time(v)
