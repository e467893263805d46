"""A real shift: the DECC CAD export served by the dispatch simulator, synced into a database
over a real socket, exported to a de-identified shift file and replayed: the replay's counts and
intervals equal the live ones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from console.replay.engine import ReplayEngine
from console.replay.shiftfile import export_shift, open_shift_file
from console.store import Store
from console.store.read.metrics import report


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_real_cad_shift_replays_with_the_live_numbers(
    cad_replay: dict[str, Path], tmp_path: Path
) -> None:
    csv = cad_replay["csv"]
    db = f"sqlite:///{cad_replay['db']}"

    from console.sim.csv_replay import read_csv

    rows = read_csv(csv).calls  # independent count: rows of the export with a receive time
    store = Store.open(db, create=False)
    events = [e for _, e in store.events()]
    assert events
    start = min(e.occurred_at for e in events)
    end = max(e.occurred_at for e in events) + timedelta(seconds=1)
    out = tmp_path / "week48.shift"
    export_shift(store, start, end, out, deidentify=True)
    sf = open_shift_file(out)
    engine = ReplayEngine.from_shift(sf.data)

    live = report(store, start, end)
    replayed = engine.report()
    assert replayed["calls_received"] == live["calls_received"] == len(rows)
    assert replayed["calls_cleared"] == live["calls_cleared"]
    assert replayed["intervals_s"] == live["intervals_s"]
    # every figure but the range itself, which de-identification moved by whole weeks
    shift = sf.start - start
    assert shift and shift % timedelta(weeks=1) == timedelta(0)
    assert datetime.fromisoformat(replayed["from"]) == start + shift
    assert {k: v for k, v in replayed.items() if k not in ("from", "to")} == {
        k: v for k, v in live.items() if k not in ("from", "to")
    }
    # Every call and team the live console shows at the end is what replay shows, apart from
    # what de-identification changed (call numbers, addresses, points, free text).
    live_state = store.load_state()
    final = engine.state_at(end + shift)

    def story(c: Any, by: timedelta = timedelta(0)) -> tuple[Any, ...]:
        def t(d: Any) -> Any:
            return None if d is None else (d + by).astimezone(UTC)

        return (
            c.status,
            c.priority,
            c.type,
            t(c.received_at),
            t(c.dispatched_at),
            t(c.enroute_at),
            t(c.onscene_at),
            t(c.cleared_at),
            c.teams,
        )

    assert len(final.calls) == len(live_state.calls)
    assert sorted(map(story, final.calls.values()), key=repr) == sorted(
        (story(c, shift) for c in live_state.calls.values()), key=repr
    )
    assert final.teams.keys() == live_state.teams.keys()
    data = out.read_bytes()
    leaked = [cid for cid in live_state.calls if cid.encode() in data]
    assert not leaked, f"CAD incident numbers left in the de-identified file: {leaked[:5]}"
    store.close()
