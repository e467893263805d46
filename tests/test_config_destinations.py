from __future__ import annotations

import json
from pathlib import Path

import pytest

from console.config import ConfigError, load_config, load_destinations, parse_config, resource_path
from console.domain.destinations import DestinationKind

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "geo" / "hartford"


def test_no_destinations_by_default() -> None:
    cfg = parse_config("")
    assert not cfg.destinations
    assert cfg.destinations.capacity_stale_s == 14400
    assert cfg.destinations.wait_alert_s == 2700


def test_site_file_relative_to_the_config(tmp_path: Path) -> None:
    (tmp_path / "dest.json").write_text(
        json.dumps(
            {
                "version": 1,
                "destination": [
                    {
                        "id": "s1",
                        "name": "Shelter",
                        "kind": "shelter",
                        "lat": 41.7,
                        "lon": -72.6,
                        "hours": "24/7",
                        "capacity": 9,
                    }
                ],
            }
        )
    )
    cfg_file = tmp_path / "config.toml"
    cfg_file.write_text('[destinations]\nfile = "dest.json"\ncapacity_stale_s = 3600\n')
    cfg = load_config(cfg_file, env={}, data_dir=tmp_path)
    [d] = cfg.destinations.destinations
    assert d.capacity == 9 and cfg.destinations.capacity_stale_s == 3600


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[destinations]\nfile = "nowhere.toml"\n', "destinations.file"),
        ("[destinations]\nwait_alert_s = 0\n", "destinations.wait_alert_s"),
        ("[destinations]\nbeds = 3\n", "destinations.beds: unknown key"),
    ],
)
def test_bad_settings_refused_in_one_line(tmp_path: Path, text: str, message: str) -> None:
    f = tmp_path / "config.toml"
    f.write_text(text)
    with pytest.raises(ConfigError) as e:
        load_config(f, env={}, data_dir=tmp_path)
    assert message in str(e.value) and "\n" not in str(e.value)


def test_bad_destinations_file_names_file_entry_and_key(tmp_path: Path) -> None:
    f = tmp_path / "dest.toml"
    f.write_text('[[destination]]\nid = "x"\nname = "X"\nkind = "bar"\nlat = 1\nlon = 1\n')
    with pytest.raises(ConfigError) as e:
        load_destinations(f)
    msg = str(e.value)
    assert str(f) in msg and "destination 'x'.kind" in msg and "\n" not in msg
    f.write_text("[[destination]\n")
    with pytest.raises(ConfigError, match="is not valid TOML"):
        load_destinations(f)


def test_sample_is_marked_and_built_from_the_public_hospital_points() -> None:
    ds = parse_config('[destinations]\nfile = "sample"\n').destinations
    assert ds.sample and all(d.sample for d in ds.destinations)
    kinds = {d.kind for d in ds.destinations}
    assert kinds == set(DestinationKind)
    eds = [d for d in ds.destinations if d.kind is DestinationKind.EMERGENCY_DEPARTMENT]
    points = json.loads((DATA / "ct-hospitals-points-cms.geojson").read_text())["features"]
    hartford = [
        f["geometry"]["coordinates"] for f in points if f["properties"]["City"] == "HARTFORD"
    ]
    assert len(eds) == len(hartford) == 3
    for d in eds:
        assert any(abs(d.lat - lat) < 1e-3 and abs(d.lon - lon) < 1e-3 for lon, lat in hartford)
    # Every place not derived from the public points says it is a sample in its name.
    assert all("(sample)" in d.name for d in ds.destinations if d not in eds)
    assert (resource_path("LICENSE.HandsOnDataViz-book.txt")).is_file()


def test_the_simulated_dispatch_takes_people_to_places_the_sample_lists() -> None:
    from console.sim.world import DESTINATIONS

    ds = parse_config('[destinations]\nfile = "sample"\n').destinations
    for name, lat, lon in DESTINATIONS:
        d = ds.get(name)
        assert d is not None, name
        # Within a few hundred metres: the simulated van drives to about where the place is.
        assert abs(d.lat - lat) < 3e-3 and abs(d.lon - lon) < 3e-3
