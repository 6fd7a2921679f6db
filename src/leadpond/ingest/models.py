"""The durable event log: every accepted message, in arrival order, and its processing state."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    func,
    text,
    type_coerce,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from leadpond.db.base import Base, BigId, JsonDoc
from leadpond.db.engine import is_postgres

# Events leadpond writes itself (key events, segment entries…): already processed, never
# resolved through identifiers, owned by the person they were derived for.
DERIVED_SOURCE = "derived"
# Events about the messages leadpond sent a person (Email Sent, Email Opened…): pending like
# any event, so rules and segments see them, but written with the person they are about already
# set (``person_id``); identity keeps that person instead of resolving identifiers. Not activity.
MESSAGE_SOURCE = "channels"
# Actions journeys take on a person (points, a stage, traits): pending events written with their
# person set, like the channels' (identity keeps that person), so the rules apply them in time
# order and a replay of history applies them again. Not activity either.
JOURNEY_SOURCE = "journeys"
# Sources whose events are written for a known person (never resolved through identifiers).
OWNED_SOURCES = (MESSAGE_SOURCE, JOURNEY_SOURCE)
# "The event is derived", written out so that both databases use ix_event_derived for it (a
# partial index serves a query only when the query's own text implies the index's condition).
DERIVED_ONLY = text(f"event.source = '{DERIVED_SOURCE}'")
# Waiting for the pipeline: not processed and not set aside by the quarantine.
PENDING_SQL = text("processed_at IS NULL AND failed_at IS NULL")
QUARANTINED_SQL = text("failed_at IS NOT NULL")


class Event(Base):
    """One Segment-spec message. ``processed_at`` NULL means it waits for the pipeline, unless
    ``failed_at`` says the pipeline set it aside (quarantine: the stage and the error are kept).

    The same table is the person timeline: the pipeline sets ``person_id`` when it resolves who
    the event is about, and merges/unmerges move it.
    """

    __tablename__ = "event"
    __table_args__ = (
        UniqueConstraint("workspace_id", "message_id"),
        Index(
            "ix_event_pending",
            "id",
            sqlite_where=PENDING_SQL,
            postgresql_where=PENDING_SQL,
        ),
        # Quarantined events are few: counted and retried per workspace without the log.
        Index(
            "ix_event_quarantined",
            "workspace_id",
            sqlite_where=QUARANTINED_SQL,
            postgresql_where=QUARANTINED_SQL,
        ),
        Index("ix_event_person_timeline", "person_id", "timestamp"),
        # Derived events are a few percent of the log: counted without reading the rest.
        Index(
            "ix_event_derived",
            "workspace_id",
            sqlite_where=text(f"source = '{DERIVED_SOURCE}'"),
            postgresql_where=text(f"source = '{DERIVED_SOURCE}'"),
        ),
        Index("ix_event_workspace_name_timestamp", "workspace_id", "event", "timestamp"),
        # A late identify on a shared device finds the anonymous events it may now explain.
        Index(
            "ix_event_anonymous",
            "workspace_id",
            "anonymous_id",
            "timestamp",
            sqlite_where=text("user_id IS NULL"),
            postgresql_where=text("user_id IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("workspace.id"))
    message_id: Mapped[str] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(16))
    event: Mapped[str | None] = mapped_column(String(255))
    user_id: Mapped[str | None] = mapped_column(String(255))
    anonymous_id: Mapped[str | None] = mapped_column(String(255))
    group_id: Mapped[str | None] = mapped_column(String(255))
    timestamp: Mapped[datetime]
    received_at: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(32), default="api")
    payload: Mapped[dict[str, Any]] = mapped_column(JsonDoc)
    person_id: Mapped[int | None] = mapped_column(BigId)
    # The person the event first resolved to; merges move person_id, never this (for unmerge).
    origin_person_id: Mapped[int | None] = mapped_column(BigId, default=None)
    processed_at: Mapped[datetime | None] = mapped_column(default=None)
    failed_at: Mapped[datetime | None] = mapped_column(default=None)
    failed_stage: Mapped[str | None] = mapped_column(String(64), default=None)
    failed_error: Mapped[str | None] = mapped_column(Text, default=None)


class ImportUpload(Base):
    """An uploaded import file waiting for its job (large imports run in the background; the
    file is kept in the database so any worker, on any machine, can read it). The job deletes
    it when the import is done."""

    __tablename__ = "import_upload"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("workspace.id"))
    filename: Mapped[str] = mapped_column(String(255))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]


def json_member(session: Session, name: str) -> Any:
    """One top-level member of the event payload, decoded, on either database."""
    if is_postgres(session):
        return Event.payload[name]
    # SQLAlchemy's JSON index on SQLite quotes objects into strings; extract the JSON text.
    return type_coerce(func.json_extract(Event.payload, f"$.{name}"), JSON)
