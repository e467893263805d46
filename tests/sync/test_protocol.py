"""STA-024 frames: builders match the NENA WebSocket schema; the decoder names what is wrong."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from console.domain.commands import AddNote, AssignTeam, EscalateCall
from console.domain.model import EscalationTarget
from console.wire import protocol as proto

from .eido_schema import errors, ws_validator

AT = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("component", "msg"),
    [
        ("subscribeObject", proto.subscribe("r1")),
        ("subscribeObject", proto.subscribe("r1", subscription_id="s1")),
        ("subscribeResponseObject", proto.subscribe_response("r1", "s1")),
        ("subscribeResponseObject", proto.subscribe_response("r1", None, 400, "bad")),
        ("unsubscribeObject", proto.unsubscribe("r2", "s1")),
        ("unsubscribeResponseObject", proto.unsubscribe_response("r2", "s1")),
        ("eventObject", proto.event("s1", "t1", [{"eidoVersion": "1.0"}])),
        ("eventResponseObject", proto.event_response("t1")),
        ("eventResponseObject", proto.event_response("t1", 400, "schema: x")),
        ("terminateObject", proto.terminate("r3", "s1")),
        ("terminateResponseObject", proto.terminate_response("r3", "s1")),
        ("requestForServiceObject", proto.request_for_service("k1", {"eidoVersion": "1.0"})),
        ("responseToRequestObject", proto.response_to_request("k1", 603, "closed", answered_at=AT)),
    ],
)
def test_sta024_messages_match_the_nena_schema(component: str, msg: dict[str, Any]) -> None:
    # requestForServiceObject/requestAwareness put requestId at the top level in the schema's
    # "required" while defining it inside; validate the part that is consistent.
    v = ws_validator(component)
    errs = [
        e
        for e in errors(v, msg)
        if "is a required property" not in e or component not in ("requestForServiceObject",)
    ]
    assert errs == []
    assert proto.decode(proto.encode(msg)).kind == next(iter(msg))


def test_the_schema_check_catches_a_wrong_status_code() -> None:
    msg = proto.event_response("t1", 299, "odd")
    assert errors(ws_validator("eventResponseObject"), msg)


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("{not json", "not JSON"),
        ("[1, 2]", "exactly one key"),
        ('{"a": {}, "b": {}}', "exactly one key"),
        ('{"gossip": {}}', "unknown message"),
        ('{"event": {"subscriptionId": "s"}}', "event.transactionId is missing"),
        ('{"event": {"subscriptionId": "s", "transactionId": 5}}', "wrong type"),
        (
            '{"event": {"subscriptionId": "s", "transactionId": "t", "notification": [1]}}',
            "array of EIDO",
        ),
        (
            '{"eventResponse": {"transactionId": "t", "statusCode": true, "statusText": ""}}',
            "wrong type",
        ),
    ],
)
def test_decode_names_the_problem(raw: str, fragment: str) -> None:
    with pytest.raises(proto.ProtocolError, match=fragment):
        proto.decode(raw)


def test_a_bad_event_still_yields_its_transaction_id_for_a_refusal() -> None:
    with pytest.raises(proto.ProtocolError) as exc:
        proto.decode(
            '{"event": {"subscriptionId": "s", "transactionId": "t9", "notification": "x"}}'
        )
    assert exc.value.transaction_id == "t9"


def test_command_message_round_trip_and_answers() -> None:
    cmd = AssignTeam(call_id="HCR-000001", team_id="CRT-1", expected_version=3)
    msg = proto.command("key-1", cmd, operator="sup", issued_at=AT, command_id="c1")
    body = proto.decode(proto.encode(msg)).body
    assert body["idempotencyKey"] == "key-1" and body["kind"] == "assign"
    assert body["args"]["team_id"] == "CRT-1" and body["args"]["expected_version"] == 3
    yes = proto.decode(
        proto.encode(proto.command_response("key-1", accepted=True, text="ok", answered_at=AT))
    )
    a = proto.answer_of(yes)
    assert (a.key, a.accepted, a.detail, a.answered_at) == ("key-1", True, "ok", AT)
    no = proto.decode(
        proto.encode(proto.response_to_request("key-2", 603, "call cleared", answered_at=AT))
    )
    b = proto.answer_of(no)
    assert (b.key, b.accepted, b.detail) == ("key-2", False, "call cleared")
    with pytest.raises(ValueError, match="requestForService"):
        proto.command(
            "k", EscalateCall(call_id="x", target=EscalationTarget.EMS), operator="s", issued_at=AT
        )
    note = proto.command("k3", AddNote(call_id="x", text="hi"), operator="s", issued_at=AT)
    assert note["command"]["args"]["text"] == "hi"
