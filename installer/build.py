"""Build the one-folder bundle, render the platform files from the package version, smoke-test.

    python installer/build.py [--skip-build] [--no-smoke]

Writes dist/responder-console/ (the bundle), dist/responder-console-VERSION-linux-x86_64.tar.gz,
and renders installer/linux/*.desktop, *.metainfo.xml and installer/windows/*.iss from their
``.in`` templates (one version source: the package version).
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INSTALLER = ROOT / "installer"
DIST = ROOT / "dist"
NAME = "responder-console"


def version() -> str:
    import tomllib

    return str(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"])


def render_templates(ver: str) -> list[Path]:
    """Fill @VERSION@/@DATE@ into every ``*.in`` file under installer/; returns the outputs."""
    out = []
    today = dt.date.today().isoformat()
    for tpl in sorted(INSTALLER.rglob("*.in")):
        target = tpl.with_suffix("")
        target.write_text(tpl.read_text().replace("@VERSION@", ver).replace("@DATE@", today))
        out.append(target)
    return out


def build() -> Path:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "PyInstaller",
            "--noconfirm",
            "--clean",
            "--distpath",
            str(DIST),
            "--workpath",
            str(ROOT / "build" / "pyinstaller"),
            str(INSTALLER / f"{NAME}.spec"),
        ],
        check=True,
        cwd=ROOT,
    )
    return DIST / NAME


def linux_extras(bundle: Path) -> None:
    share = bundle / "share"
    (share / "applications").mkdir(parents=True, exist_ok=True)
    (share / "metainfo").mkdir(parents=True, exist_ok=True)
    (share / "icons" / "hicolor" / "scalable" / "apps").mkdir(parents=True, exist_ok=True)
    shutil.copy(INSTALLER / "linux" / f"{NAME}.desktop", share / "applications" / f"{NAME}.desktop")
    for f in (INSTALLER / "linux").glob("*.metainfo.xml"):
        shutil.copy(f, share / "metainfo" / f.name)
    shutil.copy(
        ROOT / "resources" / "icons" / f"{NAME}.svg",
        share / "icons" / "hicolor" / "scalable" / "apps" / f"{NAME}.svg",
    )


def tarball(bundle: Path, ver: str) -> Path:
    out = DIST / f"{NAME}-{ver}-linux-{platform.machine()}.tar.gz"
    with tarfile.open(out, "w:gz") as tar:
        tar.add(bundle, arcname=f"{NAME}-{ver}")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--skip-build", action="store_true", help="reuse dist/responder-console")
    ap.add_argument("--no-smoke", action="store_true", help="do not run the smoke test")
    args = ap.parse_args()
    ver = version()
    for p in render_templates(ver):
        print(f"rendered {p.relative_to(ROOT)}")
    t0 = time.monotonic()
    bundle = DIST / NAME if args.skip_build else build()
    print(f"bundle: {bundle} ({time.monotonic() - t0:.0f} s)")
    if sys.platform.startswith("linux"):
        linux_extras(bundle)
        print(f"tarball: {tarball(bundle, ver)}")
    if not args.no_smoke:
        exe = bundle / (NAME + (".exe" if sys.platform == "win32" else ""))
        return subprocess.run(
            [sys.executable, str(INSTALLER / "smoke_test.py"), str(exe)]
        ).returncode
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
