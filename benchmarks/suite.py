"""``responder-console bench``: every benchmark of every layer, each against its own baseline."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Any, TextIO

# name -> "module:function"; a function takes quick: bool and returns result dicts.
BENCHMARKS: dict[str, str] = {
    "ingest": "benchmarks.store:bench_ingest",
    "fold": "benchmarks.store:bench_fold",
    "sync": "benchmarks.sync:bench_sync",
    "seek": "benchmarks.replay:bench_seek",
    "replay_stall": "benchmarks.ui_replay:bench_replay_stall",
    "map_update": "benchmarks.ui_map:bench_map_update",
    "ui_stall": "benchmarks.ui_stall:bench_ui_stall",
    "plots": "benchmarks.ui_plots:bench_plots",
    "notify": "benchmarks.store_notify:bench_notify",
    "program_report": "benchmarks.program_report:bench_program_report",
}


def _load(spec: str) -> Callable[[bool], list[dict[str, Any]]] | None:
    module, func = spec.split(":")
    try:
        mod = importlib.import_module(module)
    except ImportError:
        return None
    fn: Callable[[bool], list[dict[str, Any]]] | None = getattr(mod, func, None)
    return fn


def run_benchmarks(
    *, quick: bool, only: list[str] | None = None, progress: TextIO = sys.stderr
) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    for name, spec in BENCHMARKS.items():
        if only and name not in only:
            continue
        fn = _load(spec)
        if fn is None:
            continue
        print(f"bench: {name}...", file=progress, flush=True)
        try:
            results.extend(fn(quick))
        except Exception as exc:  # one failing benchmark must not hide the others
            print(f"bench: {name} failed: {type(exc).__name__}: {exc}", file=progress)
            results.append(
                {
                    "name": name,
                    "unit": "",
                    "value": 0.0,
                    "baseline": "",
                    "baseline_value": 0.0,
                    "ratio": 0.0,
                    "error": f"{type(exc).__name__}: {exc}",
                }
            )
    return results
