"""What the person 360 page reads beyond the profile API: identifier sources and accounts."""

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadpond.accounts.models import Account, PersonAccount
from leadpond.identity.models import Identifier
from leadpond.ingest.models import Event
from leadpond.segments.models import Segment, SegmentMember


@dataclass
class IdentifierSource:
    type: str
    value: str
    first_seen_at: datetime
    source: str | None
    source_event_id: int | None


@dataclass
class PersonAccountLink:
    account_id: int
    name: str
    role: str | None
    title: str | None
    is_primary: bool
    source: str


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
        .where(Identifier.workspace_id == workspace_id, Identifier.person_id == person_id)
        .order_by(Identifier.first_seen_at, Identifier.id)
    )
    return [IdentifierSource(*row) for row in rows]


def accounts_of(
    session: Session, workspace_id: uuid.UUID, person_id: int
) -> list[PersonAccountLink]:
    """The accounts the person works at, primary first, with role and title."""
    rows = session.execute(
        select(
            PersonAccount.account_id,
            Account.name,
            PersonAccount.role,
            PersonAccount.title,
            PersonAccount.is_primary,
            PersonAccount.source,
        )
        .join(Account, Account.id == PersonAccount.account_id)
        .where(PersonAccount.workspace_id == workspace_id, PersonAccount.person_id == person_id)
        .order_by(PersonAccount.is_primary.desc(), PersonAccount.id)
    )
    return [PersonAccountLink(*row) for row in rows]


def segments_of(
    session: Session, workspace_id: uuid.UUID, person_id: int
) -> list[tuple[str, str, datetime]]:
    """(key, name, since) of every person-level segment the person is in now."""
    rows = session.execute(
        select(Segment.key, Segment.name, SegmentMember.since)
        .join(Segment, Segment.id == SegmentMember.segment_id)
        .where(SegmentMember.workspace_id == workspace_id, SegmentMember.person_id == person_id)
        .order_by(SegmentMember.since)
    )
    return [(key, name or key, since) for key, name, since in rows]
