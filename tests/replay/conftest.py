"""Shared fixtures for the replay tests: a synthetic shift in a real SQLite store."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from console.domain.events import Event
from console.domain.synthetic import synthetic_shift
from console.store import Store

START = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)


@pytest.fixture
def shift_events() -> list[Event]:
    return synthetic_shift(2500, seed=4, start=START)


@pytest.fixture
def shift_store(tmp_path: Path, shift_events: list[Event]) -> Iterator[Store]:
    store = Store.open(f"sqlite:///{tmp_path / 'live.db'}")
    for i in range(0, len(shift_events), 500):
        store.append(shift_events[i : i + 500])
    yield store
    store.close()


@pytest.fixture
def shift_range(shift_events: list[Event]) -> tuple[datetime, datetime]:
    """From a third into the shift (so some calls are carried in) to past the last event."""
    first = min(e.occurred_at for e in shift_events)
    last = max(e.occurred_at for e in shift_events)
    return first + (last - first) / 3, last + timedelta(seconds=1)
