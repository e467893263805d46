"""What is alerting, derived from the state and the clock (never stored by a view).

Timers (pending too long, check-in overdue, stale position) come from
:func:`console.domain.rules.timer_alerts` at the given time; alerts dispatch raised (backup
request / emergency) are in the state; pending calls no team may take and a dispatch link that
is down or silent are derived here. Acknowledged ones (the state's ``acks``) drop out.
Stdlib and domain only: the console's alert panel and banner present what this computes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Protocol

from console.domain.checkin import ladder_alerts, ladder_due
from console.domain.commands import AcknowledgeAlert
from console.domain.destinations import DestinationSet, wait_alerts
from console.domain.events import Alert, AlertKind, Severity
from console.domain.followup import overdue_alerts
from console.domain.model import Call, CallStatus, CallType, Team, TeamStatus
from console.domain.projection import State
from console.domain.rules import Thresholds, ineligibility, safety_screen, timer_alerts


class LinkStatus(Protocol):
    """What the link alert needs to know about the dispatch link."""

    @property
    def up(self) -> bool: ...

    @property
    def since(self) -> datetime: ...

    @property
    def last_message_at(self) -> datetime | None: ...


def no_eligible_alerts(calls: Iterable[Call], teams: Iterable[Team]) -> list[Alert]:
    """Pending calls no civilian team may take: unsafe ones (escalate) and those every team is
    ineligible for (busy, off duty, missing a capability)."""
    # Busy, off-duty and out-of-service teams can take no pending call (the recommendation
    # also refuses a busy team on the call itself): only the rest need the capability checks.
    free = [t for t in teams if t.status.on_duty and not t.status.busy]
    out: list[Alert] = []
    for c in calls:
        if c.status is not CallStatus.PENDING:
            continue
        screen = safety_screen(c)
        if not screen.civilian_ok:
            msg = f"{c.id}: {screen.message}"
        elif any(not ineligibility(c, t) for t in free):
            continue
        else:
            msg = f"{c.id} (P{c.priority} {c.type.label}): no eligible team on duty right now"
        out.append(
            Alert(
                f"no_eligible_team:{c.id}",
                AlertKind.NO_ELIGIBLE_TEAM,
                Severity.HIGH,
                c.id,
                msg,
                c.received_at,
            )
        )
    return out


def unknown_code_alerts(calls: Iterable[Call], teams: Iterable[Team]) -> list[Alert]:
    """Open calls and teams carrying a status or type dispatch sent that the console cannot
    map: one warning each, naming the record and dispatch's code (a new code raises anew)."""
    out: list[Alert] = []
    for c in calls:
        if c.status is CallStatus.UNKNOWN:
            code = c.status_code or "?"
            out.append(
                Alert(
                    f"unknown_code:{c.id}:status:{code}",
                    AlertKind.UNKNOWN_CODE,
                    Severity.MEDIUM,
                    c.id,
                    f"{c.id}: dispatch sent unknown status '{code}'; the call is shown as open "
                    "until dispatch sends a status the console knows",
                    c.updated_at,
                )
            )
        if c.type is CallType.UNRECOGNISED and c.is_open:
            code = c.source_type or "?"
            out.append(
                Alert(
                    f"unknown_code:{c.id}:type:{code}",
                    AlertKind.UNKNOWN_CODE,
                    Severity.MEDIUM,
                    c.id,
                    f"{c.id}: unrecognised type '{code}' from dispatch; screen the call yourself "
                    "(never recommended automatically)",
                    c.received_at,
                )
            )
    for t in teams:
        if t.status is TeamStatus.UNKNOWN:
            code = t.status_code or "?"
            out.append(
                Alert(
                    f"unknown_code:{t.id}:status:{code}",
                    AlertKind.UNKNOWN_CODE,
                    Severity.MEDIUM,
                    t.id,
                    f"{t.id}: dispatch sent unknown team status '{code}'; check with dispatch "
                    "before relying on this team",
                    t.updated_at,
                )
            )
    return out


def quarantine_alert(count: int, newest_reason: str, newest_at: datetime | None) -> Alert | None:
    """Input refused and kept aside: one alert per quarantined message (the id carries the
    count, so each new one raises it again), with the count and the newest reason."""
    if count <= 0 or newest_at is None:
        return None
    n = f"{count} message{'s' if count != 1 else ''} from dispatch"
    return Alert(
        f"quarantine:{count}",
        AlertKind.QUARANTINE,
        Severity.HIGH,
        "dispatch",
        f"{n} quarantined (not in the picture); newest: {newest_reason}. "
        "See Tools > Quarantined messages.",
        newest_at,
    )


def link_alert(
    stale: bool, link: LinkStatus | None, now: datetime, reason: str = ""
) -> Alert | None:
    """The dispatch link down or silent (``stale``), as an alert: one per outage."""
    if not stale:
        return None
    reason = reason or "The picture may be out of date."
    if link is None:
        return Alert("link_down:stale", AlertKind.LINK_DOWN, Severity.HIGH, "dispatch", reason, now)
    if not link.up:
        aid = f"link_down:{link.since.isoformat()}"
        since = link.since
    else:
        last = link.last_message_at
        aid = f"link_silent:{last.isoformat() if last else 'never'}"
        since = last or link.since
    return Alert(aid, AlertKind.LINK_DOWN, Severity.HIGH, "dispatch", reason, since)


def sort_alerts(alerts: Iterable[Alert]) -> list[Alert]:
    """Most severe first; within a severity, the oldest (longest waiting) first."""
    return sorted(alerts, key=lambda a: (a.severity.rank, a.raised_at, a.id))


def collect_alerts(
    state: State,
    now: datetime,
    thresholds: Thresholds,
    *,
    link: Alert | None = None,
    no_eligible: list[Alert] | None = None,
    unknown: list[Alert] | None = None,
    quarantine: Alert | None = None,
    hidden: Iterable[str] = (),
    destinations: DestinationSet | None = None,
) -> list[Alert]:
    """Every unacknowledged alert the state implies at ``now``, severity-sorted, one per id.

    ``link``: the link alert (:func:`link_alert`), if any; ``no_eligible``: precomputed
    :func:`no_eligible_alerts` (they depend on the state only, not on the clock); ``unknown``:
    precomputed :func:`unknown_code_alerts` (likewise); ``quarantine``: the quarantine alert
    (:func:`quarantine_alert`), if any; ``hidden``: ids acknowledged here and on their way;
    ``destinations``: the site's destinations, for the wait-at-destination alert."""
    found: dict[str, Alert] = {}
    for a in state.alerts.values():
        found.setdefault(a.id, a)
    pending = [c for c in state.calls.values() if c.status is CallStatus.PENDING]
    teams = state.teams.values()
    for a in timer_alerts(pending, teams, state.positions, now, thresholds, state.calls):
        found.setdefault(a.id, a)
    if thresholds.checkin.ladder:
        steps = ladder_due(
            teams, state.calls, now, thresholds.checkin, thresholds.checkin_interval_s
        )
        for a in ladder_alerts(steps):
            found.setdefault(a.id, a)
    if no_eligible is None:
        no_eligible = no_eligible_alerts(pending, state.teams.values())
    for a in no_eligible:
        found.setdefault(a.id, a)
    if unknown is None:
        unknown = unknown_code_alerts(state.calls.values(), state.teams.values())
    for a in unknown:
        found.setdefault(a.id, a)
    if destinations is not None:
        for a in wait_alerts(state.teams.values(), destinations, now):
            found.setdefault(a.id, a)
    for a in overdue_alerts(state.followups.values(), now):
        found.setdefault(a.id, a)
    if quarantine is not None:
        found.setdefault(quarantine.id, quarantine)
    if link is not None:
        found.setdefault(link.id, link)
    skip = set(state.acks) | set(hidden)
    return sort_alerts(a for a in found.values() if a.id not in skip)


def critical_alerts(state: State, hidden: Iterable[str] = ()) -> list[Alert]:
    """Unacknowledged critical alerts (a team asking for backup), most urgent first."""
    skip = set(state.acks) | set(hidden)
    return sort_alerts(
        a for a in state.alerts.values() if a.severity is Severity.CRITICAL and a.id not in skip
    )


def ack_command(alert: Alert, state: State, note: str) -> AcknowledgeAlert:
    """The audited acknowledgement, naming the call or team the alert is about."""
    return AcknowledgeAlert(
        alert_id=alert.id,
        reason=note.strip(),
        call_id=alert.subject if alert.subject in state.calls else None,
        team_id=alert.subject if alert.subject in state.teams else None,
    )


def severity_counts(alerts: Iterable[Alert]) -> Mapping[Severity, int]:
    out: dict[Severity, int] = {}
    for a in alerts:
        out[a.severity] = out.get(a.severity, 0) + 1
    return out
