"""What is alerting, derived from the state and the clock: plain Python, no Qt."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from console.domain.alerts import (
    ack_command,
    collect_alerts,
    critical_alerts,
    link_alert,
    no_eligible_alerts,
    severity_counts,
    sort_alerts,
)
from console.domain.events import Alert, AlertKind, Severity
from console.domain.model import Call, CallStatus, CallType, SafetyFlag, Team, TeamStatus
from console.domain.projection import Ack, State
from console.domain.rules import Thresholds

NOW = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)


def call(cid: str = "HCR-1", **kw: object) -> Call:
    base: dict[str, object] = dict(
        id=cid,
        status=CallStatus.PENDING,
        priority=2,
        type=CallType.MENTAL_HEALTH,
        received_at=NOW - timedelta(minutes=3),
        updated_at=NOW,
        lat=41.76,
        lon=-72.68,
    )
    base.update(kw)
    return Call(**base)  # type: ignore[arg-type]


def team(tid: str, status: TeamStatus = TeamStatus.AVAILABLE) -> Team:
    return Team(tid, status, NOW, provider="CRT", status_since=NOW)


def alert(aid: str, sev: Severity, minutes_ago: int, subject: str = "CRT-1") -> Alert:
    return Alert(
        aid, AlertKind.BACKUP_REQUEST, sev, subject, aid, NOW - timedelta(minutes=minutes_ago)
    )


def state(
    calls: Sequence[Call] = (), teams: Sequence[Team] = (), alerts: Sequence[Alert] = ()
) -> State:
    return State(
        calls={c.id: c for c in calls},
        teams={t.id: t for t in teams},
        alerts={a.id: a for a in alerts},
    )


@dataclass
class Link:
    up: bool
    since: datetime
    last_message_at: datetime | None = None


def test_a_pending_call_with_no_free_team_alerts_and_one_with_a_free_team_does_not() -> None:
    calls = [call("HCR-1")]
    assert no_eligible_alerts(calls, [team("CRT-1", TeamStatus.ASSIGNED)])[0].id == (
        "no_eligible_team:HCR-1"
    )
    assert no_eligible_alerts(calls, [team("CRT-1")]) == []
    assert no_eligible_alerts([call(status=CallStatus.ASSIGNED)], []) == []


def test_an_unsafe_call_alerts_even_with_free_teams() -> None:
    unsafe = call(safety_flags=(SafetyFlag.WEAPON,))
    [a] = no_eligible_alerts([unsafe], [team("CRT-1")])
    assert a.kind is AlertKind.NO_ELIGIBLE_TEAM and a.severity is Severity.HIGH


def test_link_alert_one_per_outage() -> None:
    since = NOW - timedelta(minutes=2)
    assert link_alert(False, Link(False, since), NOW) is None
    down = link_alert(True, Link(False, since), NOW, "reconnecting")
    assert down is not None and down.id == f"link_down:{since.isoformat()}"
    assert down.raised_at == since and down.message == "reconnecting"
    silent = link_alert(True, Link(True, since, last_message_at=NOW), NOW)
    assert silent is not None and silent.id == f"link_silent:{NOW.isoformat()}"
    unknown = link_alert(True, None, NOW)
    assert unknown is not None and unknown.raised_at == NOW


def test_collect_merges_sorts_and_drops_acknowledged_and_hidden() -> None:
    overdue = call("HCR-9", priority=1, received_at=NOW - timedelta(minutes=30))
    st = state(
        calls=[overdue],
        teams=[team("CRT-1")],
        alerts=[
            alert("backup:1", Severity.CRITICAL, 1),
            alert("backup:2", Severity.CRITICAL, 5),
            alert("acked", Severity.CRITICAL, 9),
            alert("mine", Severity.LOW, 9),
        ],
    )
    st.acks["acked"] = Ack("acked", "sup", NOW)
    link = link_alert(True, None, NOW)
    got = collect_alerts(st, NOW, Thresholds(), link=link, hidden={"mine"})
    ids = [a.id for a in got]
    assert ids[:2] == ["backup:2", "backup:1"]  # critical first, oldest first
    assert "pending_overdue:HCR-9" in ids and "link_down:stale" in ids
    assert "acked" not in ids and "mine" not in ids
    assert got == sort_alerts(reversed(got))
    # The clock alone moves timers: before the limit the call is not overdue.
    early = collect_alerts(st, overdue.received_at + timedelta(seconds=10), Thresholds())
    assert "pending_overdue:HCR-9" not in [a.id for a in early]


def test_critical_alerts_and_counts() -> None:
    st = state(alerts=[alert("b", Severity.CRITICAL, 1), alert("m", Severity.MEDIUM, 2)])
    assert [a.id for a in critical_alerts(st)] == ["b"]
    assert critical_alerts(st, hidden={"b"}) == []
    assert severity_counts(st.alerts.values()) == {Severity.CRITICAL: 1, Severity.MEDIUM: 1}


def test_ack_command_names_the_subject() -> None:
    st = state(calls=[call("HCR-1")], teams=[team("CRT-1")])
    cmd = ack_command(alert("x", Severity.HIGH, 1, subject="CRT-1"), st, "  on it ")
    assert (cmd.alert_id, cmd.reason, cmd.team_id, cmd.call_id) == ("x", "on it", "CRT-1", None)
    cmd = ack_command(alert("y", Severity.HIGH, 1, subject="HCR-1"), st, "")
    assert (cmd.call_id, cmd.team_id) == ("HCR-1", None)


def test_the_rules_load_without_qt() -> None:
    code = (
        "import sys, console.domain.alerts\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6')))"
    )
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
