"""Schedule triggers: a cron expression, in the journey's time zone, that enrolls a segment's
current members each time it fires ("every Monday at 09:00, the dormant segment").

The journey runner checks them before it runs due steps. A firing enrolls the segment in one
transaction (``INSERT … SELECT``) and commits; the runner then runs the new enrollments' first
steps in batches of their ids, a transaction each, as it runs any due step — so a firing over
a million people never holds one transaction of a million sends, and a kill between batches
leaves the rest due (the next run goes on with them). An occurrence fires once, whatever
the number of workers: a worker fires it only by moving the journey version's row in
``journey_schedule`` forward to it (an UPDATE that holds only while the stored occurrence is
older), so a second worker's UPDATE finds it done and changes nothing. Only the latest
occurrence fires: a worker that was down over several fires once on catching up (and not at
all once it is older than the journey's ``max_age``). Occurrences before the playbook version
was applied never fire.
"""

import uuid
from datetime import datetime, timedelta
from typing import cast
from zoneinfo import ZoneInfo

from croniter import croniter
from sqlalchemy import Table, and_, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from leadpond.db.engine import is_postgres
from leadpond.journeys.definitions import Journey
from leadpond.journeys.models import JourneySchedule
from leadpond.journeys.service import enroll_set, journeys_of
from leadpond.kit.scope import owned
from leadpond.rules.models import PlaybookVersion
from leadpond.segments.models import Segment, SegmentMember

_schedules = cast(Table, JourneySchedule.__table__)
UTC = ZoneInfo("UTC")


def latest_occurrence(journey: Journey, now: datetime) -> datetime:
    """The schedule's latest occurrence at or before ``now`` (naive UTC in and out)."""
    assert journey.cron is not None
    local = (now + timedelta(seconds=1)).replace(tzinfo=UTC).astimezone(journey.zone)
    previous = croniter(journey.cron, local).get_prev(datetime)
    return previous.astimezone(UTC).replace(tzinfo=None)


def occurrences(journey: Journey, since: datetime, until: datetime) -> list[datetime]:
    """The schedule's occurrences in ``since``..``until`` (naive UTC), for the dry-run."""
    assert journey.cron is not None
    found: list[datetime] = []
    it = croniter(
        journey.cron, since.replace(tzinfo=UTC).astimezone(journey.zone) - timedelta(seconds=1)
    )
    while True:
        at = it.get_next(datetime).astimezone(UTC).replace(tzinfo=None)
        if at >= until:
            return found
        found.append(at)


def segment_members(session: Session, workspace_id: uuid.UUID, key: str | None) -> list[int]:
    """The person-level segment's members now (none when it does not exist)."""
    return list(
        session.scalars(
            select(SegmentMember.person_id)
            .join(Segment, Segment.id == SegmentMember.segment_id)
            .where(owned(Segment, workspace_id), Segment.key == key)
            .order_by(SegmentMember.person_id)
        )
    )


def fire_schedules(session: Session, workspace_id: uuid.UUID | None, now: datetime) -> list[int]:
    """Fire every schedule trigger due at ``now`` (of one workspace, or of all): enroll their
    segments, in the caller's transaction. Returns the new enrollments' ids, in order; their
    first steps are due at ``now`` (``runner.run_due`` runs them next, in batches)."""
    if workspace_id is not None:
        workspaces = [workspace_id]
    else:
        workspaces = list(session.scalars(select(PlaybookVersion.workspace_id).distinct()))
    enrolled: list[int] = []
    for ws in workspaces:
        found = journeys_of(session, ws)
        if found is None:
            continue
        version, journeys = found
        scheduled = [j for j in journeys.values() if j.trigger == "schedule"]
        if not scheduled:
            continue
        applied = session.scalar(
            select(PlaybookVersion.applied_at).where(
                owned(PlaybookVersion, ws), PlaybookVersion.version == version
            )
        )
        for journey in scheduled:
            occurrence = latest_occurrence(journey, now)
            if applied is not None and occurrence < applied:
                continue
            if _claim(session, ws, journey.key, version, occurrence, now):
                enrolled += _enroll_segment(session, ws, version, journey, occurrence, now)
    return sorted(enrolled)


def _claim(
    session: Session,
    workspace_id: uuid.UUID,
    key: str,
    version: int,
    occurrence: datetime,
    now: datetime,
) -> bool:
    """Move the journey version's last fired occurrence forward to ``occurrence``; True when
    this transaction did (so it, and only it, fires the occurrence)."""
    upsert = pg_insert if is_postgres(session) else sqlite_insert
    session.execute(
        upsert(_schedules)
        .values(workspace_id=workspace_id, journey_key=key, version=version)
        .on_conflict_do_nothing(index_elements=["workspace_id", "journey_key", "version"])
    )
    moved = session.execute(
        update(_schedules)
        .where(
            and_(
                _schedules.c.workspace_id == workspace_id,
                _schedules.c.journey_key == key,
                _schedules.c.version == version,
                or_(_schedules.c.last_fired.is_(None), _schedules.c.last_fired < occurrence),
            )
        )
        .values(last_fired=occurrence, fired_at=now)
    )
    return bool(moved.rowcount)  # type: ignore[attr-defined]


def _enroll_segment(
    session: Session,
    workspace_id: uuid.UUID,
    version: int,
    journey: Journey,
    occurrence: datetime,
    now: datetime,
) -> list[int]:
    """Enroll the segment's members as of now (the entry rules apply as for any trigger); their
    first steps are due at once."""
    reason = (
        f"schedule {journey.cron} ({occurrence:%Y-%m-%d %H:%M} UTC) for {journey.trigger_value}"
    )
    members = (
        select(SegmentMember.person_id)
        .join(Segment, Segment.id == SegmentMember.segment_id)
        .where(owned(Segment, workspace_id), Segment.key == journey.trigger_value)
    )
    return enroll_set(
        session, workspace_id, version, journey, members, reason, occurrence, now
    ).enrolled
