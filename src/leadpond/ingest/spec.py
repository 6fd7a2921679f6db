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
# Objects and arrays inside objects and arrays: the message itself is level 1.
MAX_NESTING_DEPTH = 32
MAX_NAME_CHARS = 255
# An event's time must lie in [EARLIEST_TIMESTAMP, receivedAt + FUTURE_LEEWAY]: later stages add
# and subtract durations to it, and year 1 or 9999 would overflow them.
EARLIEST_TIMESTAMP = datetime(2000, 1, 1)
FUTURE_LEEWAY = timedelta(days=1)
# Beyond this gap between sentAt and the message's own time, the client clock is not trusted to
# correct anything and the message's own time is kept.
MAX_CLOCK_SKEW = timedelta(days=3650)

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


def nesting_depth(value: Any, limit: int) -> int:
    """How deeply objects and arrays nest in ``value`` (a scalar is 0), counting no further than
    ``limit + 1``; iterative, so no depth the JSON parser allows can exhaust Python's stack."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = (
            item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        )
        if children is None:
            continue
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        stack.extend((child, depth + 1) for child in children)
    return deepest


def _holds_nul(value: Any) -> bool:
    """A NUL character in any string or key (PostgreSQL's text and jsonb cannot store one)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


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
    message, kind = _typed_message(raw, forced_type)
    if batch_context:
        message["context"] = _merge(batch_context, message.get("context") or {})
    if batch_integrations:
        message["integrations"] = _merge(batch_integrations, message.get("integrations") or {})
    ids = _checked_ids(message, kind)
    name = _event_name(message, kind)
    if kind == "identify" and "traits" not in message:
        context_traits = (message.get("context") or {}).get("traits")
        if isinstance(context_traits, dict):
            message["traits"] = context_traits
    moment, message_id = _stamp(message, ids, received_at, batch_sent_at)
    payload_json = _checked_json(message)
    group_id = ids["groupId"]
    if group_id is None:
        context_group = (message.get("context") or {}).get("groupId")
        group_id = _as_id(context_group, "context.groupId") if context_group is not None else None
    return AcceptedMessage(
        message_id=message_id,
        type=kind,
        event=name.strip() if isinstance(name, str) else None,
        user_id=ids["userId"],
        anonymous_id=ids["anonymousId"],
        group_id=group_id,
        timestamp=moment,
        payload=message,
        payload_json=payload_json,
    )


def _typed_message(raw: Any, forced_type: str | None) -> tuple[dict[str, Any], str]:
    """A copy of the message with a known type and objects where objects belong."""
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
    return message, kind


def _checked_ids(message: dict[str, Any], kind: str) -> dict[str, str | None]:
    """The message's ids as text (written back in that form), with those its type needs."""
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
    return ids


def _event_name(message: dict[str, Any], kind: str) -> str | None:
    """A track's event or a page's name, as sent (a track must have one)."""
    name = message.get("event") if kind == "track" else message.get("name")
    if kind == "track" and (not isinstance(name, str) or not name.strip()):
        raise MessageRejected("missing_field", "track needs a non-empty event name")
    if name is not None and not isinstance(name, str):
        raise MessageRejected("invalid_field", "event/name must be a string")
    if isinstance(name, str) and len(name.strip()) > MAX_NAME_CHARS:
        raise MessageRejected(
            "invalid_field", f"event/name is longer than {MAX_NAME_CHARS} characters"
        )
    return name


def _stamp(
    message: dict[str, Any],
    ids: dict[str, str | None],
    received_at: datetime,
    batch_sent_at: datetime | None,
) -> tuple[datetime, str]:
    """Write the corrected times and the message id into the message; return both."""
    moment, message["originalTimestamp"] = _corrected_timestamp(message, received_at, batch_sent_at)
    # Stored at the millisecond precision of the payload's text, which is what a re-read gives.
    moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    message["timestamp"] = isoformat(moment)
    message["receivedAt"] = isoformat(received_at)
    message_id = ids["messageId"] or f"lp-{uuid.uuid4()}"
    message["messageId"] = message_id
    message.pop("writeKey", None)
    return moment, message_id


def _checked_json(message: dict[str, Any]) -> bytes:
    """The message as stored, once its size, nesting and characters are known to fit both
    databases alike."""
    too_deep = MessageRejected(
        "too_deep", f"objects and arrays may nest at most {MAX_NESTING_DEPTH} levels deep"
    )
    try:
        payload_json = orjson.dumps(message)
    except orjson.JSONEncodeError as exc:  # orjson stops at 255 levels
        raise too_deep from exc
    if len(payload_json) > MAX_EVENT_BYTES:
        raise MessageRejected(
            "event_too_large", f"an event may hold at most {MAX_EVENT_BYTES} bytes"
        )
    # Cheap byte counts first: fewer brackets than the limit cannot nest deeper than it, and
    # orjson writes a NUL as the escape \u0000 (a literal backslash-u0000 text looks alike).
    brackets = payload_json.count(b"{") + payload_json.count(b"[")
    if (
        brackets > MAX_NESTING_DEPTH
        and nesting_depth(message, MAX_NESTING_DEPTH) > MAX_NESTING_DEPTH
    ):
        raise too_deep
    if b"\\u0000" in payload_json and _holds_nul(message):
        raise MessageRejected("nul_character", "text may not hold the NUL character (U+0000)")
    return payload_json


def read_time(value: Any, field: str) -> datetime | None:
    """A message's time field as naive UTC: None when absent, MessageRejected when unreadable."""
    if value is None or value == "":
        return None
    moment = parse_timestamp(value)
    if moment is None:
        raise MessageRejected(
            "invalid_timestamp", f"{field} is not an ISO-8601 date-time: {str(value)[:40]!r}"
        )
    return moment


def check_time_range(moment: datetime, received_at: datetime, field: str) -> None:
    """Refuse a time outside [2000-01-01, receivedAt + 1 day]."""
    if EARLIEST_TIMESTAMP <= moment <= received_at + FUTURE_LEEWAY:
        return
    raise MessageRejected(
        "timestamp_out_of_range",
        f"{field} must lie between {EARLIEST_TIMESTAMP:%Y-%m-%d} and one day after now",
    )


def _corrected_timestamp(
    message: dict[str, Any], received_at: datetime, batch_sent_at: datetime | None
) -> tuple[datetime, str | None]:
    """Segment's skew correction: timestamp = receivedAt - (sentAt - originalTimestamp).

    sentAt only has to be readable: a client whose clock is years off still gets its events
    placed by the correction. The time kept must lie in the accepted range.
    """
    stated = read_time(message.get("timestamp"), "timestamp")
    field = "timestamp"
    if message.get("originalTimestamp") not in (None, ""):
        field = "originalTimestamp"
    original_text = message.get(field)
    original = read_time(original_text, field) if field == "originalTimestamp" else stated
    sent_at = read_time(message.get("sentAt"), "sentAt") or batch_sent_at
    if original is None:
        return received_at, None
    corrected = original
    if sent_at is not None and abs(sent_at - original) <= MAX_CLOCK_SKEW:
        corrected = received_at - (sent_at - original)
    check_time_range(corrected, received_at, field)
    return corrected, str(original_text)
