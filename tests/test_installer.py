"""The installer files name the right paths and the one version of the package."""

from __future__ import annotations

import configparser
import re
import tomllib
from pathlib import Path

import pytest

import console

ROOT = Path(__file__).resolve().parents[1]
INSTALLER = ROOT / "installer"


def spec_name() -> str:
    m = re.search(r'^NAME = "([^"]+)"', (INSTALLER / "responder-console.spec").read_text(), re.M)
    assert m
    return m.group(1)


def test_one_version_source() -> None:
    ver = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert console.__version__ == ver
    for tpl in INSTALLER.rglob("*.in"):
        text = tpl.read_text()
        assert "@VERSION@" in text, f"{tpl.name} does not take the package version"
        assert not re.search(r"\b\d+\.\d+\.\d+\b", text.replace("Version=1.5", "")), (
            f"{tpl.name} hard-codes a version number"
        )


def test_inno_setup_script_names_the_bundle_layout() -> None:
    iss = (INSTALLER / "windows" / "responder-console.iss.in").read_text()
    name = spec_name()
    assert f'#define AppExe "{name}.exe"' in iss
    build_dir = re.search(r'#define BuildDir "([^"]+)"', iss)
    assert build_dir is not None
    # Relative to installer/windows/, the bundle is dist/<spec NAME> at the project root.
    rel = Path(*build_dir.group(1).split("\\"))
    assert (INSTALLER / "windows" / rel).resolve() == (ROOT / "dist" / name).resolve()
    sources = re.findall(r'^Source: "([^"]+)"', iss, re.M)
    assert sources == ["{#BuildDir}\\{#AppExe}", "{#BuildDir}\\_internal\\*"]
    bundle = ROOT / "dist" / name
    if bundle.is_dir():  # a real build exists: every path the script names is in it
        assert (bundle / name).exists() or (bundle / f"{name}.exe").exists()
        assert (bundle / "_internal").is_dir()


def test_desktop_entry_and_metainfo() -> None:
    cp = configparser.ConfigParser(interpolation=None)
    cp.optionxform = str  # type: ignore[assignment,method-assign]
    cp.read_string((INSTALLER / "linux" / "responder-console.desktop.in").read_text())
    entry = cp["Desktop Entry"]
    assert entry["Exec"].split()[0] == spec_name() == entry["TryExec"]
    assert (ROOT / "resources" / "icons" / f"{entry['Icon']}.svg").is_file()
    meta = next((INSTALLER / "linux").glob("*.metainfo.xml.in")).read_text()
    assert '<launchable type="desktop-id">responder-console.desktop</launchable>' in meta
    assert f"<binary>{spec_name()}</binary>" in meta


@pytest.mark.parametrize("path", ["entry.py", "build.py", "smoke_test.py"])
def test_installer_scripts_compile(path: str) -> None:
    compile((INSTALLER / path).read_text(), path, "exec")
