"""What the rules keep per person, each row explaining itself (rule, event, actor, time)."""

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from leadpond.db.base import Base, BigId, JsonDoc
from leadpond.kit.clock import utcnow


class PlaybookVersion(Base):
    """One applied playbook; the newest version of a workspace holds its rules."""

    __tablename__ = "playbook_version"
    __table_args__ = (UniqueConstraint("workspace_id", "version"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("workspace.id"))
    version: Mapped[int] = mapped_column(Integer)
    document: Mapped[dict[str, Any]] = mapped_column(JsonDoc)
    source: Mapped[str] = mapped_column(Text)
    checksum: Mapped[str] = mapped_column(String(64))
    applied_by: Mapped[str] = mapped_column(String(100))
    applied_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The idle sweep has moved everyone whose quiet period ended before this (None: never ran
    # with this version, so its first sweep looks at everyone).
    idle_swept_until: Mapped[datetime | None] = mapped_column(default=None)


class PersonTag(Base):
    """A tag on a person: manual (``actor``) or computed (``rule_id`` + ``event_id``)."""

    __tablename__ = "person_tag"
    __table_args__ = (
        UniqueConstraint("person_id", "tag"),
        Index("ix_person_tag_workspace_tag", "workspace_id", "tag"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("workspace.id"))
    person_id: Mapped[int] = mapped_column(BigId, ForeignKey("person.id"))
    tag: Mapped[str] = mapped_column(String(200))
    category: Mapped[str | None] = mapped_column(String(64), default=None)
    source: Mapped[str] = mapped_column(String(16))
    rule_id: Mapped[str | None] = mapped_column(String(100), default=None)
    event_id: Mapped[int | None] = mapped_column(BigId, default=None)
    actor: Mapped[str] = mapped_column(String(100))
    added_at: Mapped[datetime]


class ScoreLedger(Base):
    """Append-only: every point a person was given, by which rule, for which event, and why."""

    __tablename__ = "score_ledger"
    __table_args__ = (Index("ix_score_ledger_person", "person_id", "model", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("workspace.id"))
    person_id: Mapped[int] = mapped_column(BigId, ForeignKey("person.id"))
    model: Mapped[str] = mapped_column(String(64))
    rule_id: Mapped[str] = mapped_column(String(100))
    event_id: Mapped[int | None] = mapped_column(BigId, default=None)
    points: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(String(300))
    at: Mapped[datetime]


class PersonScore(Base):
    """A person's value in one model as of ``as_of`` (decay applies from there when read)."""

    __tablename__ = "person_score"
    __table_args__ = (Index("ix_person_score_workspace_model", "workspace_id", "model"),)

    person_id: Mapped[int] = mapped_column(BigId, ForeignKey("person.id"), primary_key=True)
    model: Mapped[str] = mapped_column(String(64), primary_key=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("workspace.id"))
    points: Mapped[float] = mapped_column(Float)
    as_of: Mapped[datetime]


class PersonStage(Base):
    """A person's current lifecycle stage and since when."""

    __tablename__ = "person_stage"
    __table_args__ = (Index("ix_person_stage_workspace_stage", "workspace_id", "stage"),)

    person_id: Mapped[int] = mapped_column(BigId, ForeignKey("person.id"), primary_key=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("workspace.id"))
    stage: Mapped[str] = mapped_column(String(64))
    entered_at: Mapped[datetime]


class StageChange(Base):
    """One lifecycle move, with the rule and event behind it (for velocity reports)."""

    __tablename__ = "stage_change"
    __table_args__ = (
        Index("ix_stage_change_person", "person_id", "at"),
        # The dashboard's funnel reads the moves of a date range.
        Index("ix_stage_change_workspace_at", "workspace_id", "at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("workspace.id"))
    person_id: Mapped[int] = mapped_column(BigId, ForeignKey("person.id"))
    from_stage: Mapped[str | None] = mapped_column(String(64), default=None)
    to_stage: Mapped[str] = mapped_column(String(64))
    rule_id: Mapped[str | None] = mapped_column(String(100), default=None)
    event_id: Mapped[int | None] = mapped_column(BigId, default=None)
    reason: Mapped[str] = mapped_column(String(300))
    at: Mapped[datetime]


class StageFunnel(Base):
    """The funnel line (stage keys in playbook order, detours left out) that the workspace's
    ``StageReachDay`` rows count for: the rules read it with the rows they change, a playbook
    that changes the line recounts them (``rules.stage_days``)."""

    __tablename__ = "stage_funnel"

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("workspace.id"), primary_key=True
    )
    line: Mapped[list[str]] = mapped_column(JsonDoc)
    counted_at: Mapped[datetime] = mapped_column(default=utcnow)


class StageReachDay(Base):
    """People who reached ``stage`` on ``day`` (UTC): on the line, a move to it or a later line
    stage; off it, a move to exactly it. ``previous_day`` is the person's day before ``day`` of
    the same kind (``FIRST_DAY`` when none): the people who reached the stage in [a, b] are
    the sum over ``day`` in [a, b] with ``previous_day`` < a (``rules.stage_days``)."""

    __tablename__ = "stage_reach_day"

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("workspace.id"), primary_key=True
    )
    stage: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    previous_day: Mapped[date] = mapped_column(primary_key=True)
    people: Mapped[int] = mapped_column(BigInteger)


class StageEntryDay(Base):
    """People at ``stage`` now who entered it on ``day`` (UTC): the funnel's "here now"."""

    __tablename__ = "stage_entry_day"

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("workspace.id"), primary_key=True
    )
    stage: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    people: Mapped[int] = mapped_column(BigInteger)
