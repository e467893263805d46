"""Every package and resource the console needs is installed with it."""

from __future__ import annotations

import tomllib
from importlib.resources import files
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_is_listed() -> None:
    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    found = {
        ".".join(p.parent.relative_to(ROOT).parts)
        for top in ("console", "benchmarks")
        for p in (ROOT / top).rglob("__init__.py")
    }
    assert found - listed == set(), "add these to [tool.setuptools] packages in pyproject.toml"


def test_resources_and_migrations_are_reachable_as_package_data() -> None:
    res = files("console.resources")
    assert (res / "default-config.toml").is_file()
    assert (res / "roster.toml").is_file()
    assert (files("console.store") / "migrations" / "versions").is_dir()
