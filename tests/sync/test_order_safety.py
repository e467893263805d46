"""Order-safety through the real store: a shift's EIDOs delivered shuffled and duplicated, with
refused ones sent again (as the notifier does), end in the picture in-order delivery gives."""

from __future__ import annotations

import random
from collections import deque
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from console.sim.simulator import DispatchSimulator
from console.sim.world import GeneratedShift, World, load_roster
from console.store import Store
from console.store.read.views import state_json
from console.wire.eido import parse_eido

T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def _docs() -> list[dict[str, Any]]:
    world = World(T0, seed=21)
    GeneratedShift(world, load_roster(), rate_per_hour=4.0, duration_h=8)
    sim = DispatchSimulator(world)
    docs: list[dict[str, Any]] = []
    t = T0
    while not world.finished:
        t += timedelta(seconds=30)
        world.advance_to(t)
        docs.extend(doc for _, _, _, doc in sim.collect_items())
    return docs


def _picture(store: Store) -> dict[str, Any]:
    st = state_json(store.load_state())
    return {"calls": st["calls"], "teams": st["teams"]}


@pytest.mark.parametrize("spread", [80.0, 1e9], ids=["local-disorder", "full-shuffle"])
def test_shuffled_duplicated_delivery_converges_to_in_order_delivery(
    tmp_path: Path, spread: float
) -> None:
    docs = _docs()
    assert len(docs) > 200
    ordered = Store.open(f"sqlite:///{tmp_path / 'a.db'}")
    for d in docs:
        res = ordered.append(parse_eido(d).events)
        assert not res.rejected, res.rejected[:1]
    expected = _picture(ordered)
    ordered.close()

    rng = random.Random(5)
    # local disorder, as a network produces: each document moved a few places, some twice
    jittered = sorted(range(len(docs)), key=lambda i: i + rng.uniform(0, spread))
    order = deque(jittered + rng.sample(range(len(docs)), len(docs) // 5))
    shuffled = Store.open(f"sqlite:///{tmp_path / 'b.db'}")
    retries = 0
    while order:
        i = order.popleft()
        res = shuffled.append(parse_eido(docs[i]).events)
        if res.rejected:
            retries += 1
            assert retries < 20 * len(docs), "a refused document never became acceptable"
            order.append(i)  # the notifier sends a refused notification again
    assert retries > 0, "the disorder never produced an out-of-order refusal: weak test"
    assert _picture(shuffled) == expected
    shuffled.close()
