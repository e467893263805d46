"""What every subcommand shares: the one-line user error, the time argument, ``--db``."""

from __future__ import annotations

import argparse
import math
from datetime import UTC, datetime
from typing import Any

from console.domain.codec import CodecError, parse_ts


class UserError(Exception):
    """A problem the user can fix; printed as one line."""


EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
"""Times outside this range are refused: no shift is that old or that far ahead, and date
arithmetic near year 9999 overflows."""


def number(
    value: str,
    *,
    minimum: float = 0.0,
    exclusive: bool = False,
    maximum: float | None = None,
) -> float:
    """A finite number within bounds (``nan`` and ``inf`` are refused)."""
    try:
        v = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
    if not math.isfinite(v):
        raise argparse.ArgumentTypeError(f"{value!r} is not a finite number")
    if exclusive and not v > minimum:
        raise argparse.ArgumentTypeError(f"{value} must be greater than {minimum:g}")
    if not exclusive and not v >= minimum:
        raise argparse.ArgumentTypeError(f"{value} must be at least {minimum:g}")
    if maximum is not None and v > maximum:
        raise argparse.ArgumentTypeError(f"{value} must be at most {maximum:g}")
    return v


def positive(value: str) -> float:
    """A finite number greater than 0."""
    return number(value, exclusive=True, maximum=1e9)


def non_negative(value: str) -> float:
    """A finite number, 0 or more."""
    return number(value, maximum=1e9)


def bounded_int(low: int, high: int) -> Any:
    """An argument type: a whole number in ``low``..``high``."""

    def parse(value: str) -> int:
        try:
            v = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
        if not low <= v <= high:
            raise argparse.ArgumentTypeError(f"{value} is not between {low} and {high}")
        return v

    return parse


port = bounded_int(0, 65535)
"""A TCP port (0: any free port)."""


def iso_time(value: str) -> datetime:
    """The argument type of every time option (``--from``, ``--to``, ``--start``): ISO 8601 with
    a UTC offset, read as the event log reads times (console.domain.codec)."""
    example = "e.g. 2026-11-26T14:00:00+00:00"
    try:
        d = parse_ts(value, "time")
    except CodecError as exc:
        raise argparse.ArgumentTypeError(f"{exc} ({example})") from exc
    if d is None:
        raise argparse.ArgumentTypeError(f"an empty time ({example})")
    try:
        inside = EARLIEST <= d < LATEST
    except OverflowError:
        inside = False
    if not inside:
        raise argparse.ArgumentTypeError(
            f"{value} is outside {EARLIEST.year}..{LATEST.year - 1} ({example})"
        )
    return d


def add_db(p: argparse.ArgumentParser, required: bool = True) -> None:
    p.add_argument(
        "--db",
        required=required,
        metavar="URL",
        help="database URL (sqlite:///path/to/file.db, postgresql://host/db) or a file path",
    )


def open_store(url: str, *, create: bool = False) -> Any:
    from console.store import Store, StoreError

    try:
        return Store.open(url, create=create)
    except StoreError as exc:
        raise UserError(str(exc)) from exc
