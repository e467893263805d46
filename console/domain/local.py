"""Commands the console records itself: the checks, and the event each one becomes.

Acknowledging an alert and the program's records (outcome, unserved reason, naloxone,
follow-ups) are never sent to dispatch: submitting one appends its event at once (audited in
the same transaction, see ``console.store.submission``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .commands import (
    AcknowledgeAlert,
    CloseFollowUp,
    Command,
    CommandRejected,
    GiveUnservedReason,
    OpenFollowUp,
    RecordFollowUpAttempt,
    RecordNaloxone,
    RecordOutcome,
    SetDestinationStatus,
)
from .destinations import CapacityReport
from .events import (
    AlertAcknowledged,
    DestinationStatusReported,
    Event,
    FollowUpAttempted,
    FollowUpClosed,
    FollowUpOpened,
    NaloxoneRecorded,
    OutcomeRecorded,
    Source,
    UnservedReasonGiven,
)
from .program import FOLLOWUP_CHANNELS, FOLLOWUP_RESULTS, MAX_NALOXONE_DOSES
from .projection import State


def followup_id_for(call_id: str, command_id: str, cmd: OpenFollowUp) -> str:
    """The follow-up's name: the one given, else one of its own (``FU-`` + a short id)."""
    return cmd.followup_id or f"FU-{command_id[:10]}"


def check_local(command: Command, st: State, now: datetime) -> None:
    """Refuse a local record that cannot stand, with what to do (the state holds the call
    or follow-up the command names, when it exists)."""
    if isinstance(command, AcknowledgeAlert):
        return
    if isinstance(command, SetDestinationStatus):
        if not command.destination_id.strip():
            raise CommandRejected("name the destination whose capacity this is")
        if command.available is not None and command.available < 0:
            raise CommandRejected(
                f"free beds or slots cannot be negative ({command.available}); give 0 when full"
            )
        return
    call_id = command.call_id
    if isinstance(command, RecordOutcome | GiveUnservedReason | RecordNaloxone | OpenFollowUp):
        if call_id not in st.calls:
            raise CommandRejected(f"no call {call_id} is known; check the call number")
    if isinstance(command, RecordNaloxone):
        if not 1 <= command.doses <= MAX_NALOXONE_DOSES:
            raise CommandRejected(
                f"naloxone doses must be 1 to {MAX_NALOXONE_DOSES}, not {command.doses}"
            )
        if command.given_at > now:
            raise CommandRejected("naloxone cannot be recorded as given in the future")
        call = st.calls[command.call_id]
        if command.given_at < call.received_at:
            raise CommandRejected(
                f"naloxone given before {call.id} was received: check the time given"
            )
    if isinstance(command, OpenFollowUp):
        if not command.owner.strip():
            raise CommandRejected("a follow-up needs an owner (agency or team)")
        fid = command.followup_id
        if fid and fid in st.followups and st.followups[fid].opened_at is not None:
            raise CommandRejected(f"follow-up {fid} is already open")
    if isinstance(command, RecordFollowUpAttempt | CloseFollowUp):
        fu = st.followups.get(command.followup_id)
        if fu is None or fu.opened_at is None:
            raise CommandRejected(f"no follow-up {command.followup_id} is known")
        if not fu.is_open:
            raise CommandRejected(f"follow-up {fu.id} is already closed ({fu.end})")
    if isinstance(command, RecordFollowUpAttempt):
        if command.channel not in FOLLOWUP_CHANNELS:
            raise CommandRejected(
                f"follow-up channel {command.channel!r} is not one of "
                + ", ".join(FOLLOWUP_CHANNELS)
            )
        if command.result not in FOLLOWUP_RESULTS:
            raise CommandRejected(
                f"follow-up result {command.result!r} is not one of " + ", ".join(FOLLOWUP_RESULTS)
            )


def local_event(command: Command, command_id: str, operator: str, now: datetime) -> Event:
    """The event a local command records."""
    h: dict[str, Any] = {
        "source": Source.CONSOLE,
        "source_id": f"{command.kind}-{command_id}",
        "occurred_at": now,
        "recorded_at": now,
    }
    if isinstance(command, AcknowledgeAlert):
        h["source_id"] = f"ack-{command_id}"
        return AlertAcknowledged(
            **h, alert_id=command.alert_id, operator=operator, note=command.reason
        )
    if isinstance(command, SetDestinationStatus):
        h["source_id"] = f"dst-{command_id}"
        return DestinationStatusReported(
            **h,
            report=CapacityReport(
                command.destination_id,
                now,
                command.available,
                command.accepting,
                Source.CONSOLE,
                operator,
                command.reason,
            ),
        )
    if isinstance(command, RecordOutcome):
        return OutcomeRecorded(
            **h,
            call_id=command.call_id,
            outcome=command.outcome,
            destination_kind=command.destination_kind,
            operator=operator,
        )
    if isinstance(command, GiveUnservedReason):
        return UnservedReasonGiven(
            **h, call_id=command.call_id, reason=command.unserved, operator=operator
        )
    if isinstance(command, RecordNaloxone):
        return NaloxoneRecorded(
            **h,
            call_id=command.call_id,
            doses=command.doses,
            given_at=command.given_at,
            operator=operator,
        )
    if isinstance(command, OpenFollowUp):
        return FollowUpOpened(
            **h,
            followup_id=followup_id_for(command.call_id, command_id, command),
            call_id=command.call_id,
            owner=command.owner,
            due_at=command.due_at,
            cause=command.cause,
            operator=operator,
        )
    if isinstance(command, RecordFollowUpAttempt):
        return FollowUpAttempted(
            **h,
            followup_id=command.followup_id,
            channel=command.channel,
            result=command.result,
            operator=operator,
        )
    if isinstance(command, CloseFollowUp):
        return FollowUpClosed(
            **h, followup_id=command.followup_id, end=command.end, operator=operator
        )
    raise TypeError(f"{command.kind} is sent to dispatch, not recorded locally")
