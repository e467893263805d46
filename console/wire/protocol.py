"""Messages on the dispatch WebSocket: NENA-STA-024 subscribe/notify, and the console's commands.

Every frame is one JSON object with exactly one top-level key naming the message (STA-024's
style): ``subscribe``, ``subscribeResponse``, ``event``, ``eventResponse``, ``terminate``,
``terminateResponse``, ``unsubscribe``, ``unsubscribeResponse``, ``requestForService`` and its
``response``; plus the console's own ``command`` / ``commandResponse`` for the commands STA-024
has no message for (assign, reassign, change priority, add note, team service, check-in).

Builders return plain dicts (``encode`` makes the frame); :func:`decode` checks a frame's shape and
raises :class:`ProtocolError` naming what is wrong, so bad input is quarantined, never crashes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from console.domain.codec import command_to_dict
from console.domain.commands import Command, EscalateCall
from console.wire.limits import FeedLimits, InputRefused, check_value, loads, transaction_id_in

Json = dict[str, Any]

SUBPROTOCOL = "emergency-incident-data-object-v1"
"""Offered as the WebSocket subprotocol; the notifier accepts clients that offer none, too."""

STATUS_OK = 200
STATUS_BAD_REQUEST = 400
STATUS_NOT_FOUND = 404
STATUS_CONFLICT = 409
STATUS_UNPROCESSABLE = 422
STATUS_NO_SUBSCRIPTION = 481
STATUS_UNAVAILABLE = 503
RESPONSE_DECLINED = 603

MESSAGE_KINDS = frozenset(
    {
        "subscribe",
        "subscribeResponse",
        "unsubscribe",
        "unsubscribeResponse",
        "event",
        "eventResponse",
        "terminate",
        "terminateResponse",
        "requestForService",
        "response",
        "command",
        "commandResponse",
    }
)


class ProtocolError(ValueError):
    """A frame that is not a message of this protocol; ``transaction_id`` when one was readable."""

    def __init__(self, message: str, transaction_id: str | None = None) -> None:
        super().__init__(message)
        self.transaction_id = transaction_id


@dataclass(frozen=True, slots=True)
class Message:
    kind: str
    body: Json


def encode(msg: Json) -> str:
    return json.dumps(msg, separators=(",", ":"), ensure_ascii=False)


_REQUIRED: dict[str, tuple[tuple[str, type | tuple[type, ...]], ...]] = {
    "subscribe": (("requestId", str),),
    "subscribeResponse": (("requestId", str), ("statusCode", int), ("statusText", str)),
    "unsubscribe": (("requestId", str), ("subscriptionId", str)),
    "unsubscribeResponse": (
        ("requestId", str),
        ("subscriptionId", str),
        ("statusCode", int),
        ("statusText", str),
    ),
    "event": (("subscriptionId", str), ("transactionId", str)),
    "eventResponse": (("transactionId", str), ("statusCode", int), ("statusText", str)),
    "terminate": (("requestId", str), ("subscriptionId", str)),
    "terminateResponse": (
        ("requestId", str),
        ("subscriptionId", str),
        ("statusCode", int),
        ("statusText", str),
    ),
    "requestForService": (("requestId", str), ("eido", dict)),
    "command": (("requestId", str), ("idempotencyKey", str), ("kind", str)),
    "commandResponse": (("requestId", str), ("statusCode", int), ("statusText", str)),
}


DEFAULT_LIMITS = FeedLimits()


def decode(raw: str | bytes, limits: FeedLimits = DEFAULT_LIMITS) -> Message:
    """Parse and shape-check one frame.

    A frame over the size limit, not UTF-8, nested deeper than the limit, or (outside an event's
    documents, which the client checks one by one) holding a non-finite number or a string that
    is not valid Unicode raises :class:`ProtocolError` naming the problem, with the
    transactionId when one is visible so the notification can still be answered.
    """
    if isinstance(raw, str) and len(raw) * 4 <= limits.max_frame_bytes:
        data = b""  # surely within the limit; encoded only if needed below
    else:
        data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
        if len(data) > limits.max_frame_bytes:
            raise ProtocolError(
                f"frame of {len(data)} bytes exceeds the {limits.max_frame_bytes}-byte frame limit",
                transaction_id_in(data[:65536]) or transaction_id_in(data),
            )
    if isinstance(raw, str):
        text = raw
    else:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ProtocolError(
                f"invalid UTF-8 at byte {exc.start} ({exc.reason})", transaction_id_in(data)
            ) from None
    try:
        obj = loads(text)
    except RecursionError:
        raise ProtocolError(
            f"nesting deeper than {limits.max_depth} levels", _tid_of(raw)
        ) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProtocolError(f"not JSON: {exc}") from exc
    if not isinstance(obj, dict) or len(obj) != 1:
        raise ProtocolError("a message must be a JSON object with exactly one key")
    kind, body = next(iter(obj.items()))
    if kind not in MESSAGE_KINDS:
        raise ProtocolError(f"unknown message {kind!r}")
    if not isinstance(body, dict):
        raise ProtocolError(f"{kind}: expected an object")
    tid = body.get("transactionId") if isinstance(body.get("transactionId"), str) else None
    if tid is not None and not tid.isascii() and _not_unicode(tid):
        tid = None  # cannot even be answered
    if kind == "response":
        # STA-024 has two: the notifier's 501 (statusCode) and the answer to a push request
        # (responseCode).
        if not isinstance(body.get("requestId"), str):
            raise ProtocolError("response.requestId is missing")
        code = body.get("responseCode", body.get("statusCode"))
        if isinstance(code, bool) or not isinstance(code, int):
            raise ProtocolError("response: responseCode is missing")
        try:
            check_value(body, limits, kind, 2)
        except InputRefused as exc:
            raise ProtocolError(str(exc)) from None
        return Message(kind, body)
    for key, typ in _REQUIRED.get(kind, ()):
        v = body.get(key)
        if v is None:
            raise ProtocolError(f"{kind}.{key} is missing", tid)
        if not isinstance(v, typ) or (typ is int and isinstance(v, bool)):
            raise ProtocolError(f"{kind}.{key}: wrong type {type(v).__name__}", tid)
    try:
        if kind == "event":
            n = body.get("notification", [])
            if not isinstance(n, list) or not all(isinstance(x, dict) for x in n):
                raise ProtocolError("event.notification: expected an array of EIDO objects", tid)
            # The documents are checked one by one (the client quarantines only a bad one).
            check_value({k: v for k, v in body.items() if k != "notification"}, limits, kind, 2)
        else:
            check_value(body, limits, kind, 2)
    except InputRefused as exc:
        raise ProtocolError(str(exc), tid) from None
    return Message(kind, body)


def _not_unicode(s: str) -> bool:
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _tid_of(raw: str | bytes) -> str | None:
    return transaction_id_in(raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw)


# -- STA-024 subscribe / notify ----------------------------------------------------------------


def subscribe(
    request_id: str,
    *,
    subscription_id: str | None = None,
    expires: int = 3600,
    min_rate: int | None = None,
    sub_type: str = "new",
) -> Json:
    """A new subscription, or (with ``subscription_id``) a renewal / resumption of one.

    ``sub_type`` "new" asks for every incident; ``min_rate`` asks the notifier to send at least
    one notification (an empty one is a keep-alive) every that many seconds.
    """
    body: Json = {
        "requestId": request_id,
        "requestType": "EIDO",
        "requestSubType": sub_type,
        "expires": expires,
    }
    body["requestAccepts"] = "application/emergency.eido+json; version=1"
    if min_rate:
        body["minRate"] = min_rate
    if subscription_id:
        body["subscriptionId"] = subscription_id
    return {"subscribe": body}


def subscribe_response(
    request_id: str,
    subscription_id: str | None,
    status: int = STATUS_OK,
    text: str = "OK",
    expires: int = 3600,
    min_rate: int | None = None,
) -> Json:
    body: Json = {"requestId": request_id, "statusCode": status, "statusText": text}
    if subscription_id:
        body["subscriptionId"] = subscription_id
        if expires:
            body["expires"] = expires
        if min_rate:
            body["minRate"] = min_rate
    return {"subscribeResponse": body}


def unsubscribe(request_id: str, subscription_id: str) -> Json:
    return {"unsubscribe": {"requestId": request_id, "subscriptionId": subscription_id}}


def unsubscribe_response(request_id: str, subscription_id: str, status: int = STATUS_OK) -> Json:
    return {
        "unsubscribeResponse": {
            "requestId": request_id,
            "subscriptionId": subscription_id,
            "statusCode": status,
            "statusText": "OK" if status == STATUS_OK else "Error",
        }
    }


def event(subscription_id: str, transaction_id: str, notification: list[Json]) -> Json:
    return {
        "event": {
            "subscriptionId": subscription_id,
            "transactionId": transaction_id,
            "notification": notification,
        }
    }


def event_response(transaction_id: str, status: int = STATUS_OK, text: str = "OK") -> Json:
    return {
        "eventResponse": {"transactionId": transaction_id, "statusCode": status, "statusText": text}
    }


def terminate(request_id: str, subscription_id: str) -> Json:
    return {"terminate": {"requestId": request_id, "subscriptionId": subscription_id}}


def terminate_response(request_id: str, subscription_id: str, status: int = STATUS_OK) -> Json:
    return {
        "terminateResponse": {
            "requestId": request_id,
            "subscriptionId": subscription_id,
            "statusCode": status,
            "statusText": "OK" if status == STATUS_OK else "Error",
        }
    }


# -- STA-024 push: escalation ------------------------------------------------------------------


def request_for_service(request_id: str, eido: Json) -> Json:
    return {"requestForService": {"requestId": request_id, "eido": eido}}


def response_to_request(
    request_id: str, code: int, text: str, *, answered_at: datetime | None = None
) -> Json:
    body: Json = {"requestId": request_id, "responseCode": code, "responseText": text}
    if answered_at is not None:
        body["answeredAt"] = answered_at.isoformat()
    return {"response": body}


# -- the console's command message ----------------------------------------------------------------


def command(
    key: str, cmd: Command, *, operator: str, issued_at: datetime, command_id: str = ""
) -> Json:
    """Everything but escalation: the domain command as its codec writes it, plus routing."""
    if isinstance(cmd, EscalateCall):
        raise ValueError("escalation travels as requestForService, not as a command message")
    body: Json = {
        "requestId": key,
        "idempotencyKey": key,
        "commandId": command_id,
        "kind": cmd.kind,
        "operator": operator,
        "issuedAt": issued_at.isoformat(),
        "args": command_to_dict(cmd),
    }
    return {"command": body}


def command_response(
    key: str,
    *,
    accepted: bool,
    text: str,
    answered_at: datetime,
    status: int | None = None,
    incident_id: str | None = None,
    version: int | None = None,
) -> Json:
    body: Json = {
        "requestId": key,
        "idempotencyKey": key,
        "accepted": accepted,
        "statusCode": status
        if status is not None
        else (STATUS_OK if accepted else STATUS_CONFLICT),
        "statusText": text,
        "answeredAt": answered_at.isoformat(),
    }
    if incident_id is not None:
        body["incidentId"] = incident_id
    if version is not None:
        body["version"] = version
    return {"commandResponse": body}


@dataclass(frozen=True, slots=True)
class Answer:
    """Dispatch's answer to a command or a requestForService, as the console records it."""

    key: str
    accepted: bool
    detail: str
    answered_at: datetime | None


def answer_of(msg: Message) -> Answer:
    b = msg.body
    at_raw = b.get("answeredAt")
    at = None
    if isinstance(at_raw, str):
        try:
            at = datetime.fromisoformat(at_raw)
        except ValueError as exc:
            raise ProtocolError(
                f"{msg.kind}.answeredAt: {at_raw!r} is not an ISO 8601 time"
            ) from exc
        if at.tzinfo is None:
            raise ProtocolError(f"{msg.kind}.answeredAt: {at_raw!r} has no UTC offset")
    if msg.kind == "commandResponse":
        accepted = b.get("accepted")
        if not isinstance(accepted, bool):
            accepted = b["statusCode"] == STATUS_OK
        return Answer(str(b["requestId"]), accepted, str(b.get("statusText") or ""), at)
    if msg.kind == "response":
        code = b.get("responseCode", b.get("statusCode"))
        text = str(b.get("responseText") or b.get("statusText") or "")
        return Answer(str(b["requestId"]), code == STATUS_OK, text, at)
    raise ProtocolError(f"{msg.kind} is not an answer")
