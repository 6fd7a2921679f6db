"""Pipeline health for the caller's workspace."""

from fastapi import APIRouter
from pydantic import BaseModel, Field

from leadpond.pipeline import worker
from leadpond.workspaces.auth import ReadActor

router = APIRouter(prefix="/api/v1", tags=["pipeline"])


class PipelineStatusRead(BaseModel):
    pending_events: int
    processed_events: int = Field(description="received events (API, imports) processed")
    oldest_pending_age_s: float
    derived_events: int = Field(
        description="events leadpond derived (key events, segment entries and exits)"
    )


@router.get("/pipeline", response_model=PipelineStatusRead)
def pipeline_status(actor: ReadActor) -> PipelineStatusRead:
    """How many of the workspace's events wait, how many are done, and the oldest wait."""
    s = worker.status(actor.workspace_id)
    return PipelineStatusRead(
        pending_events=s.pending_events,
        processed_events=s.processed_events,
        oldest_pending_age_s=s.oldest_pending_age_s,
        derived_events=s.derived_events,
    )
