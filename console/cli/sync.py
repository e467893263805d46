"""``responder-console sync``: the headless sync service (database <-> dispatch)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
from pathlib import Path
from typing import Any

from console.cli.common import bounded_int, non_negative

log = logging.getLogger("console.sync.service")


def register(sub: Any) -> None:
    p = sub.add_parser("sync", help="headless sync service: database <-> dispatch")
    p.description = "Keep a database in step with dispatch and deliver the outbox (headless)."
    p.add_argument(
        "--db", required=True, help="database URL (sqlite:///path or postgresql+psycopg://...)"
    )
    p.add_argument("--dispatch", required=True, help="dispatch notifier, ws://HOST:PORT")
    p.add_argument(
        "--max-write-failures",
        type=bounded_int(1, 1_000_000),
        default=None,
        metavar="N",
        help="stop (exit 1) after N database writes failed in a row; nothing is acknowledged "
        "meanwhile (default: dispatch.max_write_failures of the configuration, 5)",
    )
    p.add_argument(
        "--exit-when-idle",
        type=non_negative,
        default=None,
        metavar="SECONDS",
        help="exit 0 after this many seconds without a message (at least 30 s before dispatch first answers)",
    )
    add_link_arguments(p)
    p.add_argument(
        "--subscribe-timeout",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="reconnect when dispatch does not answer a subscribe within this (default 10)",
    )
    p.add_argument(
        "--retrieval-url",
        default=None,
        metavar="URL",
        help="dispatch's EIDO retrieval service (http(s)://HOST/PATH, NENA Incident Data API): "
        "open calls a reconnect did not re-send are fetched from it "
        "(default: dispatch.retrieval_url of the configuration; none: they are marked unconfirmed)",
    )
    p.add_argument(
        "--config",
        metavar="FILE",
        default=None,
        help="configuration file whose [codes] table and default priority the reader uses",
    )
    p.set_defaults(_run=run)


def add_link_arguments(p: Any) -> None:
    """TLS options of the dispatch link (``sync`` and the console)."""
    p.add_argument("--ca-file", default=None, help="wss://: CA bundle to verify dispatch with")
    p.add_argument("--cert-file", default=None, help="wss://: client certificate (mutual TLS)")
    p.add_argument("--key-file", default=None, help="the client certificate's key (chmod 600)")
    p.add_argument(
        "--allow-unencrypted",
        action="store_true",
        default=None,
        help="accept ws:// to a host other than this machine",
    )


def link_security(args: argparse.Namespace, base: Any = None) -> Any:
    """A LinkSecurity from the flags, over ``base`` (the configuration's [dispatch] values)."""
    from pathlib import Path

    from console.sync.transport import LinkSecurity

    def pick(flag: str) -> Path | None:
        v = getattr(args, flag, None)
        return Path(v) if v else getattr(base, flag, None)

    allow = getattr(args, "allow_unencrypted", None)
    return LinkSecurity(
        ca_file=pick("ca_file"),
        cert_file=pick("cert_file"),
        key_file=pick("key_file"),
        allow_unencrypted=bool(
            allow if allow is not None else getattr(base, "allow_unencrypted", False)
        ),
    )


def run(args: argparse.Namespace) -> int:
    import signal

    # Before logging is set up: reading the configuration is not news on a server. Loading it
    # also installs the site's code table for the reader.
    from pathlib import Path

    from console.config import ConfigError, load_config, redact_url
    from console.store import Store, StoreError
    from console.sync.client import LinkHealth, LinkState
    from console.sync.service import SyncService

    given = getattr(args, "config", None)
    try:
        config = load_config(Path(given) if given else None)
    except ConfigError as exc:
        print(f"sync: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    max_failures = args.max_write_failures
    if max_failures is None:
        max_failures = config.max_write_failures
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    for noisy in ("websockets", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if not str(args.dispatch).startswith(("ws://", "wss://")):
        print(
            f"sync: --dispatch must be a ws:// or wss:// URL, not {args.dispatch!r}",
            file=sys.stderr,
        )
        return 2
    from console.sync.retrieval import retrieval_ssl_context
    from console.sync.transport import TransportError, client_ssl_context

    retrieval_url = args.retrieval_url or config.dispatch.retrieval_url
    try:
        client_ssl_context(args.dispatch, link_security(args))
        if retrieval_url:
            retrieval_ssl_context(retrieval_url, link_security(args))
    except TransportError as exc:
        print(f"sync: {exc}", file=sys.stderr)
        return 2
    try:
        # FULL: the commit that precedes an acknowledgement survives a power cut too.
        store = Store.open(args.db, create=True, synchronous="FULL")
    except Exception as exc:
        why = str(exc) if isinstance(exc, StoreError) else type(exc).__name__
        print(
            f"sync: cannot open database {redact_url(args.db)}: {' '.join(why.split())}",
            file=sys.stderr,
        )
        return 1
    last_state = [""]

    def health(h: LinkHealth) -> None:
        if h.state != last_state[0]:
            last_state[0] = h.state
            extra = f" ({h.last_error})" if h.last_error and h.state != LinkState.UP else ""
            log.info("dispatch link %s%s", h.state, extra)

    try:
        svc = SyncService(
            store,
            args.dispatch,
            on_health=health,
            exit_when_idle_s=args.exit_when_idle,
            security=link_security(args),
            subscribe_timeout_s=args.subscribe_timeout,
            max_write_failures=max_failures,
            limits=config.feed_limits,
            retrieval_url=retrieval_url,
            followups=config.followup,
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
        if svc.health.last_error and not svc.client.connects:
            # Never got through (a TLS refusal, say): one line that says why.
            print(f"sync: {svc.health.last_error}", file=sys.stderr)
    except Exception as exc:
        why = str(exc) if isinstance(exc, StoreError) else type(exc).__name__
        print(f"sync: {' '.join(why.split())}", file=sys.stderr)
        return 1
    finally:
        with contextlib.suppress(Exception):
            store.close()
    if svc.write_failure is not None:
        print(
            f"sync: stopped after {svc.write_failures} failed writes in a row, nothing more "
            f"acknowledged: {svc.write_failure}",
            file=sys.stderr,
        )
        return 1
    log.info(
        "sync stopped: %d appended, %d duplicates, %d rejected, %d quarantined, %d answers",
        svc.appended,
        svc.duplicates,
        svc.rejected,
        svc.quarantined,
        svc.answers,
    )
    return 0
