"""The quarantine: events the pipeline could not process, set aside so that the rest goes on.

An event lands here when processing it alone failed (see ``worker``: a failing batch is bisected
down to the events that fail by themselves). It keeps ``processed_at`` NULL, so no profile,
backfill or rebuild reads it, and ``failed_at``, the stage and the error say what happened.
``retry_failed`` lets them through again (after a fix, or to see whether it was transient).
"""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, func, select, update
from sqlalchemy.orm import Session

from leadpond.db.wakeup import EVENTS, ring_after_commit
from leadpond.ingest.models import QUARANTINED_SQL, Event
from leadpond.kit.clock import utcnow
from leadpond.kit.scope import owned

ERROR_MAX_LENGTH = 2000
STAGE_MAX_LENGTH = 64
_event_table = cast(Table, Event.__table__)
# Written out so that both databases use the partial index ix_event_quarantined.
QUARANTINED = QUARANTINED_SQL


@dataclass(frozen=True)
class QuarantinedEvent:
    id: int
    workspace_id: uuid.UUID
    type: str
    event: str | None
    timestamp: datetime
    received_at: datetime
    failed_at: datetime | None
    failed_stage: str | None
    failed_error: str | None


def set_aside(session: Session, event_id: int, stage: str, error: str) -> bool:
    """Quarantine one pending event; False when it was processed meanwhile (nothing to do)."""
    updated = session.execute(
        update(_event_table)
        .where(_event_table.c.id == event_id, _event_table.c.processed_at.is_(None))
        .values(
            failed_at=utcnow(),
            failed_stage=stage[:STAGE_MAX_LENGTH],
            failed_error=error[-ERROR_MAX_LENGTH:],
        )
    ).rowcount  # type: ignore[attr-defined]
    return bool(updated)


def counts(session: Session, workspace_id: uuid.UUID | None = None) -> dict[uuid.UUID, int]:
    """Quarantined events per workspace (only workspaces that have some)."""
    scope: list[Any] = [QUARANTINED]
    if workspace_id is not None:
        scope.append(owned(Event, workspace_id))
    rows = session.execute(
        select(Event.workspace_id, func.count()).where(*scope).group_by(Event.workspace_id)
    )
    return {ws: int(n) for ws, n in rows}


def listed(
    session: Session, workspace_id: uuid.UUID, limit: int = 50, offset: int = 0
) -> list[QuarantinedEvent]:
    """The workspace's quarantined events, most recently set aside first."""
    rows = session.execute(
        select(
            Event.id,
            Event.workspace_id,
            Event.type,
            Event.event,
            Event.timestamp,
            Event.received_at,
            Event.failed_at,
            Event.failed_stage,
            Event.failed_error,
        )
        .where(QUARANTINED, owned(Event, workspace_id))
        .order_by(Event.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return [QuarantinedEvent(*row) for row in rows]


def retry_failed(session: Session, workspace_id: uuid.UUID | None = None) -> int:
    """Put quarantined events (of one workspace, or all) back in the pipeline's queue."""
    scope: list[Any] = [QUARANTINED]
    if workspace_id is not None:
        scope.append(owned(Event, workspace_id))
    queued = int(
        session.execute(
            update(Event)
            .where(*scope)
            .values(failed_at=None, failed_stage=None, failed_error=None)
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
    )
    if queued:
        ring_after_commit(session, EVENTS)
    return queued
