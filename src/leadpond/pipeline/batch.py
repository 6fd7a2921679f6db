"""What every pipeline stage sees: one claimed batch of events inside one transaction."""

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from leadpond.ingest.models import Event


@dataclass(slots=True)
class PipelineEvent:
    id: int
    workspace_id: uuid.UUID
    type: str
    event: str | None
    user_id: str | None
    anonymous_id: str | None
    group_id: str | None
    timestamp: datetime
    payload: dict[str, Any]
    source: str = "api"
    person_id: int | None = None
    origin_person_id: int | None = None


@dataclass
class Batch:
    """Events in arrival order; stages fill ``person_id`` and record whom they touched."""

    session: Session
    events: list[PipelineEvent]
    now: datetime
    touched_people: set[int] = field(default_factory=set)
    # People whose traits changed in this batch (stages that derive from traits look here).
    traits_changed: set[int] = field(default_factory=set)
    # Each touched person's latest event before this batch (None: the batch is their first).
    last_seen_before: dict[int, datetime | None] = field(default_factory=dict)

    def by_workspace(self) -> dict[uuid.UUID, list[PipelineEvent]]:
        grouped: dict[uuid.UUID, list[PipelineEvent]] = {}
        for event in self.events:
            grouped.setdefault(event.workspace_id, []).append(event)
        return grouped


# The event-log columns a PipelineEvent is built from, in its field order.
EVENT_COLUMNS = (
    Event.id,
    Event.workspace_id,
    Event.type,
    Event.event,
    Event.user_id,
    Event.anonymous_id,
    Event.group_id,
    Event.timestamp,
    Event.payload,
    Event.source,
)
