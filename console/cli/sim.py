"""``responder-console dispatch-sim``: serve the dispatch protocol from the simulator."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from console.cli.common import bounded_int, iso_time, port
from console.cli.common import positive as _positive


def register(sub: Any) -> None:
    p = sub.add_parser("dispatch-sim", help="serve the dispatch protocol (simulated or CSV shift)")
    p.description = (
        "Serve the dispatch protocol (EIDO over STA-024 WebSocket) from a simulated CAD."
    )
    p.add_argument("--port", type=port, required=True, help="TCP port, 0..65535 (0: any free port)")
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="interface to listen on; other than loopback only with --tls-cert, --tls-key and "
        "--client-ca (mutual TLS)",
    )
    p.add_argument("--seed", type=int, default=1, help="random seed: same seed, same shift")
    p.add_argument("--speed", type=_positive, default=1.0, help="simulated seconds per wall second")
    p.add_argument(
        "--start",
        type=iso_time,
        default=None,
        help="simulated start time (ISO 8601); default: now, or faster than real time so that the shift ends now",
    )
    p.add_argument("--duration", type=_positive, default=None, help="shift length in hours")
    p.add_argument(
        "--rate", type=_positive, default=None, help="mean calls per hour (default ~15/day)"
    )
    p.add_argument("--surge", type=_positive, default=1.0, help="multiply the arrival rate")
    p.add_argument(
        "--teams",
        type=bounded_int(1, 10_000),
        default=None,
        help="teams on duty (default: the roster)",
    )
    p.add_argument("--roster", default=None, help="roster TOML (default: the bundled one)")
    p.add_argument("--from-csv", default=None, help="replay a CAD export with its own times")
    p.add_argument(
        "--faults",
        default=None,
        help="e.g. drop=0.02,dup=0.05,reorder=0.05,malformed=0.01,disconnect=30",
    )
    p.add_argument("--state-out", default=None, help="write the ground truth here at exit (JSON)")
    p.add_argument("--tls-cert", default=None, help="serve wss:// with this certificate (PEM)")
    p.add_argument("--tls-key", default=None, help="the --tls-cert private key (PEM)")
    p.add_argument(
        "--client-ca", default=None, help="require client certificates signed by this CA (PEM)"
    )
    p.set_defaults(_run=run)


def run(args: argparse.Namespace) -> int:
    from console.sim.simulator import DispatchSimulator, Faults, build, exposure_problem
    from console.sim.world import RosterError

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    for noisy in ("websockets", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    ssl = None
    if args.tls_cert or args.tls_key or args.client_ca:
        if not (args.tls_cert and args.tls_key):
            print("dispatch-sim: --tls-cert and --tls-key go together", file=sys.stderr)
            return 2
        from console.sync.transport import server_ssl_context

        try:
            ssl = server_ssl_context(args.tls_cert, args.tls_key, args.client_ca)
        except OSError as exc:
            print(f"dispatch-sim: cannot load TLS files: {exc}", file=sys.stderr)
            return 2
    problem = exposure_problem(args.host, ssl)
    if problem is not None:
        print(f"dispatch-sim: {problem}", file=sys.stderr)
        return 2
    try:
        faults = Faults.parse(args.faults)
        if args.teams is not None and args.teams < 1:
            raise ValueError("--teams must be at least 1")
        world = build(
            seed=args.seed,
            start=args.start if args.start is not None else default_start(args),
            duration_h=args.duration,
            rate_per_hour=args.rate,
            teams=args.teams,
            roster=args.roster,
            from_csv=args.from_csv,
            surge=args.surge,
        )
    except (ValueError, RosterError) as exc:
        print(f"dispatch-sim: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"dispatch-sim: cannot read {exc.filename}: {exc.strerror}", file=sys.stderr)
        return 2
    sim = DispatchSimulator(
        world, speed=args.speed, faults=faults, seed=args.seed, state_out=args.state_out
    )

    async def main() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, sim.stop)
        ready = asyncio.Event()
        task = asyncio.create_task(sim.serve(args.host, args.port, ready=ready, ssl=ssl))
        # A port in use or a host that does not resolve ends the task before it is ready.
        waiter = asyncio.create_task(ready.wait())
        await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
        if not ready.is_set():
            waiter.cancel()
            await task  # raises why it could not listen
            return
        print(
            f"dispatch-sim listening on {'wss' if ssl else 'ws'}://{args.host}:{sim.port}",
            flush=True,
        )
        await task

    try:
        asyncio.run(main())
    except (OSError, OverflowError, UnicodeError) as exc:
        why = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        print(
            f"dispatch-sim: cannot listen on {args.host}:{args.port}: {' '.join(why.split())}",
            file=sys.stderr,
        )
        return 1
    return 0


def default_start(args: argparse.Namespace) -> datetime | None:
    """Where a generated shift starts when ``--start`` is not given: so that it ends now.

    Faster than real time, a shift starting now would soon carry times ahead of every clock
    that reads it, and a console or sync service refuses times from the future (they would win
    last-writer-wins for ever). Starting ``duration × (1 − 1/speed)`` ago, the simulated clock
    reaches the wall clock exactly when the shift ends (a day is assumed without
    ``--duration``). At real-time speed it starts now.
    """
    if args.from_csv or args.speed <= 1.0:
        return None
    hours = args.duration if args.duration is not None else 24.0
    back = timedelta(hours=hours * (1.0 - 1.0 / args.speed))
    return datetime.now(UTC).replace(microsecond=0) - back
