"""Journeys' services: the journeys of a playbook version, conditions asked of a set of
people, enrolling (re-entry, staleness, entry condition, one place per journey) and the step
log. Advancing enrollments is ``engine``'s; what each step does is ``steps``'."""

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, func, select, text
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
from leadpond.kit.errors import NotFound
from leadpond.kit.scope import owned
from leadpond.profiles.models import Person
from leadpond.rules.models import PlaybookVersion
from leadpond.rules.playbook import Playbook
from leadpond.rules.state import chunks
from leadpond.segments.build import person_filter
from leadpond.segments.definitions import load_segments

_enrollments = cast(Table, Enrollment.__table__)
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
    stmt = select(PlaybookVersion.id, PlaybookVersion.version, PlaybookVersion.checksum).where(
        owned(PlaybookVersion, workspace_id)
    )
    if version is None:
        stmt = stmt.order_by(PlaybookVersion.version.desc()).limit(1)
    else:
        stmt = stmt.where(PlaybookVersion.version == version)
    found = session.execute(stmt).first()
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
    Returns the new enrollments' ids (not yet advanced: see :func:`advance`)."""
    report = EnrollReport()
    first: dict[int, Candidate] = {}
    for candidate in sorted(candidates, key=lambda c: (c.at, c.event_id or 0)):
        if candidate.at < now - journey.max_age:
            report.stale += 1
        elif candidate.person_id not in first:
            first[candidate.person_id] = candidate
    people = set(first)
    live: set[int] = set()
    for ids in chunks(people):
        live.update(live_people(session, workspace_id, ids))
    refused = _refused_by_reentry(session, workspace_id, journey, live, now)
    report.reentry_refused = len(refused)
    allowed = live - refused
    if journey.entry is not None and allowed:
        eligible = matching(session, workspace_id, journey.entry, allowed, now)
        report.not_eligible = len(allowed - eligible)
        allowed = eligible
    if not allowed:
        return report
    # First come, first in: the order the limits keep.
    order = sorted(allowed, key=lambda p: (first[p].at, first[p].event_id or 0, p))
    if journey.limit_total is not None:
        room = max(journey.limit_total - _entered_ever(session, workspace_id, journey.key), 0)
        report.over_limit = max(len(order) - room, 0)
        order = order[:room]
    dues = _entry_times(session, workspace_id, journey, len(order), now)
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
            "reason": first[pid].reason[:300],
            "trigger_event_id": first[pid].event_id,
            "entered_at": now,
        }
        for pid, due in zip(order, dues, strict=True)
    ]
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
                {
                    "reason": first[pid].reason[:300],
                    "event_id": first[pid].event_id,
                    "version": version,
                },
            )
            for eid, pid in created
        ],
    )
    report.enrolled = [eid for eid, _ in created]
    return report


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


def _refused_by_reentry(
    session: Session, workspace_id: uuid.UUID, journey: Journey, people: set[int], now: datetime
) -> set[int]:
    """People the re-entry rule keeps out: in the journey now (always), ever in it (never),
    or entered within the period (after N days)."""
    refused: set[int] = set()
    for ids in chunks(people):
        for pid, state, entered_at in session.execute(
            select(Enrollment.person_id, Enrollment.state, Enrollment.entered_at).where(
                owned(Enrollment, workspace_id),
                Enrollment.journey_key == journey.key,
                Enrollment.person_id.in_(ids),
            )
        ):
            if (
                state == A.ACTIVE
                or journey.reentry == "never"
                or (
                    journey.reentry == "after"
                    and journey.reentry_after is not None
                    and entered_at > now - journey.reentry_after
                )
            ):
                refused.add(pid)
    return refused


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


_step_log = cast(Table, StepLog.__table__)


def write_log(session: Session, entries: list[dict[str, Any]]) -> None:
    """Append step-log entries (of :func:`log_entry`) in one statement."""
    if entries:
        # RETURNING makes it an "insertmanyvalues" executemany: a few multi-row INSERTs on
        # PostgreSQL instead of one statement per entry.
        session.execute(_step_log.insert().returning(_step_log.c.id), entries)
