"""What the jobs API answers: a job with its state, attempts, progress, result and error."""

from typing import Any

from pydantic import BaseModel, Field

from leadpond.jobs.models import Job
from leadpond.kit.schemas import UtcDatetime


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
    run_at: UtcDatetime = Field(description="when the next attempt may start")
    progress: JobProgress
    result: dict[str, Any] | None
    last_error: str | None
    created_at: UtcDatetime
    started_at: UtcDatetime | None
    finished_at: UtcDatetime | None

    @classmethod
    def build(cls, job: Job) -> "JobRead":
        return cls(
            id=job.id,
            kind=job.kind,
            key=job.key,
            state=job.state,
            attempts=job.attempts,
            max_attempts=job.max_attempts,
            run_at=job.run_at,
            progress=JobProgress(
                done=job.progress_done, total=job.progress_total, message=job.progress_message
            ),
            result=job.result,
            last_error=job.last_error,
            created_at=job.created_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
        )


class JobStart(BaseModel):
    kind: str = Field(max_length=64, description="a startable kind, e.g. identity.rebuild")
    key: str | None = Field(
        default=None, min_length=1, max_length=255, description="idempotency key"
    )
