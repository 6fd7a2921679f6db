"""The jobs API: follow, list, start, retry and cancel the workspace's background jobs."""

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Response

from leadpond.jobs import service
from leadpond.jobs.models import Job, JobState
from leadpond.jobs.registry import kind_of, startable_kinds
from leadpond.jobs.schemas import JobRead, JobStart
from leadpond.kit.errors import InvalidInput
from leadpond.kit.http import ReadSession, RowId, WriteSession
from leadpond.kit.pagination import Page, Paging
from leadpond.kit.schemas import ErrorBody
from leadpond.users.permissions import JobsRead, JobsWrite

router = APIRouter(prefix="/api/v1/jobs", tags=["jobs"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody, "description": "No such job in this workspace (job_not_found)"},
    409: {"model": ErrorBody, "description": "The job's state does not allow this"},
}
# Optional on every endpoint that queues a job: the same key answers the same job.
IdempotencyKey = Annotated[str | None, Header(max_length=200, alias="Idempotency-Key")]


def job_location(job_id: int) -> str:
    """Where a queued job reports its progress and result."""
    return f"/api/v1/jobs/{job_id}"


def locate(response: Response, job: Job) -> None:
    """Point the answer at the job (``Location``), for 202 answers that queued one."""
    response.headers["Location"] = job_location(job.id)


def accepted(response: Response, job: Job) -> JobRead:
    """A 202 answer for a job just queued: the job, and ``Location`` pointing at it."""
    locate(response, job)
    return JobRead.build(job)


@router.get("", response_model=Page[JobRead])
def list_jobs(
    actor: JobsRead,
    session: ReadSession,
    paging: Paging,
    state: JobState | None = None,
    kind: Annotated[str | None, Query(max_length=64)] = None,
) -> Page[JobRead]:
    """The workspace's jobs, newest first."""
    total, found = service.list_jobs(
        session, actor.workspace_id, state=state, kind=kind, page=paging
    )
    return Page[JobRead](total=total, items=[JobRead.build(j) for j in found])


@router.post(
    "",
    response_model=JobRead,
    status_code=202,
    responses={400: {"model": ErrorBody, "description": "Unknown kind"}},
)
def start_job(
    body: JobStart, actor: JobsWrite, session: WriteSession, response: Response
) -> JobRead:
    """Start a whole-workspace job by kind (``identity.rebuild``, ``rules.backfill``)."""
    found = kind_of(body.kind)
    if found is None or not found.startable:
        raise InvalidInput(f"kind must be one of {', '.join(startable_kinds())}", field="kind")
    key = body.key or f"{body.kind}:{actor.via}:{service.fresh_key()}"
    job = service.enqueue(session, body.kind, key, {}, workspace_id=actor.workspace_id)
    return accepted(response, job)


@router.get("/{job_id}", response_model=JobRead, responses=_ERRORS)
def read_job(job_id: RowId, actor: JobsRead, session: ReadSession) -> JobRead:
    """One job: state, attempts, progress, result or the last error."""
    return JobRead.build(service.get_job(session, actor.workspace_id, job_id))


@router.post("/{job_id}/retry", response_model=JobRead, responses=_ERRORS)
def retry_job(job_id: RowId, actor: JobsWrite, session: WriteSession) -> JobRead:
    """Queue a failed or cancelled job again, with fresh attempts."""
    return JobRead.build(service.retry(session, actor.workspace_id, job_id))


@router.post("/{job_id}/cancel", response_model=JobRead, responses=_ERRORS)
def cancel_job(job_id: RowId, actor: JobsWrite, session: WriteSession) -> JobRead:
    """Cancel a queued job; a running one stops at its next progress report."""
    return JobRead.build(service.cancel(session, actor.workspace_id, job_id))
