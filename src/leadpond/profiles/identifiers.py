"""A person's identifiers as the person's page shows them: each with the channel that brought it."""

import uuid

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from leadpond.identity.models import Identifier
from leadpond.ingest.models import Event
from leadpond.kit.schemas import UtcDatetime
from leadpond.kit.scope import owned


class IdentifierSource(BaseModel):
    """One identifier of the person and the event (and its source) that first brought it."""

    type: str
    value: str
    first_seen_at: UtcDatetime
    source: str | None
    source_event_id: int | None


def identifier_sources(
    session: Session, workspace_id: uuid.UUID, person_id: int
) -> list[IdentifierSource]:
    """The person's identifiers with the channel (event source) that first brought each."""
    rows = session.execute(
        select(
            Identifier.type,
            Identifier.value,
            Identifier.first_seen_at,
            Event.source,
            Identifier.source_event_id,
        )
        .outerjoin(Event, Event.id == Identifier.source_event_id)
        .where(owned(Identifier, workspace_id), Identifier.person_id == person_id)
        .order_by(Identifier.first_seen_at, Identifier.id)
    )
    return [
        IdentifierSource(
            type=id_type, value=value, first_seen_at=seen, source=source, source_event_id=event_id
        )
        for id_type, value, seen, source, event_id in rows
    ]
