"""Training mode: decision points, trainees' choices, and the debrief.

A trainer marks *decision points* on a shift (annotations of kind ``decision``, usually on a call
waiting in the queue). Playback pauses at each; the trainee picks an action -- a team to send,
an escalation, or holding the call -- and the console shows what really happened next and what
the console's recommendation (:func:`console.domain.rules.recommend`) was at that instant. The
debrief lists every decision side by side.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from console.domain.events import CallEscalated, CallUpdated, TeamAssigned
from console.domain.model import Call, CallStatus, EscalationTarget
from console.domain.projection import State
from console.domain.rules import (
    Recommendation,
    RecommendationFactors,
    calls_this_shift,
    recommend,
)

from .engine import ReplayEngine, ReplayError

ACTION_KINDS = ("assign", "escalate", "hold")


@dataclass(frozen=True, slots=True)
class Action:
    """One decision on a call: send a team, escalate, or hold it in the queue."""

    kind: str
    team: str | None = None
    target: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in (*ACTION_KINDS, "none", "cancelled"):
            raise ReplayError(f"unknown action {self.kind!r} (allowed: {', '.join(ACTION_KINDS)})")
        if self.kind == "assign" and not self.team:
            raise ReplayError("an assignment needs a team")
        if self.kind == "escalate":
            if self.target not in {t.value for t in EscalationTarget}:
                allowed = ", ".join(t.value for t in EscalationTarget)
                raise ReplayError(f"escalation target {self.target!r} (allowed: {allowed})")

    def describe(self) -> str:
        if self.kind == "assign":
            return f"send {self.team}"
        if self.kind == "escalate":
            return f"escalate to {str(self.target).replace('_', ' ')}"
        if self.kind == "hold":
            return "hold in the queue"
        if self.kind == "cancelled":
            return "call cancelled"
        return "no action recorded"

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"kind": self.kind}
        if self.team:
            d["team"] = self.team
        if self.target:
            d["target"] = self.target
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Action:
        return cls(str(d.get("kind", "")), d.get("team"), d.get("target"))


@dataclass(frozen=True, slots=True)
class Decision:
    """Everything the trainee and the debrief need about one decision point."""

    annotation_id: int
    at: datetime
    title: str
    call: Call | None
    recommendation: Recommendation | None
    recommended: Action
    actual: Action
    actual_at: datetime | None
    team_options: tuple[tuple[str, str], ...]
    """(team id, why or why not) for every team on duty, eligible ones first."""

    @property
    def call_id(self) -> str | None:
        return None if self.call is None else self.call.id

    def actual_text(self) -> str:
        if self.actual_at is None:
            return self.actual.describe()
        secs = (self.actual_at - self.at).total_seconds()
        later = f"{secs:.0f} s" if secs < 60 else f"{secs / 60:.0f} min"
        return f"{self.actual.describe()} ({later} later, {self.actual_at.astimezone():%H:%M})"

    def refusal(self, action: Action) -> str:
        """Why the console's rules would refuse ``action`` on this call ("" if they would
        not): a team that is not eligible (busy, off duty, lacking a capability), or any team
        sent to a call the safety screen keeps from civilian teams."""
        rec = self.recommendation
        if action.kind != "assign" or rec is None:
            return ""
        if not rec.screen.civilian_ok:
            return f"no civilian team may take this call: {rec.screen.message}"
        for tid, why in rec.ineligible:
            if tid == action.team:
                return f"{tid} is not eligible: {'; '.join(why)}"
        if action.team not in {c.team_id for c in rec.ranked}:
            return f"{action.team} is not a team on this shift"
        return ""

    def recommended_text(self) -> str:
        rec = self.recommendation
        if rec is None:
            return self.recommended.describe()
        if not rec.screen.civilian_ok:
            return f"{self.recommended.describe()}: {rec.screen.message}"
        best = rec.best
        if best is not None:
            return f"{self.recommended.describe()} ({', '.join(best.reasons[:2])})"
        return f"{self.recommended.describe()}: no eligible team"


@dataclass(frozen=True, slots=True)
class DebriefRow:
    at: datetime
    title: str
    call_id: str | None
    trainee: str
    choice: str
    actual: str
    recommended: str
    matches_actual: bool
    matches_recommendation: bool
    refused: str = ""
    """Why the console's rules would have refused the trainee's choice ("" if they would not)."""


def decision_call(state: State, call_id: str | None) -> Call | None:
    """The call a decision is about: the one named, else the most urgent one waiting."""
    if call_id:
        return state.calls.get(call_id)
    waiting = [c for c in state.calls.values() if c.status is CallStatus.PENDING]
    if not waiting:
        return None
    return min(waiting, key=lambda c: (c.priority, c.received_at, c.id))


def what_happened(
    engine: ReplayEngine, call_id: str, after: datetime
) -> tuple[Action, datetime | None]:
    """The first thing dispatch did with the call after ``after``."""
    for e in engine.events[engine.index_at(after) :]:
        if isinstance(e, TeamAssigned) and e.call_id == call_id:
            return Action("assign", team=e.team_id), e.occurred_at
        if isinstance(e, CallEscalated) and e.call_id == call_id:
            return Action("escalate", target=e.target.value), e.occurred_at
        if isinstance(e, CallUpdated) and e.call.id == call_id:
            c = e.call
            if c.status is CallStatus.ESCALATED:
                target = c.escalated_to.value if c.escalated_to else EscalationTarget.POLICE.value
                return Action("escalate", target=target), e.occurred_at
            if c.status is CallStatus.CANCELLED:
                return Action("cancelled"), e.occurred_at
            if c.team and c.status is not CallStatus.PENDING:
                return Action("assign", team=c.team), e.occurred_at
    return Action("none"), None


def decision_at(
    engine: ReplayEngine,
    annotation_id: int,
    at: datetime,
    title: str = "",
    call_id: str | None = None,
    factors: RecommendationFactors | None = None,
) -> Decision:
    state = engine.state_at(at)
    call = decision_call(state, call_id)
    rec: Recommendation | None = None
    recommended = Action("hold")
    actual: Action = Action("none")
    actual_at: datetime | None = None
    options: list[tuple[str, str]] = []
    if call is not None:
        workload = calls_this_shift(state.assignments.keys())
        rec = recommend(
            call,
            state.teams.values(),
            state.positions,
            workload,
            factors or RecommendationFactors(),
        )
        if not rec.screen.civilian_ok and rec.screen.escalate_to:
            recommended = Action("escalate", target=rec.screen.escalate_to[0].value)
        elif rec.best is not None:
            recommended = Action("assign", team=rec.best.team_id)
        actual, actual_at = what_happened(engine, call.id, at)
        options = [(c.team_id, ", ".join(c.reasons)) for c in rec.ranked]
        options += [
            (tid, "; ".join(why)) for tid, why in rec.ineligible if state.teams[tid].status.on_duty
        ]
    return Decision(
        annotation_id, at, title, call, rec, recommended, actual, actual_at, tuple(options)
    )


def same_action(a: Action, b: Action) -> bool:
    return a.kind == b.kind and a.team == b.team and a.target == b.target


def debrief(
    engine: ReplayEngine,
    decisions: Iterable[tuple[int, datetime, str, str | None]],
    choices: Iterable[tuple[int, str, dict[str, Any]]],
) -> list[DebriefRow]:
    """One row per (decision point, trainee choice), in time order; a decision nobody answered
    still gets a row so the debrief shows what was skipped."""
    by_decision: dict[int, list[tuple[str, Action]]] = {}
    for aid, trainee, action in choices:
        try:
            saved = Action.from_dict(action)
        except (ReplayError, AttributeError):
            continue  # an unreadable saved choice is left out, not fatal to the debrief
        by_decision.setdefault(aid, []).append((trainee, saved))
    rows: list[DebriefRow] = []
    for aid, at, title, call_id in sorted(decisions, key=lambda d: (d[1], d[0])):
        d = decision_at(engine, aid, at, title, call_id)
        picked: list[tuple[str, Action | None]] = list(by_decision.get(aid, [])) or [("", None)]
        for trainee, act in picked:
            rows.append(
                DebriefRow(
                    at,
                    title,
                    d.call_id,
                    trainee,
                    act.describe() if act is not None else "(no choice made)",
                    d.actual_text(),
                    d.recommended_text(),
                    act is not None and same_action(act, d.actual),
                    act is not None and same_action(act, d.recommended),
                    d.refusal(act) if act is not None else "",
                )
            )
    return rows


DEBRIEF_COLUMNS = (
    "Time",
    "Decision",
    "Call",
    "Trainee",
    "Choice",
    "Rules",
    "What happened",
    "Recommendation",
)


def debrief_cells(r: DebriefRow) -> tuple[str, ...]:
    """One debrief row as the dialog and the exported file show it (local time)."""
    return (
        f"{r.at.astimezone():%H:%M:%S}",
        r.title,
        r.call_id or "—",
        r.trainee or "—",
        r.choice,
        f"refused: {r.refused}" if r.refused else ("allowed" if r.trainee else "—"),
        r.actual,
        r.recommended,
    )


def debrief_summary(rows: list[DebriefRow]) -> str:
    agree = sum(1 for r in rows if r.matches_actual)
    rec = sum(1 for r in rows if r.matches_recommendation)
    refused = sum(1 for r in rows if r.refused)
    answered = sum(1 for r in rows if r.trainee or r.choice != "(no choice made)")
    return (
        f"{len(rows)} decision(s), {answered} answered: {agree} as dispatch did, "
        f"{rec} as the console recommended, {refused} the rules would have refused."
    )


def debrief_html(rows: list[DebriefRow], title: str = "Training debrief") -> str:
    """The debrief as a self-contained HTML page (printable; no script, no outside file)."""
    from html import escape

    head = "".join(f"<th>{escape(c)}</th>" for c in DEBRIEF_COLUMNS)
    body = []
    for r in rows:
        cls = ' class="refused"' if r.refused else ""
        cells = "".join(f"<td>{escape(v)}</td>" for v in debrief_cells(r))
        body.append(f"<tr{cls}>{cells}</tr>")
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>"
        "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;width:100%}"
        "th,td{border:1px solid #888;padding:4px 6px;text-align:left;vertical-align:top}"
        "th{background:#eee}tr.refused td{background:#fde2e1}"
        "</style></head><body>"
        f"<h1>{escape(title)}</h1><p>{escape(debrief_summary(rows))}</p>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
        "</body></html>\n"
    )
