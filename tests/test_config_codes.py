"""The site's code table (`[codes]`) and the default priority: checked at start, errors name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.config import ConfigError, load_config, parse_config, site_codes
from console.wire import registry as reg

NO_ENV: dict[str, str] = {}


def test_codes_tables_map_the_cads_codes() -> None:
    cfg = parse_config(
        '[dispatch]\ndefault_priority = 3\n[codes.call_type]\n"PSYCH" = "mental_health"\n'
        '[codes.team_status]\n"LUNCH" = "out_of_service"\n[codes.location_type]\n'
        '"XST" = "CurrentIncident"\n',
        env=NO_ENV,
    )
    codes = site_codes(cfg)
    assert codes.get("call_type", "psych") == "mental_health"
    assert codes.get("team_status", "LUNCH") == "out_of_service"
    assert codes.get("location_type", "XST") == "CurrentIncident"
    assert codes.default_priority == 3


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ('[codes.call_type]\n"PSYCH" = "psychic"\n', "codes.call_type.PSYCH"),
        ('[codes.colour]\n"RED" = "red"\n', "codes.colour"),
        ('[codes.call_status]\n"HOLD" = 3\n', "codes.call_status.HOLD"),
        ("[codes]\ncall_type = 4\n", "codes.call_type"),
        ("[dispatch]\ndefault_priority = 0\n", "dispatch.default_priority"),
        ('[codes]\nfile = "nowhere.toml"\n', "codes.file"),
    ],
)
def test_a_bad_code_table_is_refused_naming_the_key(text: str, names: str) -> None:
    with pytest.raises(ConfigError) as exc:
        parse_config(text, env=NO_ENV)
    assert names in str(exc.value)


def test_a_codes_file_named_by_the_config(tmp_path: Path) -> None:
    (tmp_path / "cad-codes.toml").write_text(
        '[call_type]\n"PSYCH" = "mental_health"\n"DRUNK" = "substance_use"\n', encoding="utf-8"
    )
    cfg_path = tmp_path / "config.toml"
    cfg_path.write_text(
        '[codes]\nfile = "cad-codes.toml"\n[codes.call_type]\n"DRUNK" = "overdose"\n',
        encoding="utf-8",
    )
    try:
        cfg = load_config(cfg_path, env=NO_ENV)
        assert dict(cfg.codes["call_type"]) == {"PSYCH": "mental_health", "DRUNK": "overdose"}
        # loading the file installs its table for this process's reader
        assert reg.site_codes().get("call_type", "PSYCH") == "mental_health"
    finally:
        reg.install_site_codes(reg.SiteCodes())
    (tmp_path / "cad-codes.toml").write_text('[call_type]\n"X" = "nope"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"cad-codes\.toml.*call_type\.X"):
        load_config(cfg_path, env=NO_ENV)
    reg.install_site_codes(reg.SiteCodes())
