"""The follow-up, program-hours, check-in policy and team tables of the configuration."""

from __future__ import annotations

from datetime import time, timedelta
from pathlib import Path

import pytest

from console.config import ConfigError, load_config, summary
from console.domain.checkin import CALL_TEAM, REQUEST_CHECKIN, CheckinPolicy, LadderStep
from console.domain.followup import FollowUpPolicy
from console.domain.program import Outcome

SITE = """
[program_hours]
start = "07:00"
end = "19:00"

[followup]
open_automatically = true
due_h = 24
default_owner = "Care navigators"
dispositions = ["referred", "transported"]
outcomes = ["refused_services"]

[followup.due_by_cause_h]
transported = 72
outside_hours = 12

[checkin]
private_location_types = ["RES"]
default_team_size = 3

[[checkin.rule]]
name = "home at night"
interval_s = 900
setting = "private"
night = true

[[checkin.rule]]
interval_s = 600
call_types = ["overdose"]
caution = true
max_team_size = 2

[[checkin.ladder]]
after_s = 0
action = "request_checkin"

[[checkin.ladder]]
after_s = 300
action = "call_team"

[teams."CRT-1"]
contact = "860-555-0101"
size = 1
"""


def load(tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    p = tmp_path / "config.toml"
    p.write_text(text, encoding="utf-8")
    return load_config(p, env={}, data_dir=tmp_path)


def test_defaults(tmp_path: Path) -> None:
    cfg = load_config(None, env={}, data_dir=tmp_path)
    assert cfg.followup == FollowUpPolicy()
    assert cfg.thresholds.checkin == CheckinPolicy()
    assert any("ladder: none" in line for line in summary(cfg))


def test_a_site_file(tmp_path: Path) -> None:
    cfg = load(tmp_path, SITE)
    fu = cfg.followup
    assert fu.automatic and not FollowUpPolicy().automatic
    assert fu.due == timedelta(hours=24) and fu.default_owner == "Care navigators"
    assert fu.due_after("transported") == timedelta(hours=72)
    assert fu.due_after("referred") == timedelta(hours=24)
    assert fu.dispositions == {"referred", "transported"}
    assert fu.outcomes == {Outcome.REFUSED_SERVICES}
    assert fu.program_hours is not None and fu.program_hours.start == time(7)
    ck = cfg.thresholds.checkin
    assert [r.label for r in ck.rules] == [
        "home at night",
        "overdose, team of 2 or fewer, caution flag",
    ]
    assert ck.ladder == (LadderStep(0, REQUEST_CHECKIN), LadderStep(300, CALL_TEAM))
    assert ck.contacts == {"CRT-1": "860-555-0101"} and ck.team_sizes == {"CRT-1": 1}
    assert ck.default_team_size == 3 and ck.private_location_types == {"RES"}
    assert cfg.thresholds.checkin_interval_s == 1800
    text = "\n".join(summary(cfg))
    assert "2 rule(s)" in text and "07:00-19:00" in text


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[followup]\ndue_h = 0", "followup.due_h"),
        ('[followup]\nopen_automatically = "yes"', "followup.open_automatically"),
        ('[followup]\ndefault_owner = " "', "followup.default_owner"),
        ('[followup]\ndispositions = ["lost"]', "followup.dispositions"),
        ("[followup.due_by_cause_h]\nnever = 3", "followup.due_by_cause_h"),
        ('[program_hours]\nstart = "7am"', "program_hours.start"),
        ("[[checkin.rule]]\nname = 'x'", "checkin.rule[0].interval_s"),
        ('[[checkin.rule]]\ninterval_s = 60\nsetting = "garden"', "checkin.rule[0].setting"),
        ('[[checkin.rule]]\ninterval_s = 60\ncall_types = ["riot"]', "checkin.rule[0].call_types"),
        ('[[checkin.rule]]\ninterval_s = 60\nnight = "yes"', "checkin.rule[0].night"),
        ('[[checkin.ladder]]\naction = "pray"', "checkin.ladder[0].action"),
        (
            '[[checkin.ladder]]\nafter_s = 300\naction = "call_team"\n'
            '[[checkin.ladder]]\nafter_s = 0\naction = "welfare_check"',
            "checkin.ladder[1].after_s",
        ),
        ('[teams."CRT-1"]\nsize = 0', "teams.CRT-1.size"),
        ('[teams."CRT-1"]\nphone = "1"', "teams.CRT-1"),
    ],
)
def test_refusals_name_the_key(tmp_path: Path, text: str, key: str) -> None:
    with pytest.raises(ConfigError) as exc:
        load(tmp_path, text)
    assert key in str(exc.value)
