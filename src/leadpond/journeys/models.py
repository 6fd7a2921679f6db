"""Journeys' tables: who is where in which journey (enrollments) and every step they took
(the step log ``explain`` reads)."""

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from leadpond.db.base import Base, BigId, JsonDoc
from leadpond.kit.clock import utcnow


class EnrollmentState(StrEnum):
    ACTIVE = "active"  # at ``step``, due at ``due_at``
    COMPLETED = "completed"  # ran past the last step
    EXITED = "exited"  # an exit step
    GOAL = "goal"  # the goal held: left early


ACTIVE_ONLY = "state = 'active'"


class Enrollment(Base):
    """One person's way through one journey, on the playbook version they entered with.

    At most one active enrollment per (journey, person): the partial unique index is what makes
    "never in two places of one journey" hold under concurrent triggers and replays.
    """

    __tablename__ = "journey_enrollment"
    __table_args__ = (
        Index(
            "ux_journey_enrollment_active",
            "workspace_id",
            "journey_key",
            "person_id",
            unique=True,
            sqlite_where=text(ACTIVE_ONLY),
            postgresql_where=text(ACTIVE_ONLY),
        ),
        # run-due's claim: active enrollments whose step is due, oldest first.
        Index(
            "ix_journey_enrollment_due",
            "due_at",
            sqlite_where=text(ACTIVE_ONLY),
            postgresql_where=text(ACTIVE_ONLY),
        ),
        Index("ix_journey_enrollment_person", "workspace_id", "person_id", "journey_key"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("workspace.id"))
    journey_key: Mapped[str] = mapped_column(String(64))
    # The playbook version whose definition this enrollment follows to its end.
    version: Mapped[int] = mapped_column(Integer)
    person_id: Mapped[int] = mapped_column(BigId, ForeignKey("person.id"))
    # The step to run when due (None once the enrollment ended).
    step: Mapped[str | None] = mapped_column(String(64), default=None)
    due_at: Mapped[datetime] = mapped_column(default=utcnow)
    state: Mapped[str] = mapped_column(String(16), default=EnrollmentState.ACTIVE.value)
    # The A/B variant (random split arm) the person was given, if the journey has a split.
    variant: Mapped[str | None] = mapped_column(String(64), default=None)
    # Why they entered: the trigger ("event Trial Requested (event 42)", "api by …").
    reason: Mapped[str] = mapped_column(String(300))
    trigger_event_id: Mapped[int | None] = mapped_column(BigId, default=None)
    entered_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(default=None)
    # At a wait_for step: when the wait began (the event must come after it); None elsewhere.
    waiting_since: Mapped[datetime | None] = mapped_column(default=None)
    # The awaited event that ended the wait, set by the pipeline that saw it (its person is
    # written to the event log only when that batch commits, so the step cannot look it up).
    awaited_event_id: Mapped[int | None] = mapped_column(BigId, default=None)


class StepLog(Base):
    """One thing that happened to an enrollment: entered, a step run (with its arm or variant
    and the message it queued), the goal met, the end."""

    __tablename__ = "journey_step_log"
    __table_args__ = (Index("ix_journey_step_log_enrollment", "enrollment_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("workspace.id"))
    enrollment_id: Mapped[int] = mapped_column(BigId, ForeignKey("journey_enrollment.id"))
    # "entered", a step id, "goal", "completed", "exited".
    step: Mapped[str] = mapped_column(String(64))
    # entered | send | wait | branch | split | tags | points | stage | trait | goal | end
    kind: Mapped[str] = mapped_column(String(16))
    # What it did: {"arm": …, "variant": …, "due_at": …, "template": …, "error": …}
    detail: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    message_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("message.id"), default=None)
    at: Mapped[datetime]


class JourneyWinner(Base):
    """The variant an A/B test of a journey version chose, and how: by the rates ``by`` after
    the test's time (``decided_by`` "auto"), or by a user. Once chosen it stays: the rest of the
    test's people all get the same message."""

    __tablename__ = "journey_winner"
    __table_args__ = (UniqueConstraint("workspace_id", "journey_key", "version", "split_step"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("workspace.id"))
    journey_key: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    split_step: Mapped[str] = mapped_column(String(64))
    variant: Mapped[str] = mapped_column(String(64))
    by: Mapped[str] = mapped_column(String(16))
    decided_by: Mapped[str] = mapped_column(String(128))
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The variants' figures when it was decided (the report's rows).
    figures: Mapped[list[dict[str, Any]]] = mapped_column(JsonDoc, default=list)


class JourneySchedule(Base):
    """The last occurrence of a journey version's cron schedule that enrolled its segment: a
    worker fires an occurrence only by moving this row forward (a conditional UPDATE), so two
    workers fire each occurrence once."""

    __tablename__ = "journey_schedule"
    __table_args__ = (UniqueConstraint("workspace_id", "journey_key", "version"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("workspace.id"))
    journey_key: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    # None: the row exists but no occurrence has fired yet.
    last_fired: Mapped[datetime | None] = mapped_column(default=None)
    fired_at: Mapped[datetime | None] = mapped_column(default=None)
