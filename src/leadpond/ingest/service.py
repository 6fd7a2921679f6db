"""Accepting Segment-spec requests into the durable event log."""

import base64
import threading
import time
import uuid
import zlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

import orjson
from sqlalchemy import Table
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from leadpond.db.engine import is_postgres
from leadpond.db.wakeup import EVENTS, ring_after_commit
from leadpond.ingest.models import DERIVED_SOURCE, Event
from leadpond.ingest.spec import (
    MAX_BATCH_EVENTS,
    MAX_NESTING_DEPTH,
    MAX_REQUEST_BYTES,
    AcceptedMessage,
    MessageRejected,
    nesting_depth,
    normalise,
    read_time,
)
from leadpond.kit.clock import sqlite_datetime
from leadpond.kit.errors import InvalidInput, PayloadTooLarge, RateLimited, Unauthorized

_event_table = cast(Table, Event.__table__)


@dataclass
class IngestResult:
    accepted: int = 0
    duplicates: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)

    def to_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"success": True, "accepted": self.accepted}
        if self.duplicates:
            body["duplicates"] = self.duplicates
        if self.rejected:
            body["rejected"] = self.rejected
        return body


@dataclass
class ParsedRequest:
    write_key: str
    items: list[Any]
    batch_context: dict[str, Any] | None = None
    batch_integrations: dict[str, Any] | None = None
    batch_sent_at: datetime | None = None


GZIP_MAGIC = b"\x1f\x8b"


def decode_body(body: bytes, content_encoding: str | None) -> Any:
    """Gunzip (bounded, so a zip bomb stops at the request limit) and parse JSON.

    A body is gunzipped when ``Content-Encoding`` says gzip or when it starts with gzip's magic
    bytes (some SDKs compress without saying so); either way it inflates to at most
    ``MAX_REQUEST_BYTES``.
    """
    if len(body) > MAX_REQUEST_BYTES:
        raise PayloadTooLarge(f"a request may hold at most {MAX_REQUEST_BYTES} bytes")
    encoding = (content_encoding or "").strip().lower()
    if encoding in ("gzip", "x-gzip") or body[:2] == GZIP_MAGIC:
        body = gunzip_bounded(body, MAX_REQUEST_BYTES)
    if not body.strip():
        raise InvalidInput("request body is empty")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"body is not valid JSON: {exc}") from exc


def gunzip_bounded(body: bytes, limit: int) -> bytes:
    """Every gzip member of ``body`` inflated, never holding more than ``limit + 1`` bytes:
    413 past the limit, 400 when the body is not gzip or is cut short."""
    inflated = bytearray()
    rest = body
    while True:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            # max_length stays >= 1 here (0 would mean unbounded).
            inflated += inflater.decompress(rest, limit + 1 - len(inflated))
        except zlib.error as exc:
            raise InvalidInput(f"body is not valid gzip: {exc}") from exc
        if len(inflated) > limit or inflater.unconsumed_tail:
            raise PayloadTooLarge(f"a request may hold at most {limit} bytes once decompressed")
        if not inflater.eof:
            raise InvalidInput("body is not valid gzip: the compressed data is cut short")
        rest = inflater.unused_data
        if not rest:
            return bytes(inflated)


def basic_auth_user(authorization: str | None) -> str:
    """The user part of an HTTP Basic header (Segment puts the write key there)."""
    if not authorization or not authorization.lower().startswith("basic "):
        return ""
    try:
        decoded = base64.b64decode(authorization[6:].strip(), validate=False).decode()
    except (ValueError, UnicodeDecodeError) as exc:
        raise Unauthorized("malformed Basic authorization header") from exc
    return decoded.split(":", 1)[0]


def parse_request(kind: str, document: Any, authorization: str | None) -> ParsedRequest:
    """Split a single-event or batch request into its write key and raw messages."""
    if not isinstance(document, dict):
        raise InvalidInput("body must be a JSON object")
    write_key = basic_auth_user(authorization) or str(document.get("writeKey") or "")
    if kind != "batch":
        return ParsedRequest(write_key=write_key, items=[{**document, "type": kind}])
    items = document.get("batch")
    if not isinstance(items, list):
        raise InvalidInput("batch must be a list of messages", field="batch")
    if len(items) > MAX_BATCH_EVENTS:
        raise PayloadTooLarge(f"a batch may hold at most {MAX_BATCH_EVENTS} events")
    context = document.get("context")
    integrations = document.get("integrations")
    for name, value in (("context", context), ("integrations", integrations)):
        if nesting_depth(value, MAX_NESTING_DEPTH) > MAX_NESTING_DEPTH:
            raise InvalidInput(
                f"{name} may nest at most {MAX_NESTING_DEPTH} levels deep", field=name
            )
    return ParsedRequest(
        write_key=write_key,
        items=items,
        batch_context=context if isinstance(context, dict) else None,
        batch_integrations=integrations if isinstance(integrations, dict) else None,
        batch_sent_at=_batch_sent_at(document.get("sentAt")),
    )


def _batch_sent_at(value: Any) -> datetime | None:
    """The batch's sentAt, which every message's skew correction uses: unreadable is a 400."""
    try:
        return read_time(value, "sentAt")
    except MessageRejected as exc:
        raise InvalidInput(exc.message, field="sentAt") from exc


def validate(
    request: ParsedRequest, received_at: datetime
) -> tuple[list[AcceptedMessage], IngestResult]:
    """Normalise every message; a bad one is reported by index, the good ones go on."""
    result = IngestResult()
    accepted: list[AcceptedMessage] = []
    for index, raw in enumerate(request.items):
        try:
            accepted.append(
                normalise(
                    raw,
                    received_at=received_at,
                    batch_context=request.batch_context,
                    batch_integrations=request.batch_integrations,
                    batch_sent_at=request.batch_sent_at,
                )
            )
        except MessageRejected as exc:
            result.rejected.append({"index": index, "code": exc.code, "message": exc.message})
    return accepted, result


def append_events(
    session: Session,
    workspace_id: uuid.UUID,
    messages: list[AcceptedMessage],
    received_at: datetime,
    source: str = "api",
) -> int:
    """Write messages to the event log; a messageId already seen in the workspace is skipped.

    Returns how many rows were new. The caller's transaction makes them durable.
    """
    if not messages:
        return 0
    # The pipeline worker claims them as soon as they are committed.
    ring_after_commit(session, EVENTS)
    if not is_postgres(session):
        return _append_sqlite(session, workspace_id, messages, received_at, source)
    rows = [
        {
            "workspace_id": workspace_id,
            "message_id": m.message_id,
            "type": m.type,
            "event": m.event,
            "user_id": m.user_id,
            "anonymous_id": m.anonymous_id,
            "group_id": m.group_id,
            "timestamp": m.timestamp,
            "received_at": received_at,
            "source": source,
            "payload": m.payload,
        }
        for m in messages
    ]
    # psycopg's executemany has no summed rowcount; RETURNING counts the rows written.
    pg_stmt = postgresql.insert(_event_table).on_conflict_do_nothing(
        index_elements=["workspace_id", "message_id"]
    )
    return len(session.execute(pg_stmt.returning(_event_table.c.id), rows).all())


_SQLITE_COLUMNS = (
    "workspace_id",
    "message_id",
    "type",
    "event",
    "user_id",
    "anonymous_id",
    "group_id",
    "timestamp",
    "received_at",
    "source",
    "payload",
)
_SQLITE_INSERT = (
    f"INSERT INTO {_event_table.name} ({', '.join(_SQLITE_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in _SQLITE_COLUMNS)}) "
    "ON CONFLICT (workspace_id, message_id) DO NOTHING"
)


def _append_sqlite(
    session: Session,
    workspace_id: uuid.UUID,
    messages: list[AcceptedMessage],
    received_at: datetime,
    source: str,
) -> int:
    """The hot path on SQLite: values pre-encoded exactly as the ORM types store them (UUID as
    32 hex digits, DATETIME text, the JSON the size check already serialised), one driver-level
    executemany, whose rowcount counts the new rows."""
    workspace = workspace_id.hex
    received = sqlite_datetime(received_at)
    rows = [
        (
            workspace,
            m.message_id,
            m.type,
            m.event,
            m.user_id,
            m.anonymous_id,
            m.group_id,
            sqlite_datetime(m.timestamp),
            received,
            source,
            (m.payload_json or orjson.dumps(m.payload)).decode(),
        )
        for m in messages
    ]
    return int(session.connection().exec_driver_sql(_SQLITE_INSERT, rows).rowcount)


class RateLimiter:
    """A token bucket per workspace (events per second), in this process."""

    def __init__(self, rate_per_s: float, burst: int) -> None:
        self.rate_per_s = rate_per_s
        self.burst = burst
        self._buckets: dict[uuid.UUID, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, workspace_id: uuid.UUID, events: int) -> None:
        """Spend tokens for a request, or raise 429 with the seconds to wait."""
        if self.rate_per_s <= 0:
            return
        with self._lock:
            now = time.monotonic()
            tokens, last = self._buckets.get(workspace_id, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate_per_s)
            if tokens < events:
                self._buckets[workspace_id] = (tokens, now)
                retry_after = max(1, int((events - tokens) / self.rate_per_s) + 1)
                raise RateLimited(
                    f"workspace is over its ingest rate of {self.rate_per_s:g} events/s",
                    retry_after_s=retry_after,
                )
            self._buckets[workspace_id] = (tokens - events, now)


def derived_event_row(
    workspace_id: uuid.UUID, row: dict[str, Any], now: datetime
) -> dict[str, Any]:
    """An event-log row for an event leadpond derived for a person (``row``: message_id, event,
    properties, timestamp, person_id); idempotent through its deterministic message id."""
    payload = {
        "type": "track",
        "event": row["event"],
        "properties": row["properties"],
        "messageId": row["message_id"],
        "timestamp": row["timestamp"].isoformat() + "Z",
    }
    return {
        "workspace_id": workspace_id,
        "message_id": row["message_id"],
        "type": "track",
        "event": row["event"],
        "timestamp": row["timestamp"],
        "received_at": now,
        "source": DERIVED_SOURCE,
        "payload": payload,
        "person_id": row["person_id"],
        "origin_person_id": row["person_id"],
        "processed_at": now,
    }
