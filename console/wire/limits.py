"""What the console accepts from dispatch before anything reaches the store.

A peer may send anything: JSON nested thousands of levels deep, ``Infinity`` as a number, a string
with a lone surrogate (``"\\ud800"``, which no database can store), a frame far larger than any
real EIDO, or a time in year 9999. Each check here names the problem in the exception it raises,
so the document is quarantined with a reason a person can act on and the rest of the feed goes on.

Stdlib only: the protocol decoder checks frames, the client checks each document and the events
parsed from it.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any


@dataclass(frozen=True, slots=True)
class FeedLimits:
    """Limits on what dispatch may send (config ``[dispatch]``)."""

    max_depth: int = 64
    """Deepest nesting of arrays and objects in one frame."""
    max_frame_bytes: int = 8 * 1024 * 1024
    """Largest frame (UTF-8 bytes)."""
    max_document_bytes: int = 1024 * 1024
    """Largest EIDO document in a notification (compact JSON, UTF-8 bytes)."""
    clock_skew_s: float = 600.0
    """How far in the future a time may lie (dispatch's clock may run a little ahead)."""
    earliest: datetime = datetime(1990, 1, 1, tzinfo=UTC)
    """No time before this is believed."""

    @property
    def transport_max_bytes(self) -> int:
        """What the WebSocket layer itself accepts: well above the frame limit, so a frame
        somewhat over it is received, quarantined and answered rather than closing the link."""
        return max(4 * self.max_frame_bytes, self.max_frame_bytes + 1024 * 1024)


class InputRefused(ValueError):
    """Input that breaks a limit: the message names the limit and where it was broken."""


class NonFinite:
    """Stands in for ``NaN`` / ``Infinity`` / ``-Infinity`` (or a literal that overflows to one)
    while a frame is read, so the one document holding it is refused, not the whole frame."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


def _constant(text: str) -> NonFinite:
    return NonFinite(text)


def _float(text: str) -> float | NonFinite:
    v = float(text)
    return v if math.isfinite(v) else NonFinite(text)


def loads(text: str) -> Any:
    """``json.loads`` with non-finite numbers kept as :class:`NonFinite` markers."""
    return json.loads(text, parse_constant=_constant, parse_float=_float)


def dumps_raw(obj: Any) -> str:
    """A parsed value written back as text for the quarantine (markers, surrogates escaped)."""
    return json.dumps(obj, sort_keys=True, default=repr)


_SURROGATE = re.compile("[\ud800-\udfff]")


def _bad_string(s: str) -> str | None:
    m = _SURROGATE.search(s)
    return None if m is None else f"U+{ord(m.group()):04X}"


def _short(path: str) -> str:
    return path if len(path) <= 120 else f"{path[:100]}…{path[-16:]}"


def check_value(obj: Any, limits: FeedLimits, where: str = "", depth: int = 1) -> None:
    """Raise :class:`InputRefused` for nesting too deep, a non-finite number or a string that
    is not valid Unicode anywhere in ``obj`` (``depth``: the nesting ``obj`` itself is at)."""
    # A fast walk first (this runs for every document); paths only to say where it failed.
    bad_string, max_depth = _bad_string, limits.max_depth
    stack: list[tuple[Any, int]] = [(obj, depth)]
    pop, push = stack.pop, stack.append
    while stack:
        value, d = pop()
        t = type(value)
        if t is dict:
            if d > max_depth:
                break
            for k, v in value.items():
                if not k.isascii() and bad_string(k) is not None:
                    break
                tv = type(v)
                if tv is str:
                    if not v.isascii() and bad_string(v) is not None:
                        break
                elif tv not in _PLAIN:
                    push((v, d + 1))
            else:
                continue
            break
        elif t is list:
            if d > max_depth:
                break
            for v in value:
                if type(v) not in _PLAIN:
                    push((v, d + 1))
        elif t is str:
            if not value.isascii() and bad_string(value) is not None:
                break
        elif t is NonFinite:
            break
    else:
        return
    _locate(obj, limits, where or "$", depth)


_PLAIN = frozenset({int, float, bool, type(None)})


def _locate(obj: Any, limits: FeedLimits, where: str, depth: int) -> None:
    """The slow walk, with paths: raises for the first problem it meets."""
    stack: list[tuple[Any, int, str]] = [(obj, depth, where)]
    while stack:
        value, d, path = stack.pop()
        if isinstance(value, dict | list) and d > limits.max_depth:
            raise InputRefused(f"nesting deeper than {limits.max_depth} levels at {_short(path)}")
        if isinstance(value, dict):
            for k, v in value.items():
                bad = _bad_string(k)
                if bad is not None:
                    raise InputRefused(
                        f"string is not valid Unicode (lone surrogate {bad}) in a key at "
                        f"{_short(path)}"
                    )
                stack.append((v, d + 1, f"{path}.{k}"))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                stack.append((v, d + 1, f"{path}[{i}]"))
        elif isinstance(value, str):
            bad = _bad_string(value)
            if bad is not None:
                raise InputRefused(
                    f"string is not valid Unicode (lone surrogate {bad}) at {_short(path)}"
                )
        elif isinstance(value, NonFinite):
            raise InputRefused(f"non-finite number {value.text} at {_short(path)}")


def check_document_size(doc: Any, limits: FeedLimits) -> None:
    n = len(
        json.dumps(doc, separators=(",", ":"), ensure_ascii=False, default=repr).encode(
            "utf-8", "surrogatepass"
        )
    )
    if n > limits.max_document_bytes:
        raise InputRefused(
            f"document of {n} bytes exceeds the {limits.max_document_bytes}-byte document limit"
        )


_FIELDS: dict[type, tuple[str, ...]] = {}


def _times(obj: Any, seen: int = 0) -> Iterable[tuple[str, datetime]]:
    """Every time in a domain event and the records it carries (two levels of records)."""
    names = _FIELDS.get(type(obj))
    if names is None:
        # recorded_at is the console's own clock
        names = tuple(f.name for f in dataclasses.fields(obj) if f.name != "recorded_at")
        _FIELDS[type(obj)] = names
    for name in names:
        v = getattr(obj, name)
        if isinstance(v, datetime):
            yield name, v
        elif seen < 2 and type(v) not in _PLAIN and dataclasses.is_dataclass(v):
            for sub, t in _times(v, seen + 1):
                yield f"{name}.{sub}", t


def check_time(name: str, t: datetime, now: datetime, limits: FeedLimits) -> None:
    """``t`` lies in [earliest, now + clock skew]."""
    try:
        if t.tzinfo is None:
            raise InputRefused(f"timestamp {name} {t.isoformat()} has no UTC offset")
        if t < limits.earliest:
            raise InputRefused(
                f"timestamp {name} {t.isoformat()} is before {limits.earliest.date().isoformat()}"
            )
        if t > now + timedelta(seconds=limits.clock_skew_s):
            raise InputRefused(
                f"timestamp {name} {t.isoformat()} is in the future (more than "
                f"{limits.clock_skew_s:g}s ahead of the console's clock)"
            )
    except OverflowError:
        raise InputRefused(f"timestamp {name} {t.isoformat()} is out of range in UTC") from None


def check_times(events: Iterable[Any], now: datetime, limits: FeedLimits) -> None:
    """Every time an event carries lies in [earliest, now + clock skew]: a time far in the
    future would win last-writer-wins for ever and freeze the record."""
    for e in events:
        for name, t in _times(e):
            check_time(name, t, now, limits)


_TID = re.compile(rb'"transactionId"\s*:\s*"([^"\\]{1,200})"')


def transaction_id_in(raw: bytes) -> str | None:
    """The transactionId of a frame that cannot be read as a whole, when one is visible."""
    m = _TID.search(raw)
    if m is None:
        return None
    try:
        return m.group(1).decode("utf-8")
    except UnicodeDecodeError:
        return None
