"""A real console context for panel tests: a Store on a temporary SQLite file, the context's
own task manager and pacer, put together by the same ``build_context`` as the live console and
replay. ``make_context`` takes a picture source (a test's stand-in) and a store of the test's own
where the test needs them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from console.config import parse_config
from console.domain.clock import SystemClock
from console.store import Store
from console.ui.core.context import ConsoleContext, build_context

MakeContext = Callable[..., ConsoleContext]


@pytest.fixture
def make_context(qtbot: Any, tmp_path: Path) -> Iterator[MakeContext]:
    made: list[ConsoleContext] = []
    opened: list[Store] = []

    def make(
        *,
        store: Store | str | None = "new",
        pictures: Any = None,
        replay: bool = False,
        role: str = "supervisor",
        config_text: str = "",
    ) -> ConsoleContext:
        if store == "new":
            store = Store.open(f"sqlite:///{tmp_path / f'ctx{len(opened)}.sqlite'}")
            opened.append(store)
        assert not isinstance(store, str)
        ctx = build_context(
            parse_config(config_text),
            store,
            clock=SystemClock(),
            operator="tester",
            role=role,
            pictures=pictures,
            replay=replay,
            poll_s=3600,
        )
        made.append(ctx)
        return ctx

    yield make
    for ctx in made:
        if ctx.pacer is not None:
            ctx.pacer.close()
        stop = getattr(ctx.pictures, "stop", None)
        if callable(stop):
            stop()
        if ctx.tasks is not None:
            ctx.tasks.shutdown(wait=True)
    for s in opened:
        s.close()


@pytest.fixture
def context(make_context: MakeContext) -> ConsoleContext:
    """A live context on a new, empty store (its picture source not started)."""
    return make_context()
