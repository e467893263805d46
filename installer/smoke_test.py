"""Start a console build offscreen on the demo feed; pass when the map has Leaflet and markers.

    python installer/smoke_test.py PATH_TO_EXECUTABLE [--timeout 180]

QtWebEngine's helper process and resources are what usually break in a frozen build, so this
checks the map page itself: the console's ``--smoke-test`` mode exits 0 only once the page
reports ``typeof L === "object"`` and at least one marker drawn.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "executable",
        nargs="+",
        help="the console command (e.g. dist/responder-console/responder-console)",
    )
    ap.add_argument("--timeout", type=float, default=180.0)
    args = ap.parse_args()
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    env.setdefault("QTWEBENGINE_CHROMIUM_FLAGS", "--no-sandbox --disable-gpu")
    with tempfile.TemporaryDirectory(prefix="rc-smoke-") as home:
        env["XDG_DATA_HOME"] = os.path.join(home, "data")
        env["XDG_CONFIG_HOME"] = os.path.join(home, "config")
        t0 = time.monotonic()
        proc = subprocess.run(
            [*args.executable, "--demo", "--smoke-test", str(int(args.timeout))],
            env=env,
            capture_output=True,
            text=True,
            timeout=args.timeout + 60,
        )
    dt = time.monotonic() - t0
    sys.stdout.write(proc.stdout)
    sys.stderr.write(proc.stderr[-4000:])
    verdict = "PASS" if proc.returncode == 0 else f"FAIL (exit {proc.returncode})"
    print(f"smoke test: {verdict} in {dt:.1f} s")
    return proc.returncode


if __name__ == "__main__":
    raise SystemExit(main())
