"""The dashboard's people, tag and score tallies and the content tally: kept by triggers,
folded, read, recounted.

``people_day``, ``tag_holders`` and ``score_holders`` (see ``reports.models``) are kept by
database triggers on ``person``, ``person_tag`` and ``person_score`` (created by the migration
``20261208_0300_dashboard_tallies``), ``content_tally`` by triggers on ``event`` (migration
``20261210_0000_content_tally``, see ``reports.content_tally``), so every write of those rows
counts in its own transaction: the pipeline, merges and unmerges, imports, manual tags, rule
backfills, playbook changes and ORM flushes alike; nothing has to remember to call a counter.

On SQLite (one writer at a time) a trigger adds its change to the key's slot-0 row. On
PostgreSQL it adds it to the key's row of its own transaction (``slot = txid_current()``): a
worker's batch never locks a row another transaction writes, so concurrent workers neither
queue nor deadlock on a busy day's or tag's counter. :func:`fold` moves committed slots into
slot 0 in one short transaction (a worker runs it after a batch, at most every 5 s); a read
sums the slots, so it is exact whether or not a fold has run.
"""

import time
import uuid
from collections.abc import Iterator
from datetime import date
from typing import Any, cast

from sqlalchemy import BigInteger, Date, Table, delete, func, insert, literal, select, tuple_
from sqlalchemy import cast as sql_cast
from sqlalchemy.orm import Session

from leadpond.db.engine import dialect_insert, get_engine, is_postgres, unit_of_work
from leadpond.kit.scope import owned
from leadpond.profiles.models import Person
from leadpond.reports import content_tally
from leadpond.reports.models import (
    NEVER_SEEN,
    ContentTally,
    PeopleDay,
    ScoreHolders,
    TagHolders,
)
from leadpond.rules.models import PersonScore, PersonTag

TALLIES = (PeopleDay, TagHolders, ScoreHolders, ContentTally)
# The key of each tally (its primary key without the slot).
_KEYS = {
    PeopleDay: ("workspace_id", "day", "channel"),
    TagHolders: ("workspace_id", "tag"),
    ScoreHolders: ("workspace_id", "model", "points"),
    ContentTally: ("workspace_id", "content_key", "person_id"),
}
# What each tally sums ("people" unless named): a row whose counts are all 0 is dropped.
_VALUES = {ContentTally: content_tally.COLUMNS}
FOLD_EVERY_S = 5.0
_folded_at: dict[str | None, float] = {}  # database URL -> monotonic time of this process' fold
# pg_try_advisory_xact_lock key of the fold: one folder at a time, the others skip.
_FOLD_LOCK = 20261208_0300


def fold(session: Session) -> bool:
    """Move the committed per-transaction slots into slot 0 (PostgreSQL; SQLite keeps slot 0
    only). Returns False when another transaction is folding (it will take these rows too)."""
    if not is_postgres(session):
        return True
    if not session.scalar(select(func.pg_try_advisory_xact_lock(_FOLD_LOCK))):
        return False
    for model in TALLIES:
        _fold_one(session, model)
    return True


def fold_committed(url: str | None = None, every_s: float = FOLD_EVERY_S) -> None:
    """Fold in a transaction of its own (after a pipeline batch has committed), at most once
    per ``every_s`` seconds per process: reads are exact either way, folding only keeps the
    per-transaction rows few."""
    now = time.monotonic()
    if now - _folded_at.get(url, -every_s) < every_s or not is_postgres(get_engine(url)):
        return
    _folded_at[url] = now
    with unit_of_work(url) as session:
        fold(session)


def _fold_one(session: Session, model: Any) -> None:
    table = cast(Table, model.__table__)
    keys = [table.c[name] for name in _KEYS[model]]
    values = [table.c[name] for name in _VALUES.get(model, ("people",))]
    moved = session.execute(delete(table).where(table.c.slot != 0).returning(*keys, *values)).all()
    sums: dict[tuple[Any, ...], list[Any]] = {}
    for row in moved:
        held = sums.setdefault(tuple(row[: len(keys)]), [0] * len(values))
        for i, value in enumerate(row[len(keys) :]):
            held[i] += value
    names = [value.name for value in values]
    rows = [
        {
            **dict(zip(_KEYS[model], key, strict=True)),
            "slot": 0,
            **dict(zip(names, held, strict=True)),
        }
        for key, held in sorted(sums.items())
        if any(held)
    ]
    if not rows:
        return
    upsert = dialect_insert(session, table)
    # Sorted keys: slot 0 is written by folds only (one at a time), in a stable order anyway.
    result = session.execute(
        upsert.on_conflict_do_update(
            index_elements=[*keys, table.c.slot],
            set_={value.name: value + upsert.excluded[value.name] for value in values},
        ).returning(*keys, *values),
        rows,
    )
    counts = [i for i, value in enumerate(values) if isinstance(value.type, BigInteger)]
    emptied = [
        tuple(row[: len(keys)]) for row in result if not any(row[len(keys) + i] for i in counts)
    ]
    if emptied:
        session.execute(delete(table).where(table.c.slot == 0, tuple_(*keys).in_(emptied)))


def rebuild(session: Session, workspace_id: uuid.UUID) -> None:
    """Recount the workspace's tallies from the rows they count (after a bulk load or copy)."""
    for model in TALLIES:
        session.execute(delete(model).where(owned(model, workspace_id)))
    day = (
        sql_cast(Person.first_seen_at, Date)
        if is_postgres(session)
        else func.date(Person.first_seen_at)
    )
    never = literal(NEVER_SEEN, Date) if is_postgres(session) else literal(NEVER_SEEN.isoformat())
    seen = func.coalesce(day, never)
    channel = func.coalesce(Person.first_channel, "")
    _recount(
        session,
        PeopleDay,
        select(Person.workspace_id, seen, channel, literal(0), func.count())
        .where(Person.workspace_id == workspace_id, Person.merged_into_id.is_(None))
        .group_by(Person.workspace_id, seen, channel),
    )
    _recount(
        session,
        TagHolders,
        select(PersonTag.workspace_id, PersonTag.tag, literal(0), func.count())
        .where(PersonTag.workspace_id == workspace_id)
        .group_by(PersonTag.workspace_id, PersonTag.tag),
    )
    _recount(
        session,
        ScoreHolders,
        select(PersonScore.workspace_id, PersonScore.model, PersonScore.points, literal(0))
        .add_columns(func.count())
        .where(PersonScore.workspace_id == workspace_id)
        .group_by(PersonScore.workspace_id, PersonScore.model, PersonScore.points),
    )
    content_tally.recount(session, workspace_id)


def _recount(session: Session, model: Any, counts: Any) -> None:
    columns = [*_KEYS[model], "slot", "people"]
    session.execute(insert(model).from_select(columns, counts))


def people_days(
    session: Session, workspace_id: uuid.UUID, start: date | None = None, end: date | None = None
) -> Iterator[tuple[date, str, int]]:
    """Live people per first-seen day and first channel ("" for none), days in [start, end]
    (every day, and the people never seen, without a range)."""
    query = (
        select(PeopleDay.day, PeopleDay.channel, func.sum(PeopleDay.people))
        .where(owned(PeopleDay, workspace_id))
        .group_by(PeopleDay.day, PeopleDay.channel)
        .having(func.sum(PeopleDay.people) != 0)
    )
    if start is not None and end is not None:
        query = query.where(PeopleDay.day > NEVER_SEEN, PeopleDay.day.between(start, end))
    for day, channel, people in session.execute(query):
        yield day, str(channel), int(people)


def people_total(session: Session, workspace_id: uuid.UUID) -> int:
    """Live people of the workspace."""
    return int(
        session.scalar(
            select(func.coalesce(func.sum(PeopleDay.people), 0)).where(
                owned(PeopleDay, workspace_id)
            )
        )
        or 0
    )


def tag_holders(session: Session, workspace_id: uuid.UUID, limit: int) -> list[tuple[str, int]]:
    """The ``limit`` most held tags (most first, then by tag) and how many hold each."""
    held = func.sum(TagHolders.people)
    rows = session.execute(
        select(TagHolders.tag, held)
        .where(owned(TagHolders, workspace_id))
        .group_by(TagHolders.tag)
        .having(held > 0)
        .order_by(held.desc(), TagHolders.tag)
        .limit(limit)
    )
    return [(tag, int(people)) for tag, people in rows]


def scored_models(session: Session, workspace_id: uuid.UUID) -> list[str]:
    """The score models people have points in, by name."""
    return list(
        session.scalars(
            select(ScoreHolders.model)
            .where(owned(ScoreHolders, workspace_id))
            .group_by(ScoreHolders.model)
            .having(func.sum(ScoreHolders.people) > 0)
            .order_by(ScoreHolders.model)
        )
    )


def score_points(session: Session, workspace_id: uuid.UUID, model: str) -> list[tuple[float, int]]:
    """Each points value people hold in the model, with how many hold it, lowest first."""
    held = func.sum(ScoreHolders.people)
    rows = session.execute(
        select(ScoreHolders.points, held)
        .where(owned(ScoreHolders, workspace_id), ScoreHolders.model == model)
        .group_by(ScoreHolders.points)
        .having(held > 0)
        .order_by(ScoreHolders.points)
    )
    return [(float(points), int(people)) for points, people in rows]
