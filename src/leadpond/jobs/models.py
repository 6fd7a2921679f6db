"""The ``job`` table: one row per piece of background work, its lease, progress and outcome."""

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from leadpond.db.base import Base, BigId, JsonDoc
from leadpond.kit.clock import utcnow


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    # The dead letter: every attempt failed; ``last_error`` says why.
    FAILED = "failed"
    CANCELLED = "cancelled"


FINISHED = (JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED)


class Job(Base):
    """A queued, running or finished job of one workspace.

    ``(workspace_id, kind, key)`` is unique: enqueueing the same key again returns the first job.
    A running job holds a lease (``locked_until``); when it lapses (the worker died) the job is
    claimable again and its next attempt starts.
    """

    __tablename__ = "job"
    __table_args__ = (
        UniqueConstraint("workspace_id", "kind", "key"),
        Index("ix_job_state_run_at", "state", "run_at"),
        Index("ix_job_workspace_id_id", "workspace_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("workspace.id"))
    kind: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(255))
    payload: Mapped[dict[str, Any]] = mapped_column(JsonDoc)
    state: Mapped[str] = mapped_column(String(16), default=JobState.QUEUED.value)
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int] = mapped_column(default=5)
    run_at: Mapped[datetime] = mapped_column(default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(default=None)
    locked_by: Mapped[str | None] = mapped_column(String(64), default=None)
    progress_done: Mapped[int | None] = mapped_column(BigInteger, default=None)
    progress_total: Mapped[int | None] = mapped_column(BigInteger, default=None)
    progress_message: Mapped[str | None] = mapped_column(String(255), default=None)
    result: Mapped[dict[str, Any] | None] = mapped_column(JsonDoc, default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
