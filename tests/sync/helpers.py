"""Running the real simulator and sync service on loopback for tests."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from console.sync.simulator import DispatchSimulator

ROOT = Path(__file__).resolve().parents[2]


def wait_until(cond: Callable[[], bool], timeout: float, what: str, every: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class SimThread:
    """A DispatchSimulator serving on 127.0.0.1:0 from its own thread and event loop."""

    def __init__(self, sim: DispatchSimulator) -> None:
        self.sim = sim
        self.loop: asyncio.AbstractEventLoop | None = None
        self.done = threading.Event()
        self.error: BaseException | None = None
        self._ready = threading.Event()
        self.thread = threading.Thread(target=self._main, daemon=True)

    def _main(self) -> None:
        async def go() -> None:
            self.loop = asyncio.get_running_loop()
            ready = asyncio.Event()
            task = asyncio.create_task(self.sim.serve("127.0.0.1", 0, ready=ready))
            await ready.wait()
            self._ready.set()
            await task

        try:
            asyncio.run(go())
        except BaseException as exc:  # surfaced by the test
            self.error = exc
        finally:
            self._ready.set()
            self.done.set()

    def start(self) -> SimThread:
        self.thread.start()
        assert self._ready.wait(10), "simulator did not start"
        if self.error:
            raise self.error
        return self

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.sim.port}"

    def call(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` on the simulator's loop and return its result."""
        assert self.loop is not None
        fut: Any = asyncio.run_coroutine_threadsafe(_acall(fn), self.loop)
        return fut.result(10)

    def stop(self) -> None:
        if self.loop is not None and not self.done.is_set():
            self.loop.call_soon_threadsafe(self.sim.stop)
        self.done.wait(40)


async def _acall(fn: Callable[[], Any]) -> Any:
    return fn()


def cli(*args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    res = subprocess.run(
        [sys.executable, "-m", "console", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and res.returncode != 0:
        raise AssertionError(
            f"console {' '.join(args)} failed ({res.returncode}): {res.stderr[-2000:]}"
        )
    return res


def spawn(*args: str, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    fh = open(log, "ab")  # noqa: SIM115 - lives as long as the process
    return subprocess.Popen(
        [sys.executable, "-m", "console", *args], cwd=ROOT, env=env, stdout=fh, stderr=fh
    )


def state_of(db_url: str) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(cli("state", "--db", db_url, "--json").stdout)
    return out


def assert_same_picture(console: dict[str, Any], truth: dict[str, Any]) -> None:
    """Every call and team equal, field by field, with a readable first difference."""
    tc = {c["id"]: c for c in truth["calls"]}
    cc = {c["id"]: c for c in console["calls"]}
    assert set(cc) == set(tc), (
        f"calls differ: missing {set(tc) - set(cc)}, extra {set(cc) - set(tc)}"
    )
    for k, c in tc.items():
        assert cc[k] == c, f"call {k}: console {cc[k]} != dispatch {c}"
    tt = {t["id"]: t for t in truth["teams"]}
    ct = {t["id"]: t for t in console["teams"]}
    assert set(ct) == set(tt), f"teams differ: {set(ct) ^ set(tt)}"
    for k, t in tt.items():
        assert ct[k] == t, f"team {k}: console {ct[k]} != dispatch {t}"
