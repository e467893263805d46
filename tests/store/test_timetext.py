"""The fast text forms of times are exactly what the standard library (and SQLAlchemy) write:
stored rows, record JSON and the hash chains must not change by a character."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime, timedelta, timezone

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.dialects import sqlite as sqlite_dialect

from console.domain.codec import call_to_dict, team_to_dict
from console.domain.model import Call, CallStatus, CallType, Team, TeamStatus
from console.store.schema import UtcDateTime
from console.store.timetext import BatchTimes, canon_time, json_time


class SubTime(datetime):
    """A datetime subclass (orjson does not write those itself)."""


_DIALECT = sqlite_dialect.dialect()
_BIND = sqlite_dialect.DATETIME().bind_processor(_DIALECT)


def column_text(v: datetime) -> str:
    """What SQLAlchemy itself stores for a UtcDateTime column on SQLite."""
    naive = UtcDateTime().process_bind_param(v, _DIALECT)
    assert _BIND is not None
    out = _BIND(naive)
    assert isinstance(out, str)
    return out


def chain_text(d: datetime) -> str:
    """The chain's text as it has always been defined: isoformat of the time in UTC."""
    if d.tzinfo is None:
        d = d.replace(tzinfo=UTC)
    return d.astimezone(UTC).isoformat()


TRICKY = [
    datetime(2026, 11, 26, 8, 0, tzinfo=UTC),  # microsecond 0: isoformat leaves it out
    datetime(2026, 11, 26, 8, 0, 0, 1, tzinfo=UTC),
    datetime(2026, 11, 26, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(2026, 11, 26, 8, 0, 0, 500000, tzinfo=UTC),
    datetime(1, 1, 1, tzinfo=UTC),
    datetime(999, 12, 31, 23, 59, 59, tzinfo=UTC),
    datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(2026, 11, 26, 8, 0, tzinfo=timezone(timedelta(hours=5, minutes=30))),
    datetime(2026, 11, 26, 8, 0, 0, 7, tzinfo=timezone(timedelta(hours=-5))),
    # Offsets with seconds: orjson rounds these, isoformat does not.
    datetime(2026, 11, 26, 8, 0, tzinfo=timezone(timedelta(hours=-3, seconds=15))),
    datetime(2026, 11, 26, 8, 0, tzinfo=timezone(timedelta(hours=1, microseconds=7))),
    datetime(2026, 11, 26, 8, 0, tzinfo=timezone(timedelta(0), "Z")),  # UTC, not the singleton
    datetime(2026, 7, 1, 12, 0, 0, 250, tzinfo=zoneinfo.ZoneInfo("America/New_York")),
    datetime(2026, 3, 29, 1, 30, tzinfo=zoneinfo.ZoneInfo("Europe/Berlin")),
    SubTime(2026, 11, 26, 8, 0, 0, 3, tzinfo=UTC),
    SubTime(2026, 11, 26, 8, 0, tzinfo=UTC),
]


@pytest.mark.parametrize("v", TRICKY, ids=repr)
def test_batch_texts_equal_the_standard_library(v: datetime) -> None:
    db, canon = BatchTimes(sqlite=True).texts(v)
    assert db == column_text(v)
    assert canon == chain_text(v) == canon_time(v)
    # On PostgreSQL the driver gets the aware time itself, in UTC.
    pg, pg_canon = BatchTimes(sqlite=False).texts(v)
    assert pg == v and pg.utcoffset() == timedelta(0)
    assert pg_canon == canon


@pytest.mark.parametrize("v", TRICKY, ids=repr)
def test_record_times_equal_isoformat(v: datetime) -> None:
    assert orjson.dumps(json_time(v)) == orjson.dumps(v.isoformat())


def test_naive_times_keep_their_old_texts() -> None:
    naive = datetime(2026, 11, 26, 8, 0, 0, 12)
    db, canon = BatchTimes(sqlite=True).texts(naive)
    assert canon == canon_time(naive) == "2026-11-26T08:00:00.000012+00:00"
    assert db == naive.astimezone(UTC).isoformat(" ", "microseconds")[:26]
    assert orjson.dumps(json_time(naive)) == orjson.dumps(naive.isoformat())


def test_a_time_converted_once_per_batch_gives_the_same_texts_again() -> None:
    times = BatchTimes(sqlite=True)
    v = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
    first = times.texts(v)
    assert times.texts(v) == first
    assert times.db(v) == first[0] == "2026-11-26 08:00:00.000000"
    assert times.db(None) is None
    # An equal time with another offset is another object: its own texts, not the cached ones.
    other = v.astimezone(timezone(timedelta(hours=2)))
    assert times.texts(other) == first
    assert json_time(other) == "2026-11-26T10:00:00+02:00"


_ZONES = st.sampled_from(
    [
        UTC,
        timezone(timedelta(hours=5, minutes=45)),
        timezone(timedelta(hours=-9, minutes=-30)),
        timezone(timedelta(minutes=1, seconds=1)),
        zoneinfo.ZoneInfo("America/Chicago"),
    ]
)


@given(st.datetimes(timezones=_ZONES))
def test_any_aware_time(v: datetime) -> None:
    db, canon = BatchTimes(sqlite=True).texts(v)
    assert db == column_text(v)
    assert canon == chain_text(v)
    assert orjson.dumps(json_time(v)) == orjson.dumps(v.isoformat())


@pytest.mark.parametrize("v", TRICKY, ids=repr)
def test_stored_records_are_unchanged(v: datetime) -> None:
    """A call's and a team's stored JSON is byte for byte what it was."""
    c = Call(
        "HCR-000001",
        CallStatus.CLEARED,
        2,
        CallType.WELFARE_CHECK,
        v,
        v.replace(microsecond=0),
        dispatched_at=v.replace(microsecond=1),
        enroute_at=v,
        onscene_at=v.replace(second=1, microsecond=999999),
        cleared_at=v.replace(microsecond=0),
    )
    assert orjson.dumps(call_to_dict(c, json_time)) == orjson.dumps(call_to_dict(c))
    tm = Team("CRT-1", TeamStatus.ON_SCENE, v, "CRT", v, last_checkin=v)
    assert orjson.dumps(team_to_dict(tm, json_time)) == orjson.dumps(team_to_dict(tm))
    bare = Team("CRT-2", TeamStatus.AVAILABLE, v, "CRT", None)
    assert orjson.dumps(team_to_dict(bare, json_time)) == orjson.dumps(team_to_dict(bare))
