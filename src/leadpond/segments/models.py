"""Segment definitions, who is in them since when, and every entry and exit with its reason."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from leadpond.db.base import Base, BigId, JsonDoc
from leadpond.kit.clock import utcnow


class Segment(Base):
    """A dynamic segment (``condition``) or a static list; of people or of accounts.

    An account segment holds the accounts whose people match ``condition`` by ``account_match``:
    ``any`` (someone matches), ``all`` (everyone linked matches, at least one person) or
    ``none`` (no one linked matches).
    """

    __tablename__ = "segment"
    __table_args__ = (UniqueConstraint("workspace_id", "key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("workspace.id"))
    key: Mapped[str] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(200), default=None)
    kind: Mapped[str] = mapped_column(String(16))  # dynamic | static
    level: Mapped[str] = mapped_column(String(16), default="person")  # person | account
    account_match: Mapped[str | None] = mapped_column(String(8), default=None)
    condition_source: Mapped[str | None] = mapped_column(Text, default=None)
    condition: Mapped[dict[str, Any] | None] = mapped_column(JsonDoc, default=None)
    origin: Mapped[str] = mapped_column(String(16), default="api")  # api | playbook
    member_count: Mapped[int] = mapped_column(Integer, default=0)
    last_built_at: Mapped[datetime | None] = mapped_column(default=None)
    last_build_seconds: Mapped[float | None] = mapped_column(Float, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SegmentMember(Base):
    """A person in a person-level segment, since when."""

    __tablename__ = "segment_member"
    __table_args__ = (Index("ix_segment_member_workspace_person", "workspace_id", "person_id"),)

    segment_id: Mapped[int] = mapped_column(BigId, ForeignKey("segment.id"), primary_key=True)
    person_id: Mapped[int] = mapped_column(BigId, ForeignKey("person.id"), primary_key=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("workspace.id"))
    since: Mapped[datetime]


class SegmentAccountMember(Base):
    """An account in an account-level segment, since when."""

    __tablename__ = "segment_account_member"
    __table_args__ = (Index("ix_segment_account_member_workspace", "workspace_id", "account_id"),)

    segment_id: Mapped[int] = mapped_column(BigId, ForeignKey("segment.id"), primary_key=True)
    # No foreign key: consolidating duplicate accounts deletes the absorbed one; the next
    # refresh of the segment records its exit.
    account_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("workspace.id"))
    since: Mapped[datetime]


class SegmentChange(Base):
    """One entry or exit (of a person or an account), when and why: append-only."""

    __tablename__ = "segment_change"
    __table_args__ = (
        Index("ix_segment_change_segment_at", "segment_id", "at"),
        Index("ix_segment_change_person", "person_id", "at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("workspace.id"))
    segment_id: Mapped[int] = mapped_column(BigId, ForeignKey("segment.id"))
    person_id: Mapped[int | None] = mapped_column(BigId, default=None)
    account_id: Mapped[int | None] = mapped_column(BigId, default=None)
    change: Mapped[str] = mapped_column(String(8))  # entered | exited
    reason: Mapped[str] = mapped_column(String(300))
    at: Mapped[datetime]


class PersonaMember(Base):
    """A live person who matches a persona (the playbook's named role card) now, since when.

    Kept by the live path with the segments (``segments.personas``), so the directory filters
    by persona with an index rather than evaluating the persona's criteria over every person.
    """

    __tablename__ = "persona_member"
    __table_args__ = (Index("ix_persona_member_person", "person_id"),)

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("workspace.id"), primary_key=True
    )
    persona: Mapped[str] = mapped_column(String(64), primary_key=True)
    person_id: Mapped[int] = mapped_column(BigId, ForeignKey("person.id"), primary_key=True)
    since: Mapped[datetime]


class PersonaBuild(Base):
    """Which playbook version a workspace's persona memberships were built for: the directory
    reads them only when that is the current version (else it evaluates the criteria)."""

    __tablename__ = "persona_build"

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("workspace.id"), primary_key=True
    )
    playbook_version_id: Mapped[int] = mapped_column(BigId)
    built_at: Mapped[datetime] = mapped_column(default=utcnow)
