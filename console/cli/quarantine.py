"""``responder-console quarantine``: input that was refused and kept, and reading it again."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from console.cli.common import UserError, add_db, bounded_int, open_store

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
    q.add_argument(
        "--reprocess",
        action="store_true",
        help="read quarantined dispatch messages again with the current reader and code table;"
        " what reads enters the log (once) and is marked reprocessed",
    )
    q.add_argument(
        "--config",
        metavar="FILE",
        help="configuration file whose [codes] table to use (default: the user's file)",
    )
    q.set_defaults(_run=run)


def run(args: argparse.Namespace) -> int:
    store = open_store(args.db)
    if args.reprocess:
        return _reprocess(store, args.config)
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
                        "reprocessed_at": i.reprocessed_at.isoformat()
                        if i.reprocessed_at
                        else None,
                        "raw": i.raw[:2000],
                    }
                    for i in items
                ],
            },
            indent=2,
        )
    )
    return 0


def _reprocess(store: Any, config: str | None) -> int:
    from console.config import ConfigError, load_config, site_codes, user_config_file
    from console.wire.eido import EidoError, parse_eido
    from console.wire.registry import SiteCodes

    if config is not None:
        try:
            codes = site_codes(load_config(Path(config)))
        except ConfigError as exc:
            raise UserError(str(exc)) from exc
    elif user_config_file().exists():
        try:
            codes = site_codes(load_config(None))
        except ConfigError as exc:
            raise UserError(str(exc)) from exc
    else:
        codes = SiteCodes()
    now = store.clock.now()

    def read(raw: str) -> tuple[list[Any], dict[str, list[dict[str, Any]]]]:
        try:
            body = json.loads(raw)
        except ValueError as exc:
            raise ValueError(f"not JSON ({exc})") from None
        docs: list[Any]
        if isinstance(body, dict) and isinstance(body.get("event"), dict):
            docs = list(body["event"].get("notification") or [])
        elif isinstance(body, dict) and _looks_like_eido(body):
            docs = [body]
        else:
            raise ValueError("not an EIDO or a notification carrying EIDOs")
        events: list[Any] = []
        persons: dict[str, list[dict[str, Any]]] = {}
        for doc in docs:
            try:
                parsed = parse_eido(doc, recorded_at=now, codes=codes)
            except EidoError as exc:
                raise ValueError(str(exc)) from None
            events.extend(parsed.events)
            if parsed.call is not None and parsed.persons:
                persons[parsed.call.id] = parsed.persons
        return events, persons

    outcomes = store.reprocess_quarantine(read)
    done = [o for o in outcomes if not o[1].startswith("still refused")]
    print(
        json.dumps(
            {
                "looked_at": len(outcomes),
                "reprocessed": len(done),
                "still_refused": len(outcomes) - len(done),
                "items": [{"id": i, "outcome": o} for i, o in outcomes],
            },
            indent=2,
        )
    )
    return 0


def _looks_like_eido(body: dict[str, Any]) -> bool:
    keys = {k.lower() for k in body if isinstance(k, str)}
    return bool(keys & {"eidoversion", "incidentcomponent", "emergencyresourcecomponent"})
