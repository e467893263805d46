"""The program's monthly report (CONTRACTS.md ``program-report``): its figures as tables.

Pure functions over domain records, like :mod:`metrics`, whose ``report --json`` figures the
report takes as they are (so the two always agree); :func:`load_inputs` reads what they need
from the store. Every table is what one CSV file of the report holds, its columns described
for the data dictionary. Nothing here names a person: calls are counted, never listed, and
teams appear by their unit id only.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import func, select

from console.domain.changes import program_records
from console.domain.codec import call_from_dict, program_record_from_dict
from console.domain.destinations import DestinationSet
from console.domain.model import (
    Call,
    CallType,
    Disposition,
    EscalationTarget,
    Team,
    TeamStatus,
)
from console.domain.program import CallOutcome, FollowUpEnd, Outcome, UnservedReason
from console.domain.projection import State
from console.domain.rules import ServiceHours
from console.domain.unserved import infer_unserved_reason

from .. import schema as S
from ..store import Store
from .metrics import INTERVALS, compute_report, team_histories

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

# -- why an eligible call went unserved --------------------------------------------------------

UNSERVED_LABELS: dict[str, str] = {
    **{r.value: r.label for r in UnservedReason},
    "not_recorded": "Not recorded",
}
"""Reasons in the order the report lists them; the first eight are the program's fixed list,
``not_recorded`` is what the report says when neither the supervisor nor the log gives one."""


class TeamTimeline:
    """Each team's successive records (from the event log), to ask who was doing what when."""

    def __init__(self, histories: Mapping[str, Sequence[Team]]) -> None:
        self._recs = {k: list(v) for k, v in histories.items()}
        self._times = {k: [r.status_since or r.updated_at for r in v] for k, v in histories.items()}

    def at(self, t: datetime) -> list[Team]:
        """Each team's record in force at ``t`` (the last one that began at or before it); a
        team with no record by then is left out (it was not on the board)."""
        out: list[Team] = []
        for k, times in self._times.items():
            i = bisect_right(times, t)
            if i:
                out.append(self._recs[k][i - 1])
        return out


def unserved_reason_at_receipt(call: Call, teams: Iterable[Team], hours: ServiceHours) -> str:
    """The reason the log proves for an eligible call no civilian team took, judged at the
    moment dispatch received it (``teams``: the records in force then, from
    :meth:`TeamTimeline.at`); ``not_recorded`` when the log proves none.

    The rule is the one the console applies when such a call closes
    (:func:`console.domain.unserved.infer_unserved_reason`), judged at another moment.
    """
    why = infer_unserved_reason(call, State(), hours, at=call.received_at, teams=list(teams))
    return why.value if why is not None else "not_recorded"


# -- the period --------------------------------------------------------------------------------


def month_window(month: str, tz: tzinfo) -> tuple[datetime, datetime]:
    """The first and the last instant of ``YYYY-MM`` in ``tz`` (``report --json``'s window is
    inclusive at both ends, so the end is a microsecond before the next month begins)."""
    try:
        year, mon = (int(p) for p in month.split("-"))
        first = datetime(year, mon, 1, tzinfo=tz)
    except ValueError:
        raise ValueError(f"{month!r} is not a month (YYYY-MM)") from None
    nxt = datetime(year + (mon == 12), mon % 12 + 1, 1, tzinfo=tz)
    # Through UTC, so a month that ends in another UTC offset still ends at local midnight.
    end = nxt.astimezone(UTC) - timedelta(microseconds=1)
    return first.astimezone(UTC), end


# -- inputs ------------------------------------------------------------------------------------


@dataclass
class ProgramInputs:
    """What the report is computed from, read from the store once."""

    calls: list[Call]
    histories: dict[str, list[Team]]
    escalations: dict[str, EscalationTarget]
    sources: dict[str, str] = field(default_factory=dict)
    """call id -> the system that first reported it (``dispatch`` or ``console``)."""
    backup_requests: list[tuple[str, datetime]] = field(default_factory=list)
    """(alert id, raised at) of each request for backup a team made (a request re-sent is the
    same pair, counted once)."""
    program: State = field(default_factory=State)
    """The program's own records (outcomes, unserved reasons, naloxone, follow-ups) as the
    projection keeps them; only those four dicts are filled."""


def load_inputs(store: Store, start: datetime, end: datetime) -> ProgramInputs:
    """The calls received in [start, end], the teams' histories from each team's record in
    force at ``start``, and the log's facts the report counts."""
    ev = S.events.c
    with store.reading() as conn:
        q0 = select(S.calls.c.data).where(S.calls.c.received_at.between(start, end))
        calls = [call_from_dict(json.loads(d)) for (d,) in conn.execute(q0)]
        escal = {r.call_id: EscalationTarget(r.target) for r in conn.execute(select(S.escalations))}
        sources: dict[str, str] = {}
        q = (
            select(ev.entity_id, ev.source)
            .where(ev.kind == "call_received")
            .order_by(ev.seq.desc())
        )
        for cid, src in conn.execute(q):
            sources[cid] = src  # the earliest one wins (read last)
        # Each team's last record before the month began: the history is read from the
        # earliest of them on, so every team's record in force at ``start`` is in it.
        last_before = (
            select(func.max(ev.occurred_at).label("m"))
            .where(ev.kind == "team_status", ev.occurred_at < start)
            .group_by(ev.entity_id)
            .subquery()
        )
        since = conn.execute(select(func.min(last_before.c.m))).scalar()
        backups: set[tuple[str, datetime]] = set()
        q2 = select(ev.payload).where(
            ev.kind == "alert_raised",
            ev.occurred_at.between(start - timedelta(days=1), end + timedelta(days=1)),
        )
        for (payload,) in conn.execute(q2):
            alert = json.loads(payload).get("alert", {})
            if alert.get("kind") == "backup_request":
                raised = datetime.fromisoformat(alert["raised_at"])
                backups.add((str(alert.get("id")), raised))
        program = State()
        for r in conn.execute(select(S.program_records)):
            program_records(program, r.kind)[r.key] = program_record_from_dict(
                r.kind, json.loads(r.data)
            )
    return ProgramInputs(
        calls=calls,
        histories=team_histories(store, end, since=since or start),
        escalations=escal,
        sources=sources,
        backup_requests=sorted(backups, key=lambda kv: kv[1]),
        program=program,
    )


# -- tables ------------------------------------------------------------------------------------


@dataclass
class Table:
    """One CSV file of the report: ``columns`` are (name, description) pairs."""

    name: str
    section: str
    title: str
    description: str
    columns: list[tuple[str, str]]
    rows: list[list[Any]]

    def column(self, name: str) -> list[Any]:
        i = [c for c, _ in self.columns].index(name)
        return [r[i] for r in self.rows]


@dataclass
class ProgramReport:
    month: str
    start: datetime
    end: datetime
    timezone: str
    tz: tzinfo
    figures: dict[str, object]
    """The ``report --json`` figures of the same window."""
    tables: dict[str, Table]
    targets: dict[str, float]

    def table(self, name: str) -> Table:
        return self.tables[name]


SECTIONS = ("Volume", "Timeliness", "Safety", "Outcomes and follow-ups", "Coverage", "Equity")


def _segments(
    histories: Mapping[str, Sequence[Team]], start: datetime, end: datetime
) -> list[tuple[str, datetime, datetime, TeamStatus]]:
    """(team, from, to, status) spans inside [start, end), cut as ``team_utilization`` cuts
    them so staffed hours and utilisation agree."""
    out = []
    for tid, recs in histories.items():
        for i, r in enumerate(recs):
            t0 = max(r.status_since or r.updated_at, start)
            nxt = recs[i + 1] if i + 1 < len(recs) else None
            t1 = min((nxt.status_since or nxt.updated_at) if nxt else end, end)
            if t1 > t0:
                out.append((tid, t0, t1, r.status))
    return out


def _hour_slots(start: datetime, end: datetime, tz: tzinfo) -> Counter[tuple[int, int]]:
    """How many whole-hour slots of each (weekday, hour) local time [start, end) contains."""
    n: Counter[tuple[int, int]] = Counter()
    t = start.replace(minute=0, second=0, microsecond=0)
    while t < end:
        loc = t.astimezone(tz)
        n[(loc.weekday(), loc.hour)] += 1
        t += timedelta(hours=1)
    return n


def _staffed_by_hour_of_week(
    segs: Iterable[tuple[str, datetime, datetime, TeamStatus]], tz: tzinfo
) -> dict[tuple[int, int], float]:
    """Team-seconds on duty in each (weekday, hour) of local time."""
    out: dict[tuple[int, int], float] = {}
    for _, t0, t1, st in segs:
        if st is TeamStatus.OFF_DUTY:
            continue
        t = t0
        while t < t1:
            nxt = min(t.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1), t1)
            loc = t.astimezone(tz)
            key = (loc.weekday(), loc.hour)
            out[key] = out.get(key, 0.0) + (nxt - t).total_seconds()
            t = nxt
    return out


def _police_involved(c: Call, esc: EscalationTarget | None, outcome: CallOutcome | None) -> bool:
    return (
        esc in (EscalationTarget.POLICE, EscalationTarget.CO_RESPONSE)
        or c.escalated_to in (EscalationTarget.POLICE, EscalationTarget.CO_RESPONSE)
        or c.disposition == "handed_to_police"
        or (outcome is not None and outcome.outcome is Outcome.POLICE_INVOLVED)
    )


_DISPOSITIONS = frozenset(d.value for d in Disposition)


def disposition_word(text: str | None) -> str:
    """A disposition as the report may show it: the console's words and APCO codes only.
    Dispatch's own disposition text is free text (it may name someone), so it is counted as
    ``(other)``, never shown."""
    if not text:
        return "(none)"
    if text in _DISPOSITIONS or re.fullmatch(r"apco-\d{2,3}", text):
        return text
    return "(other)"


DESTINATION_KINDS = (
    "emergency_department",
    "hospital",
    "crisis_center",
    "crisis_stabilization",
    "sobering_center",
    "detox",
    "shelter",
    "respite",
    "residence",
)
"""Kinds of destination the report names; any other value is counted as ``(other)``."""


def destination_word(text: str) -> str:
    """A destination kind as the report may show it: one of :data:`DESTINATION_KINDS`, else
    ``(other)``. What was typed is free text (it could name someone), so it is never shown."""
    if not text:
        return "(not given)"
    word = text.strip().lower().replace(" ", "_").replace("-", "_")
    return word if word in DESTINATION_KINDS else "(other)"


def language_code(text: str | None) -> str:
    """An ISO 639 code (two or three letters, any region subtag dropped), else ``(other)``."""
    if not text:
        return "(not given)"
    m = re.fullmatch(r"([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]{2,8})*", text.strip())
    return m.group(1).lower() if m else "(other)"


def _hours_text(hours: ServiceHours) -> str:
    end = "24:00" if hours.end >= time(23, 59, 59) else f"{hours.end:%H:%M}"
    return f"{hours.start:%H:%M}-{end}"


def _share(n: int, d: int) -> float:
    return round(n / d, 4) if d else 0.0


def compute_program_report(
    inputs: ProgramInputs,
    month: str,
    *,
    tz: tzinfo,
    hours: ServiceHours,
    targets: Mapping[str, float],
    scheduled_teams: int = 0,
    destinations: DestinationSet | None = None,
) -> ProgramReport:
    """Every figure of the month's report. ``destinations`` (the site's list) names the
    places teams waited at; a place not on it is counted as ``(other)``."""
    start, end = month_window(month, tz)
    hours = hours if hours.tz is not None else replace(hours, tz=tz)
    figures = compute_report(inputs.calls, inputs.histories, inputs.escalations, start, end)
    chosen = sorted((c for c in inputs.calls if start <= c.received_at <= end), key=lambda c: c.id)
    prog = inputs.program
    outcomes = prog.outcomes
    given_reasons = prog.unserved
    ids = {c.id for c in chosen}
    tables: dict[str, Table] = {}

    def add(
        name: str,
        section: str,
        title: str,
        description: str,
        columns: list[tuple[str, str]],
        rows: list[list[Any]],
    ) -> None:
        tables[name] = Table(name, section, title, description, columns, rows)

    calls_col = ("calls", "number of calls received in the month")

    # -- Volume
    by_source = Counter(inputs.sources.get(c.id, "dispatch") for c in chosen)
    add(
        "volume_by_source",
        "Volume",
        "Calls by source",
        "Calls received in the month by the system that first reported them.",
        [("source", "dispatch: the CAD feed; console: entered at the console"), calls_col],
        [[k, v] for k, v in sorted(by_source.items())],
    )
    by_type = Counter(c.type for c in chosen)
    add(
        "volume_by_type",
        "Volume",
        "Calls by type",
        "Calls received in the month by call type.",
        [
            ("type", "the console's call type"),
            ("label", "the type as the console names it"),
            calls_col,
        ],
        [[t.value, t.label, by_type[t]] for t in CallType if by_type[t]],
    )
    loc = [c.received_at.astimezone(tz) for c in chosen]
    by_hour = Counter(t.hour for t in loc)
    add(
        "volume_by_hour",
        "Volume",
        "Calls by hour of day",
        "Calls received in the month by the local hour of day they arrived in.",
        [("hour", "hour of day, local time (0-23)"), calls_col],
        [[h, by_hour[h]] for h in range(24)],
    )
    by_day = Counter(t.weekday() for t in loc)
    add(
        "volume_by_weekday",
        "Volume",
        "Calls by day of week",
        "Calls received in the month by local day of week.",
        [("weekday", "day of week, local time"), calls_col],
        [[WEEKDAYS[d], by_day[d]] for d in range(7)],
    )
    by_nb = Counter(c.neighborhood or "(not given)" for c in chosen)
    add(
        "volume_by_neighborhood",
        "Volume",
        "Calls by neighborhood",
        "Calls received in the month by the neighborhood dispatch gave.",
        [
            ("neighborhood", "neighborhood of the call's location; (not given) when absent"),
            calls_col,
        ],
        sorted(([k, v] for k, v in by_nb.items()), key=lambda r: (-r[1], r[0])),
    )
    eligible = [c for c in chosen if not c.safety_flags]
    served = [c for c in eligible if c.teams or c.team is not None]
    unserved = [c for c in eligible if not c.is_open and not c.teams and c.team is None]
    waiting = [c for c in eligible if c.is_open and not c.teams and c.team is None]
    add(
        "service",
        "Volume",
        "Eligible, served and not served",
        "Calls received in the month by whether a civilian team could take them and did.",
        [
            ("measure", "what is counted"),
            ("calls", "number of calls"),
            ("share_of_eligible", "the count over eligible calls (0-1)"),
        ],
        [
            ["received", len(chosen), ""],
            ["screened_unsafe", len(chosen) - len(eligible), ""],
            ["eligible", len(eligible), 1.0 if eligible else 0.0],
            ["served", len(served), _share(len(served), len(eligible))],
            ["not_served", len(unserved), _share(len(unserved), len(eligible))],
            ["open_without_team", len(waiting), _share(len(waiting), len(eligible))],
        ],
    )
    reasons: Counter[str] = Counter()
    inferred: Counter[str] = Counter()
    timeline = TeamTimeline(inputs.histories)
    for c in unserved:
        rec = given_reasons.get(c.id)
        if rec is not None:  # the supervisor's, or one the console recorded from the log
            reasons[rec.reason.value] += 1
            inferred[rec.reason.value] += rec.inferred
            continue
        why = unserved_reason_at_receipt(c, timeline.at(c.received_at), hours)
        reasons[why] += 1
        if why != "not_recorded":
            inferred[why] += 1
    add(
        "unserved_reasons",
        "Volume",
        "Why eligible calls were not served",
        "Eligible calls closed without a civilian team, by reason: the one recorded on the call "
        "(the supervisor's, or the console's from the log), else what the event log proves at "
        "the call's receipt, else not recorded.",
        [
            ("reason", "the reason's code"),
            ("label", "the reason as the report names it"),
            ("calls", "eligible calls not served for this reason"),
            ("inferred", "of these, how many the log proved (no supervisor reason)"),
        ],
        [[k, lbl, reasons[k], inferred[k]] for k, lbl in UNSERVED_LABELS.items()],
    )

    # -- Timeliness
    iv: Mapping[str, Mapping[str, float]] = figures["intervals_s"]  # type: ignore[assignment]
    rows = []
    for name, (a, b) in INTERVALS.items():
        s = iv[name]
        tgt = targets.get(name)
        within: Any = ""
        if tgt is not None:
            vals = [
                (getattr(c, b) - getattr(c, a)).total_seconds()
                for c in chosen
                if getattr(c, a) and getattr(c, b) and getattr(c, b) >= getattr(c, a)
            ]
            within = _share(sum(1 for v in vals if v <= tgt), len(vals))
        rows.append(
            [name, s["n"], s["p50"], s["p90"], s["mean"], "" if tgt is None else tgt, within]
        )
    add(
        "timeliness",
        "Timeliness",
        "Response intervals",
        "Seconds between lifecycle steps of calls received in the month (the first team's "
        "times), as report --json gives them, against the program's targets.",
        [
            ("interval", "from which step to which"),
            ("n", "calls with both steps, the later not before the earlier"),
            ("median_s", "median, seconds (linear interpolation, numpy's default)"),
            ("p90_s", "90th percentile, seconds (same method)"),
            ("mean_s", "mean, seconds"),
            ("target_s", "the program's target, seconds (configuration [targets]); empty: none"),
            ("share_within_target", "share of the n calls at or under the target (0-1)"),
        ],
        rows,
    )

    # -- Safety
    esc_of = {c.id: inputs.escalations.get(c.id) or c.escalated_to for c in chosen}
    esc_fig: Mapping[str, int] = figures["escalations"]  # type: ignore[assignment]
    add(
        "escalations_by_target",
        "Safety",
        "Escalations by target",
        "Calls received in the month that were escalated, by whom they were handed to.",
        [
            ("target", "police, ems, mobile_crisis or co_response (police with a civilian team)"),
            calls_col,
        ],
        [[t.value, esc_fig[t.value]] for t in EscalationTarget],
    )
    backups = [a for a, at in inputs.backup_requests if start <= at <= end]
    police = [c for c in chosen if _police_involved(c, esc_of[c.id], outcomes.get(c.id))]
    add(
        "safety",
        "Safety",
        "Safety",
        "Requests for backup, co-responses and police involvement in the month.",
        [("measure", "what is counted"), ("value", "count, or share (0-1) for share_*")],
        [
            ["backup_requests", len(backups)],
            ["co_responses", esc_fig[EscalationTarget.CO_RESPONSE.value]],
            ["escalations", figures["calls_escalated"]],
            ["calls_with_police_involvement", len(police)],
            ["share_with_police_involvement", _share(len(police), len(chosen))],
        ],
    )

    # -- Outcomes and follow-ups
    disp = Counter(disposition_word(c.disposition) for c in chosen if not c.is_open)
    add(
        "dispositions",
        "Outcomes and follow-ups",
        "Dispositions",
        "Closed calls received in the month by dispatch's disposition.",
        [
            (
                "disposition",
                "the console's disposition word or APCO code (apco-NN); (none) when dispatch "
                "gave none, (other) for dispatch's own text",
            ),
            calls_col,
        ],
        sorted(([k, v] for k, v in disp.items()), key=lambda r: (-r[1], r[0])),
    )
    outs = [o for k, o in outcomes.items() if k in ids]
    oc = Counter(o.outcome for o in outs)
    served_closed = [c for c in served if not c.is_open]
    needs = sum(1 for c in served_closed if c.id not in outcomes)
    add(
        "outcomes",
        "Outcomes and follow-ups",
        "Program outcomes",
        "Calls received in the month by the outcome the team or the supervisor recorded, and "
        "the closed calls a team was sent to that still need one.",
        [
            ("outcome", "the program's outcome; needs_outcome: a closed served call with none"),
            ("label", "the outcome as the console names it"),
            calls_col,
        ],
        [[o.value, o.label, oc[o]] for o in Outcome]
        + [["needs_outcome", "Needs an outcome", needs]],
    )
    transports = Counter(
        (o.outcome.value, destination_word(o.destination_kind))
        for o in outs
        if o.outcome in (Outcome.TRANSPORTED_COMMUNITY, Outcome.TRANSPORTED_ED)
    )
    add(
        "transports",
        "Outcomes and follow-ups",
        "Transports by destination kind",
        "Calls received in the month whose outcome was a transport, by kind of destination.",
        [
            ("outcome", "transported_community or transported_ed"),
            (
                "destination_kind",
                "kind of place: emergency_department, hospital, crisis_center, "
                "crisis_stabilization, sobering_center, detox, shelter, respite, residence; "
                "(not given); (other) for anything else",
            ),
            calls_col,
        ],
        [[o, d, n] for (o, d), n in sorted(transports.items())],
    )
    fus = [f for f in prog.followups.values() if f.call_id in ids]
    ends = Counter(f.end for f in fus if f.end is not None)
    doses = [d for d in prog.naloxone.values() if d.call_id in ids]
    add(
        "followups",
        "Outcomes and follow-ups",
        "Follow-ups and naloxone",
        "Follow-ups opened for calls received in the month and how they ended, and naloxone "
        "given on those calls.",
        [("measure", "what is counted"), ("value", "count")],
        [
            ["followups_opened", len(fus)],
            ["followups_attempted", sum(1 for f in fus if f.attempts)],
            ["followup_attempts", sum(len(f.attempts) for f in fus)],
            *([f"followups_{e.value}", ends[e]] for e in FollowUpEnd),
            ["followups_open", sum(1 for f in fus if f.end is None)],
            ["calls_with_naloxone", len({d.call_id for d in doses})],
            ["naloxone_doses", sum(d.doses for d in doses)],
        ],
    )

    # Waits at destinations: a team's time at a destination's intake, by the site's own name
    # for the place (never the CAD's free text: it could name someone).
    site = destinations or DestinationSet()
    waits: dict[str, list[float]] = {}
    for _tid, recs in inputs.histories.items():
        for i, r in enumerate(recs):
            if r.status is not TeamStatus.AT_DESTINATION:
                continue
            t0 = max(r.status_since or r.updated_at, start)
            nxt = recs[i + 1] if i + 1 < len(recs) else None
            t1 = min((nxt.status_since or nxt.updated_at) if nxt else end, end)
            if t1 > t0:
                known = site.get(r.destination)
                name = known.name if known is not None else "(other)"
                waits.setdefault(name, []).append((t1 - t0).total_seconds() / 60)
    add(
        "destination_waits",
        "Outcomes and follow-ups",
        "Waits at destinations",
        "Teams' time at a destination's intake (status at destination) within the month, by the "
        "site's name for the place; a place not in the site's destinations list is (other).",
        [
            ("destination", "the site's name for the place"),
            ("waits", "times a team waited there"),
            ("median_min", "median wait, minutes"),
            ("p90_min", "90th percentile wait, minutes"),
            ("total_h", "all waits, hours"),
        ],
        [
            [
                name,
                len(ws),
                round(float(np.percentile(ws, 50)), 1),
                round(float(np.percentile(ws, 90)), 1),
                round(sum(ws) / 60, 2),
            ]
            for name, ws in sorted(waits.items())
        ],
    )

    # -- Coverage
    segs = _segments(inputs.histories, start, end)
    staffed: dict[str, float] = {t: 0.0 for t in inputs.histories}
    busy: dict[str, float] = dict(staffed)
    for tid, t0, t1, st in segs:
        if st is TeamStatus.OFF_DUTY:
            continue
        span = (t1 - t0).total_seconds()
        staffed[tid] += span
        if st.busy:
            busy[tid] += span
    util: Mapping[str, float] = figures["team_utilization"]  # type: ignore[assignment]
    add(
        "team_utilization",
        "Coverage",
        "Utilisation by team",
        "Each team's hours on duty in the month and the share of them spent on calls "
        "(out of service counts as on duty, not busy).",
        [
            ("team", "the team's unit id"),
            ("staffed_hours", "hours on duty"),
            ("busy_hours", "hours assigned, en route, on scene, transporting or at a destination"),
            ("utilisation", "busy over staffed (0-1), as report --json gives it"),
        ],
        [[t, round(staffed[t] / 3600, 2), round(busy[t] / 3600, 2), util[t]] for t in sorted(util)],
    )
    slots = _hour_slots(start, end + timedelta(microseconds=1), tz)
    open_slots = sum(
        n for (d, h), n in slots.items() if hours.open_at(datetime(2000, 1, 1, h).time())
    )
    staffed_h = sum(staffed.values()) / 3600
    scheduled_h = scheduled_teams * open_slots
    outside = sum(1 for c in chosen if not hours.open_at_instant(c.received_at))
    add(
        "coverage",
        "Coverage",
        "Coverage",
        "Team-hours staffed against scheduled, and calls that arrived outside program hours.",
        [("measure", "what is counted"), ("value", "hours, count or share (0-1)")],
        [
            ["staffed_team_hours", round(staffed_h, 2)],
            ["scheduled_team_hours", scheduled_h if scheduled_teams else ""],
            ["staffed_over_scheduled", round(staffed_h / scheduled_h, 4) if scheduled_h else ""],
            ["program_hours", _hours_text(hours)],
            ["calls_outside_program_hours", outside],
            ["share_outside_program_hours", _share(outside, len(chosen))],
        ],
    )
    team_secs = _staffed_by_hour_of_week(segs, tz)
    demand = Counter((t.weekday(), t.hour) for t in loc)
    rows = []
    for d in range(7):
        for h in range(24):
            n = slots.get((d, h), 0)
            rows.append(
                [
                    WEEKDAYS[d],
                    h,
                    n,
                    demand[(d, h)],
                    round(demand[(d, h)] / n, 3) if n else 0.0,
                    round(team_secs.get((d, h), 0.0) / 3600 / n, 3) if n else 0.0,
                ]
            )
    add(
        "demand_by_hour_of_week",
        "Coverage",
        "Demand against staffed teams by hour of week",
        "For each local hour of the week: calls received and teams on duty, averaged over the "
        "month's hours of that kind.",
        [
            ("weekday", "day of week, local time"),
            ("hour", "hour of day, local time (0-23)"),
            ("hours_in_month", "how many such hours the month has"),
            ("calls", "calls received in those hours"),
            ("calls_per_hour", "calls over hours_in_month"),
            ("teams_on_duty", "average number of teams on duty in those hours"),
        ],
        rows,
    )

    # -- Equity
    langs = Counter(language_code(c.language) for c in chosen)
    other = sum(v for k, v in langs.items() if k not in ("en", "(not given)"))
    youth = sum(1 for c in chosen if c.juvenile or c.type is CallType.JUVENILE)
    add(
        "equity",
        "Equity",
        "Language and youth",
        "Calls received in the month whose record gives a language other than English, and "
        "calls about a young person (juvenile subject or type).",
        [("measure", "what is counted"), ("value", "count or share (0-1)")],
        [
            ["calls_language_other_than_english", other],
            ["share_language_other_than_english", _share(other, len(chosen))],
            ["youth_calls", youth],
            ["share_youth_calls", _share(youth, len(chosen))],
        ],
    )
    add(
        "languages",
        "Equity",
        "Calls by language",
        "Calls received in the month by the language the record gives (ISO 639-1).",
        [("language", "ISO 639 code; (not given) when absent, (other) when not a code"), calls_col],
        sorted(([k, v] for k, v in langs.items()), key=lambda r: (-r[1], r[0])),
    )
    return ProgramReport(
        month=month,
        start=start,
        end=end,
        timezone=str(tz),
        tz=tz,
        figures=figures,
        tables=tables,
        targets=dict(targets),
    )


def data_dictionary(rep: ProgramReport) -> list[list[str]]:
    """(file, column, description) of every CSV of the report."""
    rows = [
        ["data_dictionary.csv", c, d]
        for c, d in (
            ("file", "the CSV file described"),
            ("column", "a column of that file"),
            ("description", "what the column holds"),
        )
    ]
    for t in rep.tables.values():
        rows.append([f"{t.name}.csv", "", t.description])
        rows.extend([f"{t.name}.csv", c, d] for c, d in t.columns)
    return rows


def program_report(
    store: Store,
    month: str,
    *,
    tz: tzinfo,
    hours: ServiceHours | None = None,
    targets: Mapping[str, float] | None = None,
    scheduled_teams: int = 0,
    destinations: DestinationSet | None = None,
) -> ProgramReport:
    """The month's report from the store."""
    start, end = month_window(month, tz)
    return compute_program_report(
        load_inputs(store, start, end),
        month,
        tz=tz,
        hours=hours or ServiceHours(),
        targets=targets or {},
        scheduled_teams=scheduled_teams,
        destinations=destinations,
    )


def write_csvs(rep: ProgramReport, folder: str | Path) -> list[Path]:
    """Every table of the report as ``NAME.csv`` in ``folder``, with ``data_dictionary.csv``
    describing each file's columns. Files are their owner's alone (they carry call data)."""
    d = Path(folder)
    d.mkdir(parents=True, exist_ok=True)
    out: list[Path] = []

    def write(name: str, header: list[str], rows: Iterable[Sequence[Any]]) -> None:
        p = d / name
        with p.open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(header)
            w.writerows(rows)
        with contextlib.suppress(OSError):
            os.chmod(p, 0o600)
        out.append(p)

    for t in rep.tables.values():
        write(f"{t.name}.csv", [c for c, _ in t.columns], t.rows)
    write("data_dictionary.csv", ["file", "column", "description"], data_dictionary(rep))
    return out
