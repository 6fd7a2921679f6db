"""The identity graph and its audit: identifiers, merges, separations, settings, suggestions."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from leadpond.db.base import Base, BigId, JsonDoc
from leadpond.kit.clock import utcnow


class Identifier(Base):
    """One identifier value and the live person holding it.

    ``origin_person_id`` is the person it was first attached to; merges never change it, so an
    unmerge knows which identifiers each side brought.
    """

    __tablename__ = "identifier"
    __table_args__ = (UniqueConstraint("workspace_id", "type", "value"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("workspace.id"))
    type: Mapped[str] = mapped_column(String(64))
    value: Mapped[str] = mapped_column(String(512))
    person_id: Mapped[int] = mapped_column(BigId, ForeignKey("person.id"), index=True)
    origin_person_id: Mapped[int | None] = mapped_column(BigId, default=None, index=True)
    first_seen_at: Mapped[datetime]
    source_event_id: Mapped[int | None] = mapped_column(BigId, default=None)


class DeviceSession(Base):
    """Someone identified on a weak identifier (a shared device, a kiosk's cookie) at a moment.

    Anonymous events on that identifier belong to whoever identified on it nearest in event time
    within the device window (see resolver), whatever order the events arrived in; every such
    moment is kept, so a late identify can take back the events it explains.
    """

    __tablename__ = "device_session"
    __table_args__ = (Index("ix_device_session_key_at", "workspace_id", "type", "value", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("workspace.id"))
    type: Mapped[str] = mapped_column(String(64))
    value: Mapped[str] = mapped_column(String(512))
    person_id: Mapped[int] = mapped_column(BigId, ForeignKey("person.id"))
    at: Mapped[datetime]
    # The identifying message: orders sessions at the same instant, whatever their arrival.
    message_id: Mapped[str] = mapped_column(String(255), default="")
    event_id: Mapped[int | None] = mapped_column(BigId, default=None)


class PersonMerge(Base):
    """A merge: who was folded into whom, through which identifier and event, by whom, when."""

    __tablename__ = "person_merge"
    __table_args__ = (Index("ix_person_merge_survivor", "workspace_id", "survivor_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("workspace.id"))
    survivor_id: Mapped[int] = mapped_column(BigId, ForeignKey("person.id"))
    merged_id: Mapped[int] = mapped_column(BigId, ForeignKey("person.id"), index=True)
    identifier_type: Mapped[str | None] = mapped_column(String(64))
    identifier_value: Mapped[str | None] = mapped_column(String(512))
    event_id: Mapped[int | None] = mapped_column(BigId)
    reason: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    undone_at: Mapped[datetime | None] = mapped_column(default=None)
    undone_by: Mapped[str | None] = mapped_column(String(128), default=None)


class PersonSeparation(Base):
    """Two people an operator said are different (an unmerge or a rejected suggestion)."""

    __tablename__ = "person_separation"
    __table_args__ = (UniqueConstraint("workspace_id", "person_a_id", "person_b_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("workspace.id"))
    person_a_id: Mapped[int] = mapped_column(BigId, ForeignKey("person.id"))
    person_b_id: Mapped[int] = mapped_column(BigId, ForeignKey("person.id"))
    reason: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class IdentitySettings(Base):
    """A workspace's overrides of the identity rules (see ``identity.config``)."""

    __tablename__ = "identity_settings"

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("workspace.id"), primary_key=True
    )
    settings: Mapped[dict[str, Any]] = mapped_column(JsonDoc)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class MergeSuggestion(Base):
    """Two people who look like one human but share no identifier: a human decides."""

    __tablename__ = "merge_suggestion"
    __table_args__ = (
        UniqueConstraint("workspace_id", "person_a_id", "person_b_id"),
        Index("ix_merge_suggestion_status", "workspace_id", "status"),
        # The review queue, best first, read page by page from a (score, id) position.
        Index("ix_merge_suggestion_queue", "workspace_id", "status", "score", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("workspace.id"))
    person_a_id: Mapped[int] = mapped_column(BigId, ForeignKey("person.id"))
    person_b_id: Mapped[int] = mapped_column(BigId, ForeignKey("person.id"))
    score: Mapped[float]
    reasons: Mapped[list[str]] = mapped_column(JsonDoc)
    # exact (same name and company) | model (the probabilistic linkage model)
    method: Mapped[str] = mapped_column(String(16), default="exact")
    # Why: each comparison's level and weight (log2 Bayes factor), strongest first.
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(JsonDoc, default=list)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(default=None)
    decided_by: Mapped[str | None] = mapped_column(String(128), default=None)


class DuplicateScan(Base):
    """Where a workspace's duplicate scans got to: people changed after ``scanned_through`` are
    the next incremental scan's; ``generation`` counts started scans (it keys the next job)."""

    __tablename__ = "duplicate_scan"

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("workspace.id"), primary_key=True
    )
    generation: Mapped[int] = mapped_column(default=0)
    scanned_through: Mapped[datetime | None] = mapped_column(default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
