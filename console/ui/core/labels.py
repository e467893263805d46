"""Words for what dispatch sent, the same on every view (queue, board, map, dialogs, details).

Nothing dispatch sent vanishes: a status the console cannot map shows as ``unknown status 'X'``
with dispatch's own code, a type outside the registry as ``unrecognised type 'X'``, a priority
dispatch did not give as ``2 (not given)``, and descriptive codes outside the registries are
listed as they came. Internal values (``en_route``) never reach the screen: they are spelled
as words. Pure functions, no Qt.
"""

from __future__ import annotations

import html
import re

from console.domain.model import Call, CallStatus, CallType, Team, TeamStatus

PRIORITY_NOT_GIVEN_TIP = "priority not given by dispatch — site default"

CODE_FIELD_LABELS: dict[str, str] = {
    "locationType": "Location type",
    "incidentType": "Incident type",
    "resourceType": "Resource type",
    "unitType": "Unit type",
    "agencyType": "Agency type",
}


def words(value: str) -> str:
    """``en_route`` -> ``en route``: an internal value as words."""
    return value.replace("_", " ")


def call_status_text(call: Call) -> str:
    if call.status is CallStatus.UNKNOWN:
        return unknown_status_text(call.status_code)
    return words(call.status.value)


def team_status_text(team: Team) -> str:
    if team.status is TeamStatus.UNKNOWN:
        return unknown_status_text(team.status_code)
    return words(team.status.value)


def unknown_status_text(code: str) -> str:
    return f"unknown status '{code}'" if code else "unknown status (no code sent)"


def call_type_text(call: Call) -> str:
    if call.type is CallType.UNRECOGNISED:
        return (
            f"unrecognised type '{call.source_type}'" if call.source_type else "unrecognised type"
        )
    return call.type.label


def priority_text(call: Call) -> str:
    """``2`` or ``2 (not given)`` when dispatch sent none and the site default stands in."""
    return f"{call.priority}" if call.priority_given else f"{call.priority} (not given)"


def short_priority(call: Call) -> str:
    """``P2`` or ``P2?`` (not given by dispatch)."""
    return f"P{call.priority}" + ("" if call.priority_given else "?")


def code_field_label(name: str) -> str:
    """``locationType`` -> ``Location type`` (a known field) or the camelCase split into words."""
    if name in CODE_FIELD_LABELS:
        return CODE_FIELD_LABELS[name]
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name).replace("_", " ").strip()
    return spaced[:1].upper() + spaced[1:].lower() if spaced else name


def code_lines(codes: tuple[tuple[str, str], ...]) -> list[str]:
    """``Location type: XST (not in NENA's registry)`` per descriptive code, as given."""
    return [f"{code_field_label(f)}: {v} (not in NENA's registry)" for f, v in codes]


def describe_call(call: Call) -> str:
    """One line naming the call: id, priority, type, place, status and team."""
    where = call.address or call.neighborhood or "location unknown"
    team = f", team {call.team}" if call.team else ""
    return (
        f"{call.id}  P{priority_text(call)} {call_type_text(call)} — {where} "
        f"({call_status_text(call)}{team})"
    )


def call_header(call: Call) -> str:
    """A dialog's head: the call in one line, then what dispatch left unsaid or uncoded."""
    lines = [describe_call(call)]
    if not call.priority_given:
        lines.append(f"Priority {call.priority}: {PRIORITY_NOT_GIVEN_TIP}")
    lines += code_lines(call.codes)
    return "\n".join(lines)


def describe_team(team: Team, call_label: str = "") -> str:
    on = f" on {team.call}" if team.call else ""
    prov = f" ({team.provider})" if team.provider else ""
    return f"{team.id}{prov} — {team_status_text(team)}{on}{call_label}"


def call_details(call: Call) -> list[str]:
    """What the console knows of a call, line by line (plain text: show it as such)."""
    lines = [
        f"Call {call.id}",
        f"Status: {call_status_text(call)}"
        + (f" → {words(call.escalated_to.value)}" if call.escalated_to is not None else ""),
        f"Priority: {priority_text(call)}"
        + ("" if call.priority_given else f" — {PRIORITY_NOT_GIVEN_TIP}"),
        f"Type: {call_type_text(call)}"
        + (
            f" (dispatch code {call.source_type})"
            if call.source_type and call.type is not CallType.UNRECOGNISED
            else ""
        ),
    ]
    where = " · ".join(p for p in (call.neighborhood, call.address) if p)
    if where:
        lines.append(f"Location: {where}")
    teams = list(dict.fromkeys([*([call.team] if call.team else []), *call.teams]))
    if teams:
        lines.append("Team: " + ", ".join(teams))
    if call.safety_flags:
        lines.append("Safety: " + ", ".join(words(f.value) for f in call.safety_flags))
    if call.summary:
        lines.append(f"Summary: {call.summary}")
    lines += code_lines(call.codes)
    return lines


def team_details(team: Team) -> list[str]:
    lines = [f"Team {team.id}" + (f" — {team.name}" if team.name else "")]
    lines.append(f"Status: {team_status_text(team)}")
    if team.provider:
        lines.append(f"Provider: {team.provider}")
    if team.call:
        lines.append(f"Call: {team.call}")
    lines += code_lines(team.codes)
    return lines


def plain_tip(text: str) -> str:
    """A tooltip that shows ``text`` literally: Qt renders a tooltip that looks like HTML as
    HTML, so text with markup characters is escaped inside a pre-wrapped paragraph."""
    if "<" not in text and "&" not in text:
        return text
    body = html.escape(text, quote=False).replace("\n", "<br>")
    return f"<p style='white-space:pre-wrap'>{body}</p>"


def call_changes(before: Call, after: Call) -> list[str]:
    """What dispatch changed on a call between two versions, in words."""
    out: list[str] = []
    if after.team != before.team:
        if after.team and before.team:
            out.append(f"dispatch moved it from {before.team} to {after.team}")
        elif after.team:
            out.append(f"dispatch assigned {after.team}")
        else:
            out.append(f"dispatch took {before.team} off it")
    if after.status is not before.status or after.status_code != before.status_code:
        out.append(f"it is now {call_status_text(after)}")
    if after.priority != before.priority:
        out.append(f"it is now priority {priority_text(after)}")
    if after.escalated_to is not None and after.escalated_to != before.escalated_to:
        out.append(f"it was escalated to {words(after.escalated_to.value)}")
    if not out:
        out.append("dispatch updated it")
    return out


def team_changes(before: Team, after: Team) -> list[str]:
    """What dispatch changed on a team between two versions, in words."""
    out: list[str] = []
    if after.status is not before.status or after.status_code != before.status_code:
        out.append(f"it is now {team_status_text(after)}")
    if after.call != before.call:
        out.append(f"it is now on {after.call}" if after.call else f"it left {before.call}")
    return out
