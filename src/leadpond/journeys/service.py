"""Journeys' services: the journeys of a playbook version, conditions asked of a set of
people, enrolling (re-entry, staleness, entry condition, one place per journey) and the step
log. Advancing enrollments is ``engine``'s; what each step does is ``steps``'."""

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

import orjson
from sqlalchemy import Table, and_, case, exists, func, literal, or_, select, text, true
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from leadpond.conditions.ast import Condition
from leadpond.db.engine import is_postgres
from leadpond.journeys.definitions import (
    Journey,
    compile_journeys,
)
from leadpond.journeys.models import ACTIVE_ONLY, Enrollment, EnrollmentState, StepLog
from leadpond.kit.clock import sqlite_datetime
from leadpond.kit.errors import NotFound
from leadpond.kit.scope import owned
from leadpond.profiles.models import Person
from leadpond.rules.active import newest
from leadpond.rules.models import PlaybookVersion
from leadpond.rules.playbook import Playbook
from leadpond.rules.state import chunks
from leadpond.segments.build import person_filter
from leadpond.segments.definitions import load_segments

_enrollments = cast(Table, Enrollment.__table__)
_step_log = cast(Table, StepLog.__table__)
A = EnrollmentState


class JourneyNotFound(NotFound):
    code = "journey_not_found"


# Compiled journeys by playbook checksum: the same document compiles to the same journeys,
# whichever database or workspace stored it (version row ids are numbered per database).
_compiled: dict[str, dict[str, Journey]] = {}


def journeys_of(
    session: Session, workspace_id: uuid.UUID, version: int | None = None
) -> tuple[int, dict[str, Journey]] | None:
    """The journeys of a playbook version (default: the current one) and its number."""
    if version is None:
        found: Any = newest(session, workspace_id)
    else:
        found = session.execute(
            select(PlaybookVersion.id, PlaybookVersion.version, PlaybookVersion.checksum).where(
                owned(PlaybookVersion, workspace_id), PlaybookVersion.version == version
            )
        ).first()
    if found is None:
        return None
    row_id, number, checksum = found
    compiled = _compiled.get(checksum)
    if compiled is None:
        document = session.scalar(
            select(PlaybookVersion.document).where(PlaybookVersion.id == row_id)
        )
        playbook = Playbook.model_validate(document or {})
        compiled = {j.key: j for j in compile_journeys(playbook)}
        if len(_compiled) > 256:
            _compiled.clear()
        _compiled[checksum] = compiled
    return number, compiled


def matching(
    session: Session,
    workspace_id: uuid.UUID,
    condition: Condition,
    person_ids: Iterable[int],
    now: datetime,
) -> set[int]:
    """Which of these people the condition holds for at ``now``: one query per chunk, through the
    segments' SQL evaluator (the same semantics as everywhere else)."""
    loaded = load_segments(session, workspace_id)
    found: set[int] = set()
    for ids in chunks(set(person_ids)):
        found.update(
            session.scalars(
                select(Person.id).where(
                    Person.id.in_(ids), *person_filter(session, loaded, condition, now)
                )
            )
        )
    return found


def live_people(session: Session, workspace_id: uuid.UUID, ids: Sequence[int]) -> list[int]:
    """Which of these ids are live people of the workspace: by primary key, the workspace
    checked on the rows found (the planner walks the key, not the workspace's index)."""
    return [
        pid
        for pid, ws in session.execute(
            select(Person.id, Person.workspace_id).where(
                Person.id.in_(ids), Person.merged_into_id.is_(None)
            )
        )
        if ws == workspace_id
    ]


@dataclass
class Candidate:
    """Someone a trigger fired for: who, why, which event, and when the trigger happened."""

    person_id: int
    reason: str
    at: datetime
    event_id: int | None = None


@dataclass
class EnrollReport:
    enrolled: list[int] = field(default_factory=list)
    stale: int = 0
    not_eligible: int = 0
    reentry_refused: int = 0
    # Kept out by the journey's ``limits.total``.
    over_limit: int = 0


def enroll(
    session: Session,
    workspace_id: uuid.UUID,
    version: int,
    journey: Journey,
    candidates: Sequence[Candidate],
    now: datetime,
) -> EnrollReport:
    """Enroll whoever of the candidates may enter: fresh enough (``max_age``), allowed by the
    re-entry rule, matching the entry condition, a live person, not in the journey already.
    Returns the new enrollments' ids (not yet advanced: see :func:`advance`). The rules are
    :func:`entry_rules`', which :func:`enroll_set` applies to a whole segment in SQL."""
    report = EnrollReport()
    first: dict[int, Candidate] = {}
    for candidate in sorted(candidates, key=lambda c: (c.at, c.event_id or 0)):
        if candidate.at < now - journey.max_age:
            report.stale += 1
        elif candidate.person_id not in first:
            first[candidate.person_id] = candidate
    reentry, entry = entry_rules(session, workspace_id, journey, now)
    live: set[int] = set()
    allowed: set[int] = set()
    eligible: set[int] = set()
    for ids in chunks(set(first)):
        found = live_people(session, workspace_id, ids)
        live.update(found)
        allowed.update(session.scalars(select(Person.id).where(Person.id.in_(found), *reentry)))
    for ids in chunks(allowed if entry else ()):
        eligible.update(session.scalars(select(Person.id).where(Person.id.in_(ids), *entry)))
    if not entry:
        eligible = allowed
    report.reentry_refused = len(live) - len(allowed)
    report.not_eligible = len(allowed) - len(eligible)
    if not eligible:
        return report
    # First come, first in: the order the limits keep.
    order = sorted(eligible, key=lambda p: (first[p].at, first[p].event_id or 0, p))
    room = _room(session, workspace_id, journey)
    if room is not None:
        report.over_limit = max(len(order) - room, 0)
        order = order[:room]
    dues = _entry_times(session, workspace_id, journey, len(order), now)
    report.enrolled = _insert(
        session,
        workspace_id,
        version,
        journey,
        [
            (pid, due, first[pid].reason, first[pid].event_id)
            for pid, due in zip(order, dues, strict=True)
        ],
        now,
    )
    return report


def entry_rules(
    session: Session, workspace_id: uuid.UUID, journey: Journey, now: datetime
) -> tuple[list[Any], list[Any]]:
    """The journey's entry rules as WHERE clauses over ``Person`` — one source of truth for
    both ways of enrolling: the re-entry rule (not in the journey now; never been in it for
    ``never``; not entered within the period for a duration) and the entry condition (``if``,
    through the segments' SQL evaluator; none: everyone)."""
    blocking: Any = Enrollment.state == A.ACTIVE.value
    if journey.reentry == "never":
        blocking = true()
    elif journey.reentry == "after" and journey.reentry_after is not None:
        blocking = or_(blocking, Enrollment.entered_at > now - journey.reentry_after)
    reentry = [
        ~exists().where(
            owned(Enrollment, workspace_id),
            Enrollment.person_id == Person.id,
            Enrollment.journey_key == journey.key,
            blocking,
        )
    ]
    entry: list[Any] = []
    if journey.entry is not None:
        loaded = load_segments(session, workspace_id)
        entry = person_filter(session, loaded, journey.entry, now)
    return reentry, entry


def enroll_set(
    session: Session,
    workspace_id: uuid.UUID,
    version: int,
    journey: Journey,
    members: Any,
    reason: str,
    at: datetime,
    now: datetime,
) -> EnrollReport:
    """:func:`enroll` for a set of people given as a query of their ids (a segment's members),
    all triggered at ``at`` for one reason: the same rules (:func:`entry_rules`), the same
    order (by person: one moment, no events) and limits, applied in SQL — one counting query,
    one ``INSERT … SELECT`` of the enrollments and one of their step log, whatever the size
    (under ``limits.per_second`` the enrollments are inserted as :func:`enroll` does, their
    start times being numbered)."""
    report = EnrollReport()
    people = [Person.id.in_(members), owned(Person, workspace_id), Person.merged_into_id.is_(None)]
    if at < now - journey.max_age:
        report.stale = (
            session.scalar(select(func.count()).select_from(Person).where(Person.id.in_(members)))
            or 0
        )
        return report
    reentry, entry = entry_rules(session, workspace_id, journey, now)
    allowed_case = case((and_(*reentry), 1), else_=0)
    eligible_case = case((and_(*reentry, *entry), 1), else_=0) if entry else allowed_case
    counted = session.execute(
        select(func.count(), func.sum(allowed_case), func.sum(eligible_case)).where(*people)
    ).one()
    live, allowed, eligible = counted[0] or 0, counted[1] or 0, counted[2] or 0
    report.reentry_refused, report.not_eligible = live - allowed, allowed - eligible
    if not eligible:
        return report
    room = _room(session, workspace_id, journey)
    if room is not None:
        report.over_limit = max(eligible - room, 0)
        if room == 0:
            return report
    chosen = (
        select(Person.id)
        .where(*people, *reentry, *entry)
        .order_by(Person.id)
        .limit(room if room is not None else None)
    )
    if journey.limit_per_second is not None:
        order = list(session.scalars(chosen))
        dues = _entry_times(session, workspace_id, journey, len(order), now)
        report.enrolled = _insert(
            session,
            workspace_id,
            version,
            journey,
            [(pid, due, reason, None) for pid, due in zip(order, dues, strict=True)],
            now,
        )
        return report
    e = _enrollments.c
    reason = reason[:300]
    rows = chosen.with_only_columns(
        Person.workspace_id,
        literal(journey.key, e.journey_key.type),
        literal(version, e.version.type),
        Person.id,
        literal(journey.first, e.step.type),
        literal(now, e.due_at.type),
        literal(A.ACTIVE.value, e.state.type),
        literal(reason, e.reason.type),
        literal(now, e.entered_at.type),
    )
    upsert = pg_insert if is_postgres(session) else sqlite_insert
    created = list(
        session.scalars(
            upsert(_enrollments)
            .from_select(
                [
                    "workspace_id",
                    "journey_key",
                    "version",
                    "person_id",
                    "step",
                    "due_at",
                    "state",
                    "reason",
                    "entered_at",
                ],
                rows,
            )
            .on_conflict_do_nothing(
                index_elements=["workspace_id", "journey_key", "person_id"],
                index_where=text(ACTIVE_ONLY),
            )
            .returning(e.id)
        )
    )
    if created:
        detail = {"reason": reason, "event_id": None, "version": version}
        g = _step_log.c
        session.execute(
            _step_log.insert().from_select(
                ["workspace_id", "enrollment_id", "step", "kind", "at", "detail"],
                select(
                    e.workspace_id,
                    e.id,
                    literal("entered", g.step.type),
                    literal("entered", g.kind.type),
                    literal(now, g.at.type),
                    literal(detail, g.detail.type),
                ).where(
                    e.id.between(min(created), max(created)),
                    e.workspace_id == workspace_id,
                    e.journey_key == journey.key,
                    e.entered_at == now,
                    e.reason == reason,
                ),
            )
        )
    report.enrolled = sorted(created)
    return report


def _room(session: Session, workspace_id: uuid.UUID, journey: Journey) -> int | None:
    """How many more the journey's ``limits.total`` lets in (None: no limit)."""
    if journey.limit_total is None:
        return None
    return max(journey.limit_total - _entered_ever(session, workspace_id, journey.key), 0)


def _insert(
    session: Session,
    workspace_id: uuid.UUID,
    version: int,
    journey: Journey,
    entering: list[tuple[int, datetime, str, int | None]],
    now: datetime,
) -> list[int]:
    """Insert the enrollments (person, first step's due time, reason, trigger event) and their
    ``entered`` log; someone already in the journey (a concurrent batch) is skipped."""
    upsert = pg_insert if is_postgres(session) else sqlite_insert
    rows = [
        {
            "workspace_id": workspace_id,
            "journey_key": journey.key,
            "version": version,
            "person_id": pid,
            "step": journey.first,
            "due_at": due,
            "state": A.ACTIVE.value,
            "reason": reason[:300],
            "trigger_event_id": event_id,
            "entered_at": now,
        }
        for pid, due, reason, event_id in entering
    ]
    why = {pid: (reason[:300], event_id) for pid, _, reason, event_id in entering}
    created: list[tuple[int, int]] = []
    for start in range(0, len(rows), 500):
        created += [
            (r.id, r.person_id)
            for r in session.execute(
                upsert(_enrollments)
                .on_conflict_do_nothing(
                    index_elements=["workspace_id", "journey_key", "person_id"],
                    # Spelled as the partial index is, so PostgreSQL infers that index.
                    index_where=text(ACTIVE_ONLY),
                )
                .returning(_enrollments.c.id, _enrollments.c.person_id),
                rows[start : start + 500],
            )
        ]
    write_log(
        session,
        [
            log_entry(
                workspace_id,
                eid,
                "entered",
                "entered",
                now,
                {"reason": why[pid][0], "event_id": why[pid][1], "version": version},
            )
            for eid, pid in created
        ],
    )
    return [eid for eid, _ in created]


def _entered_ever(session: Session, workspace_id: uuid.UUID, key: str) -> int:
    """How many enrollments the journey has had, every version and state counted."""
    return (
        session.scalar(
            select(func.count()).where(
                owned(Enrollment, workspace_id), Enrollment.journey_key == key
            )
        )
        or 0
    )


def _entry_times(
    session: Session, workspace_id: uuid.UUID, journey: Journey, count: int, now: datetime
) -> list[datetime]:
    """When each of ``count`` new enrollments starts its first step: now, or — under a
    ``per_second`` limit — ``per_second`` of them a second, after the ones still held back by
    earlier batches (their first step is due later than now). Nobody is dropped."""
    rate = journey.limit_per_second
    if rate is None:
        return [now] * count
    queued = session.scalar(
        select(func.max(Enrollment.due_at)).where(
            owned(Enrollment, workspace_id),
            Enrollment.journey_key == journey.key,
            Enrollment.state == A.ACTIVE.value,
            Enrollment.step == journey.first,
            Enrollment.due_at > now,
            # Not yet run (a wait_for first step keeps its people there, due at the timeout).
            Enrollment.waiting_since.is_(None),
        )
    )
    # After the last one held back, from the next second (that one's may be full).
    start = now if queued is None else queued + timedelta(seconds=1)
    return [start + timedelta(seconds=i // rate) for i in range(count)]


def log_entry(
    workspace_id: uuid.UUID,
    enrollment_id: int,
    step: str,
    kind: str,
    at: datetime,
    detail: dict[str, Any],
    message_id: int | None = None,
) -> dict[str, Any]:
    """One step-log row: what happened to an enrollment at ``step``, and when."""
    return {
        "workspace_id": workspace_id,
        "enrollment_id": enrollment_id,
        "step": step,
        "kind": kind,
        "detail": detail,
        "message_id": message_id,
        "at": at,
    }


_LOG_COLUMNS = ("workspace_id", "enrollment_id", "step", "kind", "detail", "message_id", "at")
_SQLITE_LOG = (
    f"INSERT INTO {_step_log.name} ({', '.join(_LOG_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in _LOG_COLUMNS)})"
)


def write_log(session: Session, entries: list[dict[str, Any]]) -> None:
    """Append step-log entries (of :func:`log_entry`) in one statement, in their order."""
    if not entries:
        return
    if is_postgres(session):
        # RETURNING makes it an "insertmanyvalues" executemany: a few multi-row INSERTs
        # instead of one statement per entry.
        session.execute(_step_log.insert().returning(_step_log.c.id), entries)
        return
    # SQLite: values pre-encoded as the ORM types store them (UUID as 32 hex digits, DATETIME
    # text, JSON text) in one driver-level executemany — a schedule's first step logs a
    # million entries, and SQLAlchemy's per-row parameter processing was most of its time.
    session.connection().exec_driver_sql(
        _SQLITE_LOG,
        [
            (
                e["workspace_id"].hex,
                e["enrollment_id"],
                e["step"],
                e["kind"],
                orjson.dumps(e["detail"]).decode(),
                e["message_id"],
                sqlite_datetime(e["at"]),
            )
            for e in entries
        ],
    )
