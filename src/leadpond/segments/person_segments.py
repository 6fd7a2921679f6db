"""The segments a person is in now, for the person's page."""

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadpond.kit.scope import owned
from leadpond.segments.models import Segment, SegmentMember


def segments_of(
    session: Session, workspace_id: uuid.UUID, person_id: int
) -> list[tuple[str, str, datetime]]:
    """(key, name, since) of every person-level segment the person is in now."""
    rows = session.execute(
        select(Segment.key, Segment.name, SegmentMember.since)
        .join(Segment, Segment.id == SegmentMember.segment_id)
        .where(owned(SegmentMember, workspace_id), SegmentMember.person_id == person_id)
        .order_by(SegmentMember.since)
    )
    return [(key, name or key, since) for key, name, since in rows]
