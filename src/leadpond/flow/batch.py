"""What every pipeline stage sees: one claimed batch of events inside one transaction."""

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import case
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
    # The tie-break between events at the same instant (arrival order is not one).
    message_id: str = ""
    person_id: int | None = None
    origin_person_id: int | None = None


# At the same instant, who someone is comes before what they did (an SDK's identify and the
# page view it sends with it), then the message id: never arrival order (event ids).
IDENTITY_CALLS = ("identify", "alias", "group")


def time_order(event: PipelineEvent) -> tuple[datetime, bool, str]:
    """The order every stage applies events in, the same whatever order they arrived in."""
    return event.timestamp, event.type not in IDENTITY_CALLS, event.message_id


def time_order_sql() -> tuple[Any, ...]:
    """``time_order`` as ORDER BY terms on the event log."""
    return (
        Event.timestamp,
        case((Event.type.in_(IDENTITY_CALLS), 0), else_=1),
        Event.message_id,
    )


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
    # Tags the rules took off people in this batch (tag → the removing event's time): a
    # removal leaves no row behind, so journeys' tag_removed trigger reads it here.
    tags_removed: dict[int, dict[str, datetime]] = field(default_factory=dict)

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
    Event.message_id,
)
