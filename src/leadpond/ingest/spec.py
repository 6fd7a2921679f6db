"""The Segment HTTP Tracking API spec: what a message must hold, its limits, and its normal form."""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson

from leadpond.kit.clock import isoformat, parse_timestamp

MAX_EVENT_BYTES = 32 * 1024
MAX_REQUEST_BYTES = 500 * 1024
MAX_BATCH_EVENTS = 2500

MESSAGE_TYPES = ("identify", "track", "page", "screen", "group", "alias")
_DICT_FIELDS = ("context", "integrations", "properties", "traits")
_ID_FIELDS = ("userId", "anonymousId", "groupId", "previousId", "messageId")


class MessageRejected(Exception):
    """One message failed validation; the rest of its batch still counts."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class AcceptedMessage:
    message_id: str
    type: str
    event: str | None
    user_id: str | None
    anonymous_id: str | None
    group_id: str | None
    timestamp: datetime
    payload: dict[str, Any]
    # The payload as serialised for the size check, reused by the event-log writer.
    payload_json: bytes | None = None


def _as_id(value: Any, field: str) -> str | None:
    if value is None:
        return None
    if type(value) is str:  # the common case first: this runs five times per message
        text = value.strip()
    elif isinstance(value, bool) or not isinstance(value, str | int | float):
        raise MessageRejected("invalid_field", f"{field} must be a string or a number")
    else:
        text = str(value).strip()
    if len(text) > 255:
        raise MessageRejected("invalid_field", f"{field} is longer than 255 characters")
    return text or None


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """Batch-level context/integrations under the message's own (the message wins)."""
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def normalise(
    raw: Any,
    *,
    received_at: datetime,
    batch_context: dict[str, Any] | None = None,
    batch_integrations: dict[str, Any] | None = None,
    batch_sent_at: datetime | None = None,
    forced_type: str | None = None,
) -> AcceptedMessage:
    """Validate one message and return its normal form, or raise MessageRejected."""
    if not isinstance(raw, dict):
        raise MessageRejected("invalid_message", "a message must be a JSON object")
    message = dict(raw)
    kind = forced_type or message.get("type")
    if kind not in MESSAGE_TYPES:
        raise MessageRejected("invalid_type", f"type must be one of {', '.join(MESSAGE_TYPES)}")
    message["type"] = kind
    for field in _DICT_FIELDS:
        value = message.get(field)
        if value is None:
            message.pop(field, None)
        elif not isinstance(value, dict):
            raise MessageRejected("invalid_field", f"{field} must be an object")
    if batch_context:
        message["context"] = _merge(batch_context, message.get("context") or {})
    if batch_integrations:
        message["integrations"] = _merge(batch_integrations, message.get("integrations") or {})
    ids = {field: _as_id(message.get(field), field) for field in _ID_FIELDS}
    for field, value in ids.items():
        if value is None:
            message.pop(field, None)
        else:
            message[field] = value

    user_id, anonymous_id = ids["userId"], ids["anonymousId"]
    if kind == "alias":
        if not user_id or not ids["previousId"]:
            raise MessageRejected("missing_field", "alias needs userId and previousId")
    elif not user_id and not anonymous_id:
        raise MessageRejected("missing_field", "userId or anonymousId is required")
    if kind == "group" and not ids["groupId"]:
        raise MessageRejected("missing_field", "group needs groupId")

    name = message.get("event") if kind == "track" else message.get("name")
    if kind == "track" and (not isinstance(name, str) or not name.strip()):
        raise MessageRejected("missing_field", "track needs a non-empty event name")
    if name is not None and not isinstance(name, str):
        raise MessageRejected("invalid_field", "event/name must be a string")
    if kind == "identify" and "traits" not in message:
        context_traits = (message.get("context") or {}).get("traits")
        if isinstance(context_traits, dict):
            message["traits"] = context_traits

    moment, message["originalTimestamp"] = _corrected_timestamp(message, received_at, batch_sent_at)
    # Stored at the millisecond precision of the payload's text, which is what a re-read gives.
    moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    message["timestamp"] = isoformat(moment)
    message["receivedAt"] = isoformat(received_at)
    message_id = ids["messageId"] or f"lp-{uuid.uuid4()}"
    message["messageId"] = message_id
    message.pop("writeKey", None)

    payload_json = orjson.dumps(message)
    if len(payload_json) > MAX_EVENT_BYTES:
        raise MessageRejected(
            "event_too_large", f"an event may hold at most {MAX_EVENT_BYTES} bytes"
        )
    group_id = ids["groupId"]
    if group_id is None:
        context_group = (message.get("context") or {}).get("groupId")
        group_id = _as_id(context_group, "context.groupId") if context_group is not None else None
    return AcceptedMessage(
        message_id=message_id,
        type=kind,
        event=name.strip() if isinstance(name, str) else None,
        user_id=user_id,
        anonymous_id=anonymous_id,
        group_id=group_id,
        timestamp=moment,
        payload=message,
        payload_json=payload_json,
    )


def _corrected_timestamp(
    message: dict[str, Any], received_at: datetime, batch_sent_at: datetime | None
) -> tuple[datetime, str | None]:
    """Segment's skew correction: timestamp = receivedAt - (sentAt - originalTimestamp)."""
    original_text = message.get("originalTimestamp") or message.get("timestamp")
    original = parse_timestamp(original_text)
    sent_at = parse_timestamp(message.get("sentAt")) or batch_sent_at
    if original is None:
        return received_at, None
    if sent_at is None:
        return original, str(original_text)
    corrected = received_at - (sent_at - original)
    if abs(sent_at - original) > timedelta(days=3650):
        corrected = original
    return corrected, str(original_text)
