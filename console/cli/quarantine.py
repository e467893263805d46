"""``responder-console quarantine``: input that was refused and kept."""

from __future__ import annotations

import argparse
import json
from typing import Any

from console.cli.common import add_db, bounded_int, open_store

MAX_LIMIT = 1_000_000


def register(sub: Any) -> None:
    q = sub.add_parser("quarantine", help="list input that was refused and kept")
    add_db(q)
    q.add_argument(
        "--limit",
        type=bounded_int(0, MAX_LIMIT),
        default=50,
        help=f"at most this many items, 0..{MAX_LIMIT} (default 50)",
    )
    q.set_defaults(_run=run)


def run(args: argparse.Namespace) -> int:
    store = open_store(args.db)
    items = store.quarantined(args.limit)
    print(
        json.dumps(
            {
                "count": store.quarantine_count(),
                "items": [
                    {
                        "id": i.id,
                        "received_at": i.received_at.isoformat(),
                        "source": i.source,
                        "reason": i.reason,
                        "raw": i.raw[:2000],
                    }
                    for i in items
                ],
            },
            indent=2,
        )
    )
    return 0
