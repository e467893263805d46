"""What every subcommand shares: the one-line user error, the time argument, ``--db``."""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import Any

from console.domain.codec import CodecError, parse_ts


class UserError(Exception):
    """A problem the user can fix; printed as one line."""


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
