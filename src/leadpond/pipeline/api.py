"""Pipeline health for the caller's workspace, and its quarantined events."""

from fastapi import APIRouter
from pydantic import BaseModel, Field

from leadpond.kit.http import ReadSession, WriteSession
from leadpond.kit.pagination import Page, Paging
from leadpond.kit.schemas import UtcDatetime
from leadpond.pipeline import quarantine, worker
from leadpond.users.permissions import PipelineRead, PipelineWrite

router = APIRouter(prefix="/api/v1", tags=["pipeline"])


class PipelineStatusRead(BaseModel):
    pending_events: int
    processed_events: int = Field(description="received events (API, imports) processed")
    oldest_pending_age_s: float
    derived_events: int = Field(
        description="events leadpond derived (key events, segment entries and exits)"
    )
    quarantined_events: int = Field(
        description="events set aside because processing them failed (see /pipeline/quarantine)"
    )


class QuarantinedRead(BaseModel):
    id: int
    type: str
    event: str | None
    timestamp: UtcDatetime
    received_at: UtcDatetime
    failed_at: UtcDatetime | None
    failed_stage: str | None = Field(description="the pipeline stage that raised")
    failed_error: str | None


class RetriedRead(BaseModel):
    queued_again: int


@router.get("/pipeline", response_model=PipelineStatusRead)
def pipeline_status(actor: PipelineRead) -> PipelineStatusRead:
    """How many of the workspace's events wait, how many are done, and the oldest wait."""
    s = worker.status(actor.workspace_id)
    return PipelineStatusRead(
        pending_events=s.pending_events,
        processed_events=s.processed_events,
        oldest_pending_age_s=s.oldest_pending_age_s,
        derived_events=s.derived_events,
        quarantined_events=s.quarantined_events,
    )


@router.get("/pipeline/quarantine", response_model=Page[QuarantinedRead])
def list_quarantined(
    actor: PipelineRead,
    session: ReadSession,
    paging: Paging,
) -> Page[QuarantinedRead]:
    """The workspace's quarantined events with the stage that failed and its error."""
    total = quarantine.counts(session, actor.workspace_id).get(actor.workspace_id, 0)
    found = quarantine.listed(session, actor.workspace_id, paging.limit, paging.offset)
    return Page[QuarantinedRead](
        total=total,
        items=[
            QuarantinedRead(
                id=q.id,
                type=q.type,
                event=q.event,
                timestamp=q.timestamp,
                received_at=q.received_at,
                failed_at=q.failed_at,
                failed_stage=q.failed_stage,
                failed_error=q.failed_error,
            )
            for q in found
        ],
    )


@router.post("/pipeline/quarantine/retry", response_model=RetriedRead)
def retry_quarantined(actor: PipelineWrite, session: WriteSession) -> RetriedRead:
    """Put the workspace's quarantined events back in the queue."""
    return RetriedRead(queued_again=quarantine.retry_failed(session, actor.workspace_id))
