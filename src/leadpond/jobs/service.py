"""Enqueueing, reading, retrying and cancelling jobs; every function runs in the caller's
transaction and never commits."""

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from leadpond.db.engine import dialect_insert
from leadpond.db.wakeup import JOBS, ring_after_commit
from leadpond.jobs.models import FINISHED, Job, JobState
from leadpond.kit.clock import utcnow
from leadpond.kit.errors import Conflict, InvalidInput, NotFound
from leadpond.kit.pagination import PageQuery
from leadpond.kit.scope import in_workspace, owned

KEY_MAX_LENGTH = 255


class JobNotFound(NotFound):
    code = "job_not_found"


class JobStateConflict(Conflict):
    code = "job_state_conflict"


def enqueue(
    session: Session,
    kind: str,
    key: str,
    payload: dict[str, Any],
    *,
    workspace_id: uuid.UUID,
    max_attempts: int = 5,
) -> Job:
    """Queue a job in the caller's transaction; the same ``key`` again returns the first job.

    The row becomes visible to runners when the caller commits, so a job never runs ahead of
    the change that caused it (and is never run for a change that rolled back).
    """
    if not key or len(key) > KEY_MAX_LENGTH:
        raise InvalidInput(f"a job key is 1 to {KEY_MAX_LENGTH} characters", field="key")
    values = {
        "workspace_id": workspace_id,
        "kind": kind,
        "key": key,
        "payload": payload,
        "state": JobState.QUEUED.value,
        "attempts": 0,
        "max_attempts": max_attempts,
        "run_at": utcnow(),
        "created_at": utcnow(),
    }
    # ON CONFLICT DO NOTHING: two requests with one key race without an IntegrityError.
    insert = dialect_insert(session, Job)
    session.execute(
        insert.values(**values).on_conflict_do_nothing(
            index_elements=["workspace_id", "kind", "key"]
        )
    )
    found = session.scalars(
        in_workspace(Job, workspace_id).where(Job.kind == kind, Job.key == key)
    ).one()
    ring_after_commit(session, JOBS)  # a runner claims it once committed
    return found


def fresh_key() -> str:
    """A key no other request has: for callers that want a new job every time."""
    return uuid.uuid4().hex


def get_job(session: Session, workspace_id: uuid.UUID, job_id: int) -> Job:
    """The workspace's job, or 404 (another workspace's job is not found either)."""
    found = session.scalars(in_workspace(Job, workspace_id).where(Job.id == job_id)).first()
    if found is None:
        raise JobNotFound(f"job {job_id} not found")
    return found


def list_jobs(
    session: Session,
    workspace_id: uuid.UUID | None,
    *,
    state: JobState | None = None,
    kind: str | None = None,
    page: PageQuery = PageQuery(),
) -> tuple[int, Sequence[Job]]:
    """Jobs newest first, for one workspace (or all, for the operator's CLI), and their count."""
    where: list[Any] = []
    if workspace_id is not None:
        where.append(owned(Job, workspace_id))
    if state is not None:
        where.append(Job.state == state.value)
    if kind is not None:
        where.append(Job.kind == kind)
    total = session.scalar(select(func.count()).select_from(Job).where(*where)) or 0
    found = session.scalars(page.apply(select(Job).where(*where).order_by(Job.id.desc()))).all()
    return int(total), found


def _scoped(session: Session, workspace_id: uuid.UUID | None, job_id: int) -> Job:
    if workspace_id is not None:
        return get_job(session, workspace_id, job_id)
    found = session.get(Job, job_id)
    if found is None:
        raise JobNotFound(f"job {job_id} not found")
    return found


def retry(session: Session, workspace_id: uuid.UUID | None, job_id: int) -> Job:
    """Queue a failed (dead) or cancelled job again, with a fresh set of attempts."""
    job = _scoped(session, workspace_id, job_id)
    if job.state not in (JobState.FAILED, JobState.CANCELLED):
        raise JobStateConflict(f"job {job_id} is {job.state}; only failed or cancelled jobs retry")
    job.state = JobState.QUEUED.value
    job.attempts = 0
    job.run_at = utcnow()
    job.finished_at = None
    job.locked_by = job.locked_until = None
    session.flush()
    ring_after_commit(session, JOBS)
    return job


def cancel(session: Session, workspace_id: uuid.UUID | None, job_id: int) -> Job:
    """Cancel a queued job, or ask a running one to stop at its next progress report."""
    job = _scoped(session, workspace_id, job_id)
    if job.state in FINISHED:
        raise JobStateConflict(f"job {job_id} is already {job.state}")
    session.execute(
        update(Job)
        .where(Job.id == job.id)
        .values(state=JobState.CANCELLED.value, finished_at=utcnow())
    )
    session.refresh(job)
    return job
