"""The layers of docs/architecture.md: the import-linter contracts in pyproject.toml, and nothing
below console/ui imports Qt, pyqtgraph or folium, even indirectly."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORE = [
    "console.domain",
    "console.wire",
    "console.store",
    "console.sync",
    "console.sim",
    "console.replay",
]
FORBIDDEN = ("PySide6", "shiboken6", "pyqtgraph", "folium", "branca")


def _modules(package: str) -> list[str]:
    base = ROOT / Path(*package.split("."))
    if not base.is_dir():
        return []
    mods = []
    for f in base.rglob("*.py"):
        rel = f.relative_to(ROOT).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if "migrations" in parts:
            continue
        mods.append(".".join(parts))
    return sorted(mods)


@pytest.mark.parametrize("package", CORE)
def test_core_imports_no_gui(package: str) -> None:
    mods = _modules(package)
    if not mods:
        pytest.skip(f"{package} has no modules yet")
    code = (
        "import sys, importlib\n"
        f"mods = {mods!r}\n"
        "for m in mods: importlib.import_module(m)\n"
        f"bad = sorted(k for k in sys.modules if k.split('.')[0] in {FORBIDDEN!r})\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "", f"{package} pulls in GUI modules: {out.stdout.strip()}"


def test_the_check_itself_catches_a_gui_import() -> None:
    code = "import sys; import console.domain; import pyqtgraph; print('pyqtgraph' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert out.stdout.strip() == "True"


def _lint_imports() -> str:
    tool = Path(sys.executable).with_name("lint-imports")
    found = str(tool) if tool.exists() else shutil.which("lint-imports")
    assert found, "lint-imports is missing: install the test extras (import-linter)"
    return found


def test_import_contracts_are_kept() -> None:
    out = subprocess.run(
        [_lint_imports(), "--no-cache"], capture_output=True, text=True, cwd=ROOT, timeout=300
    )
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    assert "0 broken" in out.stdout


def test_lint_imports_catches_a_broken_layer(tmp_path: Path) -> None:
    pkg = tmp_path / "layered"
    for name, body in {
        "__init__.py": "",
        "low.py": "import layered.high\n",
        "high.py": "import layered.low\n",
    }.items():
        pkg.mkdir(exist_ok=True)
        (pkg / name).write_text(body)
    cfg = tmp_path / "contracts.ini"
    cfg.write_text(
        "[importlinter]\nroot_package = layered\n\n"
        "[importlinter:contract:layers]\nname = layers\ntype = layers\n"
        "layers =\n    layered.high\n    layered.low\n"
    )
    out = subprocess.run(
        [_lint_imports(), "--no-cache", "--config", str(cfg)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PYTHONPATH": str(tmp_path), "PATH": ""},
        timeout=300,
    )
    assert out.returncode != 0
    assert "BROKEN" in out.stdout
