"""What the jobs API answers: a job with its state, attempts, progress, result and error."""

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field

from leadpond.jobs.models import Job


def _aware(value: datetime | None) -> datetime | None:
    # Stored as naive UTC; answered with an explicit offset.
    return None if value is None else value.replace(tzinfo=UTC)


class JobProgress(BaseModel):
    done: int | None = Field(description="units done (e.g. people replayed)")
    total: int | None = Field(description="units in all, when known")
    message: str | None


class JobRead(BaseModel):
    id: int
    kind: str
    key: str
    state: str = Field(description="queued, running, succeeded, failed (dead letter), cancelled")
    attempts: int
    max_attempts: int
    run_at: datetime = Field(description="when the next attempt may start")
    progress: JobProgress
    result: dict[str, Any] | None
    last_error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def build(cls, job: Job) -> "JobRead":
        return cls(
            id=job.id,
            kind=job.kind,
            key=job.key,
            state=job.state,
            attempts=job.attempts,
            max_attempts=job.max_attempts,
            run_at=_aware(job.run_at) or job.run_at,
            progress=JobProgress(
                done=job.progress_done, total=job.progress_total, message=job.progress_message
            ),
            result=job.result,
            last_error=job.last_error,
            created_at=_aware(job.created_at) or job.created_at,
            started_at=_aware(job.started_at),
            finished_at=_aware(job.finished_at),
        )


class JobPage(BaseModel):
    total: int
    items: list[JobRead]


class JobStart(BaseModel):
    kind: str = Field(max_length=64, description="a startable kind, e.g. identity.rebuild")
    key: str | None = Field(
        default=None, min_length=1, max_length=255, description="idempotency key"
    )
