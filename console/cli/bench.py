"""``responder-console bench``: the benchmarks, each against a same-run baseline."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def register(sub: Any) -> None:
    b = sub.add_parser("bench", help="run the benchmarks (ratios against same-run baselines)")
    b.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    b.add_argument("--json", action="store_true", help="JSON output")
    b.add_argument("--only", metavar="NAME", action="append", help="run only these benchmarks")
    b.set_defaults(_run=run)


def run(args: argparse.Namespace) -> int:
    from benchmarks.suite import run_benchmarks

    results = run_benchmarks(quick=args.quick, only=args.only, progress=sys.stderr)
    if args.json:
        print(json.dumps({"benchmarks": results}, indent=2))
    else:
        for r in results:
            print(
                f"{r['name']:<12} {r['value']:>14.1f} {r['unit']:<10} "
                f"baseline {r['baseline_value']:>14.1f}  ratio {r['ratio']:.3f}   ({r['baseline']})"
            )
    return 0
