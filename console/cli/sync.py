"""``responder-console sync``: the headless sync service (database <-> dispatch)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
from typing import Any

log = logging.getLogger("console.sync.service")


def register(sub: Any) -> None:
    p = sub.add_parser("sync", help="headless sync service: database <-> dispatch")
    p.description = "Keep a database in step with dispatch and deliver the outbox (headless)."
    p.add_argument(
        "--db", required=True, help="database URL (sqlite:///path or postgresql+psycopg://...)"
    )
    p.add_argument("--dispatch", required=True, help="dispatch notifier, ws://HOST:PORT")
    p.add_argument(
        "--exit-when-idle",
        type=float,
        default=None,
        metavar="SECONDS",
        help="exit 0 after this many seconds without a message (at least 30 s before dispatch first answers)",
    )
    p.add_argument(
        "--config",
        metavar="FILE",
        default=None,
        help="configuration file whose [codes] table and default priority the reader uses",
    )
    p.set_defaults(_run=run)


def run(args: argparse.Namespace) -> int:
    import signal

    from console.config import redact_url
    from console.store import Store
    from console.sync.client import LinkHealth, LinkState
    from console.sync.service import SyncService

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    for noisy in ("websockets", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if not str(args.dispatch).startswith(("ws://", "wss://")):
        print(
            f"sync: --dispatch must be a ws:// or wss:// URL, not {args.dispatch!r}",
            file=sys.stderr,
        )
        return 2
    if args.config is not None:
        from pathlib import Path

        from console.config import ConfigError, load_config

        try:
            load_config(Path(args.config))  # installs the site's code table for the reader
        except ConfigError as exc:
            print(f"sync: {exc}", file=sys.stderr)
            return 2
    try:
        store = Store.open(args.db, create=True)
    except Exception as exc:
        print(f"sync: cannot open database {redact_url(args.db)}: {exc}", file=sys.stderr)
        return 1
    last_state = [""]

    def health(h: LinkHealth) -> None:
        if h.state != last_state[0]:
            last_state[0] = h.state
            extra = f" ({h.last_error})" if h.last_error and h.state != LinkState.UP else ""
            log.info("dispatch link %s%s", h.state, extra)

    try:
        svc = SyncService(
            store, args.dispatch, on_health=health, exit_when_idle_s=args.exit_when_idle
        )
    except ValueError as exc:
        store.close()
        print(f"sync: {exc}", file=sys.stderr)
        return 2

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        await svc.run_async(stop)

    try:
        asyncio.run(main())
    except Exception as exc:
        print(f"sync: {exc}", file=sys.stderr)
        return 1
    finally:
        with contextlib.suppress(Exception):
            store.close()
    log.info(
        "sync stopped: %d appended, %d duplicates, %d rejected, %d quarantined, %d answers",
        svc.appended,
        svc.duplicates,
        svc.rejected,
        svc.quarantined,
        svc.answers,
    )
    return 0
