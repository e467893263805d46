"""Configuration: defaults, refusals that name key/value/allowed, versions, env override."""

from __future__ import annotations

import argparse
import tomllib
from datetime import time
from pathlib import Path

import pytest

from console import config as cfgmod
from console.cli import config as cfgcli
from console.config import (
    CONFIG_VERSION,
    DB_ENV,
    ConfigError,
    default_config_text,
    ensure_user_config,
    load_config,
    parse_config,
    redact_url,
    summary,
)
from console.domain.model import CallType
from console.domain.rules import RecommendationFactors, ServiceHours, Thresholds

NO_ENV: dict[str, str] = {}


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # platformdirs follows XDG on Linux: point the user dirs into the test's temp dir.
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.delenv(DB_ENV, raising=False)


def write(tmp_path: Path, text: str, name: str = "config.toml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def refused(text: str, **kw: object) -> str:
    with pytest.raises(ConfigError) as ei:
        parse_config(text, env=NO_ENV, **kw)  # type: ignore[arg-type]
    return str(ei.value)


# -- defaults -------------------------------------------------------------------------------------


def test_default_text_is_the_packaged_resource() -> None:
    repo = Path(__file__).resolve().parents[1]
    assert default_config_text() == (repo / "resources" / "default-config.toml").read_text(
        encoding="utf-8"
    )


def test_defaults_come_from_the_default_file(tmp_path: Path) -> None:
    doc = tomllib.loads(default_config_text())
    assert doc["config_version"] == CONFIG_VERSION
    cfg = load_config(None, env=NO_ENV, data_dir=tmp_path)
    assert cfg.source is None
    th = doc["thresholds"]
    assert cfg.thresholds == Thresholds(
        pending_s={int(k): float(v) for k, v in th["pending_s"].items()},
        pending_by_type_s={},
        checkin_interval_s=float(th["checkin_interval_s"]),
        position_stale_s=float(th["position_stale_s"]),
    )
    assert cfg.link_stale_s == th["link_stale_s"]
    assert cfg.dispatch_url == doc["dispatch"]["url"] == "ws://127.0.0.1:8765"
    rec = doc["recommendation"]
    assert cfg.recommendation == RecommendationFactors(
        circuity=rec["circuity"],
        speed_kmh=rec["speed_kmh"],
        workload_tiebreak_s=rec["workload_tiebreak_s"],
    )
    assert cfg.theme == "dark"
    assert doc["map"]["basemap"] == "demo"
    assert cfg.map.basemap == cfgmod.Basemap("pack", "hartford")
    assert cfg.map.tile_url == ""
    assert cfg.map.center == tuple(doc["map"]["center"])
    assert cfg.map.overlays == ()
    assert cfg.targets == {k: float(v) for k, v in doc["targets"].items()}
    assert cfg.database_url == f"sqlite:///{(tmp_path / 'console.sqlite').as_posix()}"
    assert cfg.database_url_from == "default"
    assert cfg.roster_path.name == "roster.toml"
    assert cfg.roster_path.parent.name == "resources"


def test_default_file_documents_every_key() -> None:
    """Each key the loader accepts appears in the default file (set, or commented out)."""
    text = default_config_text()
    for key in ("url", "checkin_interval_s", "position_stale_s", "link_stale_s", "tile_url"):
        assert f"{key} =" in text
    for key in ("tile_attribution", "center", "zoom", "overlays", "path", "circuity"):
        assert f"{key} =" in text
    for key in ("speed_kmh", "workload_tiebreak_s", "start", "end", "theme"):
        assert f"{key} =" in text
    for section in cfgmod._TOP[1:]:
        assert f"[{section}" in text


def test_docs_describe_every_key() -> None:
    doc = (Path(__file__).resolve().parents[1] / "docs" / "configuration.md").read_text()
    flat: list[str] = []

    def walk(prefix: str, table: dict[str, object]) -> None:
        for k, v in table.items():
            name = f"{prefix}.{k}" if prefix else k
            if isinstance(v, dict) and k not in ("pending_s",):
                walk(name, v)
            else:
                flat.append(name)

    walk("", tomllib.loads(default_config_text()))
    flat += ["database.url", "roster.path", "thresholds.pending_by_type_s", DB_ENV]
    for name in flat:
        assert f"`{name}" in doc, name


def test_partial_file_keeps_other_defaults(tmp_path: Path) -> None:
    p = write(tmp_path, '[ui]\ntheme = "light"\n[thresholds.pending_s]\n2 = 300\n')
    cfg = load_config(p, env=NO_ENV)
    assert cfg.theme == "light"
    default = load_config(None, env=NO_ENV)
    assert cfg.thresholds.pending_s == {**default.thresholds.pending_s, 2: 300.0}
    assert cfg.recommendation == default.recommendation
    assert cfg.source == p.resolve()


def test_domain_parameter_objects(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        """
config_version = 1
[thresholds]
checkin_interval_s = 900
position_stale_s = 120.5
[thresholds.pending_by_type_s]
overdose = 60
[recommendation]
circuity = 1.25
speed_kmh = 40
workload_tiebreak_s = 0
[escalation.mobile_crisis]
start = "22:30"
end = "06:00"
""",
    )
    cfg = load_config(p, env=NO_ENV)
    assert isinstance(cfg.thresholds, Thresholds)
    assert cfg.thresholds.checkin_interval_s == 900
    assert cfg.thresholds.position_stale_s == 120.5
    assert cfg.thresholds.pending_by_type_s == {"overdose": 60.0}
    assert cfg.recommendation == RecommendationFactors(1.25, 40.0, 0.0)
    assert cfg.mobile_crisis_hours == ServiceHours(time(22, 30), time(6, 0))
    assert cfg.mobile_crisis_hours.open_at(time(23, 0))
    assert not cfg.mobile_crisis_hours.open_at(time(12, 0))


def test_program_hours_default_around_the_clock_and_read_from_the_file() -> None:
    assert parse_config("", env=NO_ENV).program_hours == ServiceHours(time(0, 0), time(23, 59, 59))
    cfg = parse_config('[program_hours]\nstart="10:00"\nend="02:00"', env=NO_ENV)
    assert cfg.program_hours == ServiceHours(time(10, 0), time(2, 0))
    assert cfg.program_hours.open_at(time(1, 0))
    assert not cfg.program_hours.open_at(time(9, 0))
    assert any(line.startswith("program hours: 10:00-02:00") for line in summary(cfg))
    with pytest.raises(ConfigError, match=r"program_hours\.start"):
        parse_config('[program_hours]\nstart="9am"', env=NO_ENV)
    with pytest.raises(ConfigError, match=r"program_hours"):
        parse_config('[program_hours]\nopen="09:00"', env=NO_ENV)


def test_end_2400_means_end_of_day() -> None:
    cfg = parse_config('[escalation.mobile_crisis]\nstart="08:00"\nend="24:00"', env=NO_ENV)
    assert cfg.mobile_crisis_hours.open_at(time(23, 59, 30))
    assert not cfg.mobile_crisis_hours.open_at(time(7, 59))


# -- refusals --------------------------------------------------------------------------------------


def test_bad_value_names_key_value_and_allowed() -> None:
    msg = refused("[thresholds.pending_s]\n1 = -5\n")
    assert msg == "thresholds.pending_s.1: -5 is not allowed (expected a number of seconds > 0)"


def test_dispatch_tls_files_and_timeouts(tmp_path: Path) -> None:
    for name in ("ca.pem", "me.pem", "me.key"):
        (tmp_path / name).write_text("x")
    text = (
        '[dispatch]\nurl = "wss://cad.example/IncidentData/ent"\nca_file = "ca.pem"\n'
        'cert_file = "me.pem"\nkey_file = "me.key"\nsubscribe_timeout_s = 5\n'
        "silence_timeout_s = 90\n"
    )
    cfg = parse_config(text, source=tmp_path / "console.toml", env=NO_ENV)
    d = cfg.dispatch
    assert (d.ca_file, d.cert_file, d.key_file) == (
        tmp_path / "ca.pem",
        tmp_path / "me.pem",
        tmp_path / "me.key",
    )
    assert (d.subscribe_timeout_s, d.silence_timeout_s, d.allow_unencrypted) == (5, 90, False)
    default = parse_config("", env=NO_ENV).dispatch
    assert default.ca_file is None and default.subscribe_timeout_s == 10
    assert default.silence_timeout_s is None and not default.allow_unencrypted
    assert "no such file" in refused('[dispatch]\nca_file = "/nonexistent/ca.pem"')


@pytest.mark.parametrize(
    ("text", "key", "shown", "allowed"),
    [
        ('[ui]\ntheme = "dusk"', "ui.theme", '"dusk"', '"dark" or "light"'),
        ("[thresholds]\ncheckin_interval_s = 0", "thresholds.checkin_interval_s", "0", "> 0"),
        ('[thresholds]\nlink_stale_s = "30"', "thresholds.link_stale_s", '"30"', "seconds"),
        ("[thresholds]\nposition_stale_s = true", "thresholds.position_stale_s", "true", "> 0"),
        ("[thresholds.pending_by_type_s]\noverdose = -1", "pending_by_type_s.overdose", "-1", ">"),
        ("[recommendation]\ncircuity = 0.5", "recommendation.circuity", "0.5", ">= 1"),
        ("[recommendation]\nspeed_kmh = 0", "recommendation.speed_kmh", "0", "km/h > 0"),
        ("[recommendation]\nworkload_tiebreak_s = -1", "workload_tiebreak_s", "-1", ">= 0"),
        ('[dispatch]\nurl = "http//x"', "dispatch.url", '"http//x"', "ws:// or wss://"),
        ('[dispatch]\nurl = "ws://"', "dispatch.url", '"ws://"', "a host"),
        ('[dispatch]\nurl = "ws://h:99999"', "dispatch.url", "99999", "port"),
        ('[dispatch]\nallow_unencrypted = "yes"', "allow_unencrypted", '"yes"', "true or false"),
        ("[dispatch]\nsubscribe_timeout_s = 0", "subscribe_timeout_s", "0", "> 0"),
        ("[dispatch]\nsilence_timeout_s = -1", "silence_timeout_s", "-1", "> 0"),
        ('[database]\nurl = "mysql://h/db"', "database.url", "mysql", "sqlite:// or postgresql://"),
        ('[database]\nurl = "sqlite:/x.db"', "database.url", "sqlite:/x.db", "sqlite://"),
        ('[map]\ntile_url = "https://t/{z}/{x}.png"', "map.tile_url", "{x}.png", "{y}"),
        ("[map]\ncenter = [41.7]", "map.center", "[41.7]", "[latitude, longitude]"),
        ("[map]\ncenter = [91, 0]", "map.center[0]", "91", "latitude >= -90 and <= 90"),
        ("[map]\ncenter = [0, -181]", "map.center[1]", "-181", "longitude"),
        ("[map]\nzoom = 25", "map.zoom", "25", "1 to 19"),
        ("[map]\nzoom = 12.5", "map.zoom", "12.5", "whole number"),
        ('[map]\noverlays = "x"', "map.overlays", '"x"', "{name, path}"),
        ('[[map.overlays]]\nname = ""\npath = "a"', "map.overlays[0].name", '""', "non-empty"),
        ('[escalation.mobile_crisis]\nstart = "8am"', "mobile_crisis.start", '"8am"', "HH:MM"),
        ('[escalation.mobile_crisis]\nend = "23:60"', "mobile_crisis.end", '"23:60"', "HH:MM"),
        ("[targets]\nreceived_to_onscene = 0", "targets.received_to_onscene", "0", "> 0"),
        ("config_version = -1", "config_version", "-1", "whole number"),
        ('config_version = "1"', "config_version", '"1"', "whole number"),
        ("ui = 3", "ui", "3", "a table"),
    ],
)
def test_refusals(text: str, key: str, shown: str, allowed: str) -> None:
    msg = refused(text)
    assert key in msg.split(":")[0], msg
    assert shown in msg
    assert "is not allowed (expected" in msg
    assert allowed in msg


@pytest.mark.parametrize(
    ("text", "key", "known"),
    [
        ("colour = 1", "colour", "database"),
        ("[thresholds]\npendng_s = 1", "thresholds.pendng_s", "pending_s"),
        ("[thresholds.pending_s]\n4 = 100", "thresholds.pending_s.4", "1, 2, 3"),
        (
            "[thresholds.pending_by_type_s]\nflood = 100",
            "thresholds.pending_by_type_s.flood",
            "overdose",
        ),
        ("[map]\noverlay = []", "map.overlay", "overlays"),
        ('[[map.overlays]]\nname = "a"\nfile = "x"', "map.overlays[0].file", "path"),
        ("[targets]\nreceived_to_cleared = 5", "targets.received_to_cleared", "onscene_to_cleared"),
        ('[escalation.police]\nstart = "00:00"', "escalation.police", "mobile_crisis"),
    ],
)
def test_unknown_keys_are_refused(text: str, key: str, known: str) -> None:
    msg = refused(text)
    assert msg.startswith(f"{key}: unknown key"), msg
    assert known in msg


def test_every_call_type_may_have_its_own_limit() -> None:
    text = "[thresholds.pending_by_type_s]\n" + "\n".join(f"{t.value} = 77" for t in CallType)
    cfg = parse_config(text, env=NO_ENV)
    assert cfg.thresholds.pending_by_type_s == {t.value: 77.0 for t in CallType}


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    p = write(tmp_path, "[ui\ntheme = dark\n")
    with pytest.raises(ConfigError, match=r"config\.toml is not valid TOML.*line 1"):
        load_config(p, env=NO_ENV)


def test_missing_explicit_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.toml", env=NO_ENV)
    with pytest.raises(ConfigError, match="folder"):
        load_config(tmp_path, env=NO_ENV)


# -- versions --------------------------------------------------------------------------------------


def test_newer_version_is_refused(tmp_path: Path) -> None:
    p = write(tmp_path, f"config_version = {CONFIG_VERSION + 1}\n")
    with pytest.raises(ConfigError) as ei:
        load_config(p, env=NO_ENV)
    msg = str(ei.value)
    assert str(p) in msg
    assert f"config_version = {CONFIG_VERSION + 1}" in msg
    assert "newer" in msg


def test_older_version_is_migrated(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        "config_version = 0\n[thresholds]\npending_p1_s = 90\npending_p3_s = 2400\n",
    )
    cfg = load_config(p, env=NO_ENV)
    assert cfg.raw["config_version"] == CONFIG_VERSION
    assert cfg.thresholds.pending_s[1] == 90
    assert cfg.thresholds.pending_s[3] == 2400
    assert cfg.thresholds.pending_s[2] == load_config(None, env=NO_ENV).thresholds.pending_s[2]
    # The file itself is left as it was.
    assert "pending_p1_s" in p.read_text()


def test_bad_value_in_migrated_file_is_refused_by_its_new_key() -> None:
    msg = refused("config_version = 0\n[thresholds]\npending_p2_s = -3\n")
    assert msg.startswith("thresholds.pending_s.2: -3 is not allowed")


# -- database URL and secrets ----------------------------------------------------------------------


def test_env_overrides_database_url(tmp_path: Path) -> None:
    p = write(tmp_path, '[database]\nurl = "sqlite:////srv/a.sqlite"\n')
    assert load_config(p, env=NO_ENV).database_url == "sqlite:////srv/a.sqlite"
    assert load_config(p, env=NO_ENV).database_url_from == "config"
    env = {DB_ENV: "postgresql+psycopg://rc:s3cret@db.example:5432/responder"}
    cfg = load_config(p, env=env)
    assert cfg.database_url == env[DB_ENV]
    assert cfg.database_url_from == DB_ENV
    assert "s3cret" not in cfg.database_url_redacted
    assert "s3cret" not in repr(cfg.database_url_redacted)


def test_env_from_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DB_ENV, "sqlite:////tmp/x.sqlite")
    assert load_config(None).database_url == "sqlite:////tmp/x.sqlite"


def test_bad_url_error_never_shows_the_password() -> None:
    msg = refused('[database]\nurl = "mysql://admin:hunter2@db/x"\n')
    assert "database.url" in msg and "hunter2" not in msg and "***" in msg
    with pytest.raises(ConfigError) as ei:
        parse_config("", env={DB_ENV: "oracle://u:topsecret@h/db"})
    assert DB_ENV in str(ei.value) and "topsecret" not in str(ei.value)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://u:p@h/db", "postgresql://u:***@h/db"),
        ("postgresql+psycopg://u:p%40ss@h:5432/db?x=1", "postgresql+psycopg://u:***@h:5432/db?x=1"),
        ("postgresql://u@h/db", "postgresql://u@h/db"),
        ("sqlite:////tmp/x.sqlite", "sqlite:////tmp/x.sqlite"),
        ("postgresql://u:p@[::1]:5432/db", "postgresql://u:***@[::1]:5432/db"),
    ],
)
def test_redact_url(url: str, expected: str) -> None:
    assert redact_url(url) == expected


# -- paths -----------------------------------------------------------------------------------------


def test_relative_paths_are_relative_to_the_config_file(tmp_path: Path) -> None:
    (tmp_path / "geo").mkdir()
    (tmp_path / "geo" / "outline.geojson").write_text("{}")
    (tmp_path / "my-roster.toml").write_text("")
    p = write(
        tmp_path,
        '[roster]\npath = "my-roster.toml"\n'
        '[[map.overlays]]\nname = "City"\npath = "geo/outline.geojson"\n',
    )
    cfg = load_config(p, env=NO_ENV)
    assert cfg.roster_path == tmp_path.resolve() / "my-roster.toml"
    assert [(o.name, o.path) for o in cfg.map.overlays] == [
        ("City", tmp_path.resolve() / "geo" / "outline.geojson")
    ]


def test_overlays_from_shared_data() -> None:
    geo = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "geo" / "hartford"
    files = sorted(geo.glob("hartford-outline*"))
    if not files:
        pytest.skip("shared Hartford geography not present")
    text = f'[[map.overlays]]\nname = "Hartford"\npath = "{files[0].as_posix()}"\n'
    cfg = parse_config(text, env=NO_ENV)
    assert cfg.map.overlays[0].path == files[0]


def test_missing_overlay_or_roster_file_is_refused(tmp_path: Path) -> None:
    p = write(tmp_path, '[[map.overlays]]\nname = "x"\npath = "missing.geojson"\n')
    with pytest.raises(ConfigError, match=r"map\.overlays\[0\]\.path: \"missing.geojson\""):
        load_config(p, env=NO_ENV)
    p = write(tmp_path, '[roster]\npath = "none.toml"\n')
    with pytest.raises(ConfigError, match=r"roster\.path.*no such file"):
        load_config(p, env=NO_ENV)


# -- first start -----------------------------------------------------------------------------------


def test_user_config_file_is_found(tmp_path: Path) -> None:
    target = cfgmod.user_config_file()
    assert target.is_relative_to(tmp_path)
    target.parent.mkdir(parents=True)
    target.write_text('[ui]\ntheme = "light"\n')
    cfg = load_config(None, env=NO_ENV)
    assert cfg.theme == "light"
    assert cfg.source == target.resolve()


def test_ensure_user_config_writes_defaults_once(tmp_path: Path) -> None:
    path = ensure_user_config()
    assert path == cfgmod.user_config_file()
    assert path.read_text(encoding="utf-8") == default_config_text()
    assert cfgmod.user_data_dir().is_dir()
    # The written file loads to the same configuration as no file at all.
    assert load_config(path, env=NO_ENV).thresholds == load_config(None, env=NO_ENV).thresholds
    path.write_text('[ui]\ntheme = "light"\n')
    assert ensure_user_config() == path
    assert path.read_text() == '[ui]\ntheme = "light"\n'


def test_ensure_user_config_explicit_paths(tmp_path: Path) -> None:
    path = ensure_user_config(tmp_path / "c" / "rc.toml", tmp_path / "data")
    assert path.is_file() and (tmp_path / "data").is_dir()


# -- responder-console config ---------------------------------------------------------------------


def _cli(argv: list[str]) -> tuple[int, argparse.Namespace]:
    parser = argparse.ArgumentParser(prog="responder-console")
    parser.add_argument("--config")
    sub = parser.add_subparsers(dest="command")
    cfgcli.configure_parser(sub.add_parser("config"))
    args = parser.parse_args(argv)
    return cfgcli.run(args), args


def test_cli_checks_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = write(tmp_path, '[ui]\ntheme = "light"\n[database]\nurl = "postgresql://u:pw@h/db"\n')
    code, _ = _cli(["config", str(good)])
    out = capsys.readouterr()
    assert code == 0
    assert "theme: light" in out.out and "postgresql://u:***@h/db (from config)" in out.out
    assert "pw@" not in out.out
    bad = write(tmp_path, "[ui]\ntheme = 1\n", "bad.toml")
    code, _ = _cli(["--config", str(bad), "config"])
    err = capsys.readouterr().err
    assert code == 2
    assert (
        err.strip() == 'responder-console: ui.theme: 1 is not allowed (expected "dark" or "light")'
    )


def test_cli_default_and_init(capsys: pytest.CaptureFixture[str]) -> None:
    assert _cli(["config", "--default"])[0] == 0
    assert capsys.readouterr().out == default_config_text()
    assert _cli(["config", "--init"])[0] == 0
    path = Path(capsys.readouterr().out.strip())
    assert path == cfgmod.user_config_file() and path.is_file()
    assert _cli(["config"])[0] == 0
    assert f"file: {path.resolve()}" in capsys.readouterr().out


def test_missing_packaged_defaults_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cfgmod, "resource_path", lambda name: tmp_path / "nowhere" / name)
    with pytest.raises(ConfigError, match=r"default-config\.toml\) is missing"):
        load_config(None, env=NO_ENV)


def test_dispatch_limits_are_read_and_checked() -> None:
    cfg = parse_config(
        "[dispatch]\nmax_depth = 32\nmax_frame_bytes = 65536\nmax_document_bytes = 4096\n"
        "clock_skew_s = 30\n",
        env=NO_ENV,
    )
    lim = cfg.feed_limits
    assert (lim.max_depth, lim.max_frame_bytes, lim.max_document_bytes) == (32, 65536, 4096)
    assert lim.clock_skew_s == 30
    assert parse_config("", env=NO_ENV).feed_limits.max_depth == 64
    assert "dispatch.max_depth" in refused("[dispatch]\nmax_depth = 2\n")
    assert "dispatch.max_document_bytes" in refused(
        "[dispatch]\nmax_frame_bytes = 8192\nmax_document_bytes = 65536\n"
    )
    assert "dispatch.clock_skew_s" in refused("[dispatch]\nclock_skew_s = -1\n")
