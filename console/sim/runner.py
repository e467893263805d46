"""The dispatch simulator served from its own asyncio loop on a background thread.

The one way to run the simulator inside another program: the ``--demo`` console, the benchmarks
and the tests start it here (``responder-console dispatch-sim`` runs it on the main thread).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable
from datetime import datetime
from ssl import SSLContext
from typing import Any

from console.sim.simulator import DispatchSimulator, ExposureError, build, exposure_problem
from console.sim.world import World

log = logging.getLogger("console.sim.simulator")


class SimulatorThread:
    """A :class:`DispatchSimulator` serving on ``host:port`` (0: a free port) from a daemon thread.

    Give it a simulator, a prepared ``world``, or the options of a generated shift (``seed``,
    ``rate_per_hour``, ``teams``, ``start``, ``duration_h``). :meth:`start` returns once it
    listens; :meth:`stop` is thread-safe and idempotent.
    """

    def __init__(
        self,
        sim: DispatchSimulator | None = None,
        *,
        world: World | None = None,
        speed: float = 1.0,
        seed: int = 1,
        rate_per_hour: float | None = None,
        teams: int | None = None,
        start: datetime | None = None,
        duration_h: float | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        ssl: SSLContext | None = None,
    ) -> None:
        problem = exposure_problem(host, ssl)
        if problem is not None:
            raise ExposureError(problem)
        if sim is None:
            if world is None:
                world = build(
                    seed=seed,
                    start=start,
                    rate_per_hour=rate_per_hour,
                    teams=teams,
                    duration_h=duration_h,
                )
            sim = DispatchSimulator(world, speed=speed, seed=seed)
        self.sim = sim
        self.host = host
        self.ssl = ssl
        """Serve wss:// with this context (see console.sync.transport.server_ssl_context)."""
        self.loop: asyncio.AbstractEventLoop | None = None
        self.error: BaseException | None = None
        self.ready = threading.Event()
        """Set once the simulator listens (or failed to start)."""
        self.finished = threading.Event()
        """Set once the simulator's loop has ended."""
        self._thread = threading.Thread(
            target=self._main, args=(host, port), name="dispatch-sim", daemon=True
        )

    def _main(self, host: str, port: int) -> None:
        async def go() -> None:
            self.loop = asyncio.get_running_loop()
            listening = asyncio.Event()
            task = asyncio.create_task(self.sim.serve(host, port, ready=listening, ssl=self.ssl))
            waiter = asyncio.create_task(listening.wait())
            # A serve that fails before it listens ends the task: say so at once.
            await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
            self.ready.set()
            await task

        try:
            asyncio.run(go())
        except BaseException as exc:
            self.error = exc
            log.exception("dispatch simulator stopped on an error")
        finally:
            self.ready.set()
            self.finished.set()

    @property
    def port(self) -> int | None:
        return self.sim.port

    @property
    def url(self) -> str:
        return f"{'wss' if self.ssl else 'ws'}://{self.host}:{self.sim.port}"

    def start(self, timeout: float = 10.0) -> SimulatorThread:
        self._thread.start()
        if not self.ready.wait(timeout) or self.sim.port is None or self.error is not None:
            raise RuntimeError(f"the dispatch simulator did not start: {self.error}")
        log.info("dispatch simulator on %s at %sx", self.url, self.sim.speed)
        return self

    def call_in_loop(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn(*args)`` on the simulator's loop (the world is not thread-safe)."""
        loop = self.loop
        if loop is None or loop.is_closed():
            raise RuntimeError("the simulator is not running")
        loop.call_soon_threadsafe(fn, *args)

    def call(self, fn: Callable[[], Any], timeout: float = 10.0) -> Any:
        """Run ``fn()`` on the simulator's loop and return its result."""
        loop = self.loop
        if loop is None or loop.is_closed():
            raise RuntimeError("the simulator is not running")

        async def on_loop() -> Any:
            return fn()

        return asyncio.run_coroutine_threadsafe(on_loop(), loop).result(timeout)

    def clock(self) -> SimClock:
        """The simulator's clock: a picture shown at simulated time."""
        return SimClock(self.sim)

    def stop(self, timeout: float = 40.0) -> None:
        """Stop serving (writes ``--state-out`` if set) and wait for the thread."""
        loop = self.loop
        if loop is not None and not loop.is_closed() and not self.finished.is_set():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self.sim.stop)
        if self._thread.is_alive():
            self._thread.join(timeout)


class SimClock:
    """Simulated time of a running simulator (so ages and timers match its world)."""

    def __init__(self, sim: DispatchSimulator) -> None:
        self.sim = sim

    def now(self) -> datetime:
        return self.sim.sim_now()
