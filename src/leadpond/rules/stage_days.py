"""The stage funnel's rollups, kept in the transaction that moves people (issue #20).

Reached: for a person and a stage, D = the sorted distinct days (UTC) of their moves to that
stage or a later one on the funnel's line (to exactly that stage for one off the line). They
reached it in [a, b] iff D meets [a, b], i.e. iff exactly one day d of D in [a, b] has its
previous element before a (or none). ``StageReachDay`` counts people per (stage, d, previous):
the people who reached a stage in [a, b] are one indexed sum, whatever the range.
Here now: ``StageEntryDay`` counts the people at each stage by the day they entered it.

Every write of ``stage_change`` and ``person_stage`` goes through ``rules.store.write_changes``
(appends) or ``rules.backfill.clear_rule_state`` (deletes; merges and replays too), which call
``count_moves`` and ``forget_people`` here with the rows they change: the rollups move by the
difference the people's contributions make, so they stay exact. A playbook that changes the
line recounts the reached rows (``follow_playbook``).
"""

import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from leadpond.db.engine import as_date, dialect_insert, is_postgres, sql_day
from leadpond.kit.clock import utcnow
from leadpond.kit.scope import owned
from leadpond.rules.models import (
    PersonStage,
    StageChange,
    StageEntryDay,
    StageFunnel,
    StageReachDay,
)
from leadpond.rules.vocabulary import detour_stages, stage_order

# ``previous_day`` of a person's first day at a stage: before any range.
FIRST_DAY = date(1, 1, 1)
# How many people one statement reads the moves of.
CHUNK = 500

ReachKey = tuple[str, date, date]  # stage, day, previous day
EntryKey = tuple[str, date]  # stage, day entered


def utc_day(at: datetime) -> date:
    """The UTC day of a moment (stored moments are naive UTC)."""
    return (at.astimezone(UTC) if at.tzinfo is not None else at).date()


def playbook_line(session: Session, workspace_id: uuid.UUID) -> list[str]:
    """The funnel's line of the newest playbook: its stages in order, detours left out."""
    detours = detour_stages(session, workspace_id)
    return [stage for stage in stage_order(session, workspace_id) if stage not in detours]


def reach_of(moves: Iterable[tuple[str, date]], line: Sequence[str]) -> Counter[ReachKey]:
    """One person's rows: their moves as (stage moved to, UTC day)."""
    position = {stage: i for i, stage in enumerate(line)}
    furthest: dict[date, int] = {}  # day -> furthest line position moved to that day
    off_line: dict[str, set[date]] = {}
    for stage, day in moves:
        i = position.get(stage)
        if i is None:
            off_line.setdefault(stage, set()).add(day)
        elif furthest.get(day, -1) < i:
            furthest[day] = i
    rows: Counter[ReachKey] = Counter()
    days = sorted(furthest.items())
    for i, stage in enumerate(line):
        previous = FIRST_DAY
        for day, top in days:
            if top >= i:
                rows[(stage, day, previous)] += 1
                previous = day
    for stage, stage_days in off_line.items():
        previous = FIRST_DAY
        for day in sorted(stage_days):
            rows[(stage, day, previous)] += 1
            previous = day
    return rows


def reach_of_people(
    moves: Iterable[tuple[int, str, datetime]], line: Sequence[str]
) -> Counter[ReachKey]:
    """The rows of several people's moves, given as (person, stage moved to, when)."""
    by_person: dict[int, list[tuple[str, date]]] = {}
    for pid, stage, at in moves:
        by_person.setdefault(pid, []).append((stage, utc_day(at)))
    rows: Counter[ReachKey] = Counter()
    for person_moves in by_person.values():
        rows.update(reach_of(person_moves, line))
    return rows


def counted_line(
    session: Session, workspace_id: uuid.UUID, *, exclusive: bool = False
) -> list[str]:
    """The line the workspace's reached rows count for, held until the transaction ends on
    PostgreSQL (shared by the pipeline's writers, exclusive for a recount), so a recount for a
    new line never interleaves with a batch counting for the old one."""
    query = select(StageFunnel.line).where(StageFunnel.workspace_id == workspace_id)
    if is_postgres(session):
        query = query.with_for_update(read=not exclusive)
    line = session.scalar(query)
    if line is not None:
        return list(line)
    # Not counted yet (a workspace without a playbook has no moves): its line starts now.
    session.execute(
        dialect_insert(session, StageFunnel)
        .values(workspace_id=workspace_id, line=playbook_line(session, workspace_id))
        .on_conflict_do_nothing()
    )
    return list(session.scalar(query) or [])


def count_moves(
    session: Session,
    workspace_id: uuid.UUID,
    appended: Sequence[dict[str, Any]],
    entries: Counter[EntryKey],
) -> None:
    """Count stage moves about to be appended (``stage_change`` rows of the workspace) and the
    change ``entries`` of ``person_stage`` rows (+1 written, -1 deleted, by stage and day).

    Called before the moves are written: the people's stored moves are read once, and the
    rows move by what the new moves change in their contributions.
    """
    if not appended and not any(entries.values()):
        return
    line = counted_line(session, workspace_id)
    reach: Counter[ReachKey] = Counter()
    people = sorted({row["person_id"] for row in appended})
    for start in range(0, len(people), CHUNK):
        ids = people[start : start + CHUNK]
        stored = [
            (pid, stage, at)
            for pid, stage, at in session.execute(
                select(StageChange.person_id, StageChange.to_stage, StageChange.at).where(
                    StageChange.person_id.in_(ids)
                )
            )
        ]
        chosen = set(ids)
        added = [
            (r["person_id"], r["to_stage"], r["at"]) for r in appended if r["person_id"] in chosen
        ]
        reach.update(reach_of_people([*stored, *added], line))
        reach.subtract(reach_of_people(stored, line))
    _add(session, workspace_id, reach, entries)


def forget_people(
    session: Session,
    workspace_id: uuid.UUID,
    moves: Sequence[tuple[int, str, datetime]],
    stages: Sequence[tuple[str, datetime]],
) -> None:
    """Uncount people's deleted rows: all their moves as (person, stage, when), and their
    ``person_stage`` rows as (stage, entered)."""
    if not moves and not stages:
        return
    line = counted_line(session, workspace_id)
    reach = Counter[ReachKey]()
    reach.subtract(reach_of_people(moves, line))
    entries = Counter[EntryKey]()
    entries.subtract((stage, utc_day(entered)) for stage, entered in stages)
    _add(session, workspace_id, reach, entries)


def _add(
    session: Session,
    workspace_id: uuid.UUID,
    reach: Counter[ReachKey],
    entries: Counter[EntryKey],
) -> None:
    """Add the differences, upserted in key order: concurrent PostgreSQL workers lock the same
    rows in the same order, so they queue for each other and never deadlock. Rows that fall
    to zero stay (a later move of the same day reuses them)."""
    for model, changes in ((StageReachDay, reach), (StageEntryDay, entries)):
        values = [
            {"workspace_id": workspace_id, **dict(zip(_KEYS[model], key, strict=True)), "people": n}
            for key, n in sorted(changes.items())
            if n
        ]
        if not values:
            continue
        upsert = dialect_insert(session, model)
        table: Any = model.__table__
        session.execute(
            upsert.on_conflict_do_update(
                index_elements=[table.c.workspace_id, *(table.c[k] for k in _KEYS[model])],
                set_={"people": table.c.people + upsert.excluded.people},
            ),
            values,
        )


_KEYS: dict[type, tuple[str, ...]] = {
    StageReachDay: ("stage", "day", "previous_day"),
    StageEntryDay: ("stage", "day"),
}


def follow_playbook(session: Session, workspace_id: uuid.UUID) -> None:
    """After a playbook was stored: recount the reached rows when its line differs from the
    one they count for (the entries do not depend on it)."""
    line = playbook_line(session, workspace_id)
    if counted_line(session, workspace_id, exclusive=True) != line:
        _recount_reach(session, workspace_id, line)


def rebuild(session: Session, workspace_id: uuid.UUID) -> None:
    """Recount both rollups of the workspace from the rows (after a bulk load or a copy)."""
    counted_line(session, workspace_id, exclusive=True)
    _recount_reach(session, workspace_id, playbook_line(session, workspace_id))
    session.execute(delete(StageEntryDay).where(owned(StageEntryDay, workspace_id)))
    entered = sql_day(session, PersonStage.entered_at)
    rows = session.execute(
        select(PersonStage.stage, entered, func.count())
        .where(owned(PersonStage, workspace_id))
        .group_by(PersonStage.stage, entered)
    )
    values = [
        {"workspace_id": workspace_id, "stage": stage, "day": as_date(day), "people": int(n)}
        for stage, day, n in rows
    ]
    if values:
        session.execute(insert(StageEntryDay), values)


def _recount_reach(session: Session, workspace_id: uuid.UUID, line: list[str]) -> None:
    session.execute(delete(StageReachDay).where(owned(StageReachDay, workspace_id)))
    day = sql_day(session, StageChange.at)
    # A person's distinct (stage, day) moves, person by person: one pass, one person in memory.
    rows = session.execute(
        select(StageChange.person_id, StageChange.to_stage, day)
        .where(owned(StageChange, workspace_id))
        .group_by(StageChange.person_id, StageChange.to_stage, day)
        .order_by(StageChange.person_id)
        .execution_options(yield_per=20_000)
    )
    reach: Counter[ReachKey] = Counter()
    person: int | None = None
    moves: list[tuple[str, date]] = []
    for pid, stage, when in rows:
        if pid != person:
            reach.update(reach_of(moves, line))
            person, moves = pid, []
        moves.append((stage, as_date(when)))
    reach.update(reach_of(moves, line))
    values = [
        {"workspace_id": workspace_id, "stage": s, "day": d, "previous_day": p, "people": n}
        for (s, d, p), n in sorted(reach.items())
    ]
    for start in range(0, len(values), 10_000):
        session.execute(insert(StageReachDay), values[start : start + 10_000])
    session.execute(
        update(StageFunnel)
        .where(StageFunnel.workspace_id == workspace_id)
        .values(line=line, counted_at=utcnow())
    )


def reached(session: Session, workspace_id: uuid.UUID, start: date, end: date) -> dict[str, int]:
    """People who reached each stage (on the line: it or a later one) on days in [start, end]."""
    rows = session.execute(
        select(StageReachDay.stage, func.sum(StageReachDay.people))
        .where(
            owned(StageReachDay, workspace_id),
            StageReachDay.day >= start,
            StageReachDay.day <= end,
            StageReachDay.previous_day < start,
        )
        .group_by(StageReachDay.stage)
    )
    return {stage: int(n) for stage, n in rows if n}


def here_now(session: Session, workspace_id: uuid.UUID, start: date, end: date) -> dict[str, int]:
    """People still at each stage who entered it on days in [start, end]."""
    rows = session.execute(
        select(StageEntryDay.stage, func.sum(StageEntryDay.people))
        .where(
            owned(StageEntryDay, workspace_id),
            StageEntryDay.day >= start,
            StageEntryDay.day <= end,
        )
        .group_by(StageEntryDay.stage)
    )
    return {stage: int(n) for stage, n in rows if n}
