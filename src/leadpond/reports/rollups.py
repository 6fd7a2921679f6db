"""Keeping and reading the rollups (see ``reports.models``)."""

import uuid
from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Table, delete, func, insert, select
from sqlalchemy.orm import Session

from leadpond.db.engine import as_date, dialect_insert, sql_day
from leadpond.ingest.models import DERIVED_SOURCE, Event
from leadpond.kit.scope import owned
from leadpond.reports import tallies
from leadpond.reports.models import EventDay
from leadpond.rules import stage_days

_table = cast(Table, EventDay.__table__)


def count_processed(session: Session, events: Iterable[tuple[uuid.UUID, datetime]]) -> None:
    """Add processed received events, given as (workspace, timestamp), to their days.

    Rows are upserted in (workspace, day) order: concurrent PostgreSQL workers lock the same
    day rows in the same order, so they queue for each other and never deadlock.
    """
    days: Counter[tuple[uuid.UUID, date]] = Counter(
        (workspace_id, at.date()) for workspace_id, at in events
    )
    if not days:
        return
    insert: Any = dialect_insert(session, _table)
    upsert = insert.on_conflict_do_update(
        index_elements=[_table.c.workspace_id, _table.c.day],
        set_={"events": _table.c.events + insert.excluded.events},
    )
    session.execute(
        upsert,
        [
            {"workspace_id": workspace_id, "day": day, "events": count}
            for (workspace_id, day), count in sorted(days.items())
        ],
    )


def processed_events(
    session: Session,
    workspace_id: uuid.UUID | None = None,
    start: date | None = None,
    end: date | None = None,
) -> int:
    """Received events processed, of one workspace (or all), on days in [start, end]."""
    query = select(func.coalesce(func.sum(EventDay.events), 0))
    if workspace_id is not None:
        query = query.where(owned(EventDay, workspace_id))
    if start is not None:
        query = query.where(EventDay.day >= start)
    if end is not None:
        query = query.where(EventDay.day <= end)
    return int(session.scalar(query) or 0)


def rebuild(session: Session, workspace_id: uuid.UUID) -> None:
    """Recount the workspace's rollups from the rows they summarise (after a bulk load or copy):
    the events per day, and the stage funnel's (``rules.stage_days``)."""
    stage_days.rebuild(session, workspace_id)
    day = sql_day(session, Event.timestamp)
    session.execute(delete(EventDay).where(owned(EventDay, workspace_id)))
    rows = session.execute(
        select(day, func.count())
        .where(
            Event.workspace_id == workspace_id,
            Event.processed_at.is_not(None),
            Event.source != DERIVED_SOURCE,  # what leadpond derived is counted apart
        )
        .group_by(day)
    )
    values = [
        {"workspace_id": workspace_id, "day": as_date(when), "events": int(count)}
        for when, count in rows
    ]
    if values:
        session.execute(insert(EventDay), values)
    tallies.rebuild(session, workspace_id)
