"""The journey engine: enrollments are rows, advanced set-wise.

A run takes a batch of due enrollments, groups them by (journey, version, step) and runs each
group as a set (``steps``): one SQL query per condition over the group's people, one INSERT for
the group's outbox rows, and at the end one UPDATE for where everyone went. Steps due at once (a
send after a send) run on in the same transaction until everyone in the batch waits or has left;
everything commits together.

Kill -9 at any instant: the transaction either committed (the steps are done, their messages
queued) or did not (the enrollments are still due at the same step). Messages carry the key
``journey:<key>:v<version>:<step>:<person>:<enrollment>``, so running a step again — a replay,
a second worker on a claimed batch — finds the first message and queues nothing more.
"""

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, select, text
from sqlalchemy.orm import Session

from leadpond.db.among import among
from leadpond.db.claim import claim_ids
from leadpond.db.engine import is_postgres
from leadpond.journeys.actions import ACTION_KINDS
from leadpond.journeys.definitions import Journey
from leadpond.journeys.models import Enrollment, EnrollmentState
from leadpond.journeys.nextcontent import send_content
from leadpond.journeys.service import journeys_of, log_entry, write_log
from leadpond.journeys.setwise import advance_in_sql
from leadpond.journeys.steps import STEP_KINDS, Position, StepKind, StepRun, leave_early
from leadpond.kit.clock import sqlite_datetime
from leadpond.kit.scope import owned
from leadpond.rules.state import chunks

A = EnrollmentState
# Enrollments claimed per transaction. Steps run in SQL (``setwise``) cost per statement, not per
# person, so a big batch pays its dozen statements and its commit once for ten thousand people.
RUN_BATCH = 10_000
# At most this many of a batch run their steps in Python (one row loaded and written each): on
# SQLite the batch holds the single writer lock, so a batch whose people stop at Python steps
# stays as short as it was; the rest of the claim stays due where SQL left it, for the next one.
PYTHON_BATCH = 1_000
KINDS: dict[str, StepKind] = {**STEP_KINDS, **ACTION_KINDS, "send_content": send_content}
# SQLite: a driver-level executemany, one UPDATE per enrollment (cheap there), its values
# pre-encoded as the ORM types store them (SQLAlchemy's per-row processing cost more).
_SQLITE_MOVE = (
    "UPDATE journey_enrollment SET step = ?, due_at = ?, state = ?, variant = ?, ended_at = ?, "
    "waiting_since = ?, awaited_event_id = ? WHERE id = ?"
)
# PostgreSQL: one UPDATE for a whole batch, its values as arrays (eight parameters, however many
# rows); an executemany would be one round of the pipeline per enrollment.
_MOVE_ARRAYS = text(
    "UPDATE journey_enrollment SET step = m.step, due_at = m.due_at, state = m.state, "
    "variant = m.variant, ended_at = m.ended_at, waiting_since = m.waiting_since, "
    "awaited_event_id = m.awaited "
    "FROM unnest(CAST(:ids AS BIGINT[]), CAST(:steps AS VARCHAR[]), "
    "CAST(:dues AS TIMESTAMP[]), CAST(:states AS VARCHAR[]), CAST(:variants AS VARCHAR[]), "
    "CAST(:ended AS TIMESTAMP[]), CAST(:waits AS TIMESTAMP[]), CAST(:awaited AS BIGINT[])) "
    "AS m(id, step, due_at, state, variant, ended_at, waiting_since, awaited) "
    "WHERE journey_enrollment.id = m.id"
)


@dataclass
class AdvanceReport:
    steps: int = 0
    messages: int = 0
    ended: int = 0
    # Enrollments left due at a Python step for a later batch (``python_limit``).
    deferred: int = 0


def advance(
    session: Session,
    workspace_id: uuid.UUID,
    enrollment_ids: Sequence[int],
    now: datetime,
    *,
    in_sql: bool = True,
    python_limit: int | None = None,
) -> AdvanceReport:
    """Run every step of these enrollments that is due at ``now``, group by group, until each
    one waits for a later time or has left the journey; writes where they are now. The steps
    ``setwise`` runs go first, in SQL (``in_sql``: the engine's fast path; without it, every
    step runs here, in Python — the same results, tests/journeys/test_setwise.py). With
    ``python_limit``, only that many (the lowest ids) of those SQL leaves due go on in Python;
    the others stay due at their step (``AdvanceReport.deferred``)."""
    report = AdvanceReport()
    if in_sql:
        fast = advance_in_sql(session, workspace_id, sorted(set(enrollment_ids)), now)
        report.steps, report.messages, report.ended = fast.steps, fast.messages, fast.ended
        enrollment_ids = fast.rest
        if python_limit is not None and len(enrollment_ids) > python_limit:
            report.deferred = len(enrollment_ids) - python_limit
            enrollment_ids = enrollment_ids[:python_limit]
    positions = _load(session, enrollment_ids)
    definitions: dict[int, dict[str, Journey]] = {}
    moved: dict[int, Position] = {}
    entries: list[dict[str, Any]] = []
    due = [p for p in positions if _due(p, now)]
    spawned: list[int] = []
    live: set[int] = set()
    while due:
        groups: dict[tuple[str, int, str], list[Position]] = defaultdict(list)
        for position in due:
            assert position.step is not None
            groups[(position.key, position.version, position.step)].append(position)
        for (key, version, step_id), group in sorted(groups.items()):
            if version not in definitions:
                found = journeys_of(session, workspace_id, version)
                definitions[version] = found[1] if found else {}
            journey = definitions[version].get(key)
            if journey is None or step_id not in journey.steps:
                # Stored versions never change, so only a damaged row gets here: it leaves,
                # logged, rather than stop every run after it.
                error = f"playbook version {version} has no step {key}/{step_id}"
                for position in group:
                    position.state, position.step, position.ended_at = A.EXITED.value, None, now
                    entries.append(
                        log_entry(workspace_id, position.id, step_id, "end", now, {"error": error})
                    )
            else:
                step = journey.steps[step_id]
                run = StepRun(session, workspace_id, journey, step, now, entries, spawned, live)
                going = leave_early(run, group)
                if going:
                    report.messages += KINDS[step.kind](run, going)
            report.steps += len(group)
            moved.update((p.id, p) for p in group)
        due = [p for p in due if _due(p, now)]
        if spawned:
            # People an ``enroll`` step put in another journey start it in this run.
            due += [p for p in _load(session, spawned) if _due(p, now)]
            spawned.clear()
    write_log(session, entries)
    if moved:
        _write_positions(session, list(moved.values()))
    report.ended += sum(1 for p in moved.values() if p.state != A.ACTIVE)
    return report


def _due(position: Position, now: datetime) -> bool:
    return position.state == A.ACTIVE and position.step is not None and position.due_at <= now


def _load(session: Session, enrollment_ids: Sequence[int]) -> list[Position]:
    positions: list[Position] = []
    for ids in chunks(set(enrollment_ids)):
        positions += [
            Position(*row)
            for row in session.execute(
                select(
                    Enrollment.id,
                    Enrollment.journey_key,
                    Enrollment.version,
                    Enrollment.person_id,
                    Enrollment.step,
                    Enrollment.due_at,
                    Enrollment.state,
                    Enrollment.variant,
                    Enrollment.waiting_since,
                    Enrollment.awaited_event_id,
                )
                # The ids alone (the caller took them from this workspace): a workspace filter
                # beside them lets the planner walk the workspace's index, not the key.
                .where(Enrollment.id.in_(ids))
            )
        ]
    return positions


def _write_positions(session: Session, positions: list[Position]) -> None:
    """Store where each enrollment is now."""
    if is_postgres(session):
        session.execute(
            _MOVE_ARRAYS,
            {
                "ids": [p.id for p in positions],
                "steps": [p.step for p in positions],
                "dues": [p.due_at for p in positions],
                "states": [p.state for p in positions],
                "variants": [p.variant for p in positions],
                "ended": [p.ended_at for p in positions],
                "waits": [p.waiting_since for p in positions],
                "awaited": [p.awaited_event_id for p in positions],
            },
        )
        return
    session.connection().exec_driver_sql(
        _SQLITE_MOVE,
        [
            (
                p.step,
                sqlite_datetime(p.due_at),
                p.state,
                p.variant,
                _stored(p.ended_at),
                _stored(p.waiting_since),
                p.awaited_event_id,
                p.id,
            )
            for p in positions
        ],
    )


def _stored(moment: datetime | None) -> str | None:
    return None if moment is None else sqlite_datetime(moment)


@dataclass
class RunReport:
    batches: int = 0
    steps: int = 0
    messages: int = 0
    ended: int = 0
    # People enrolled by schedule triggers that fired.
    scheduled: int = 0
    # Claimed but left due at a Python step, for a later batch.
    deferred: int = 0


def run_due_batch(
    session: Session,
    workspace_id: uuid.UUID | None,
    now: datetime,
    limit: int = RUN_BATCH,
    within: tuple[int, int] | None = None,
    python_limit: int = PYTHON_BATCH,
) -> RunReport:
    """Claim up to ``limit`` due enrollments (of one workspace, when given; with ids in
    ``within``, when given: a schedule's new enrollments, found by the key instead of every due
    row) and advance them, in the caller's transaction (SKIP LOCKED on PostgreSQL: workers
    never share a batch; what a batch leaves due is unlocked at its commit). Of those the SQL
    steps leave at Python ones, ``python_limit`` (a workspace's, in a claim across workspaces)
    go on here; the rest wait for the next claim."""
    report = RunReport()
    due: Any = and_(Enrollment.state == A.ACTIVE.value, Enrollment.due_at <= now)
    if workspace_id is not None:
        due = and_(due, owned(Enrollment, workspace_id))
    if within is not None:
        due = and_(due, Enrollment.id.between(*within))
    ids = claim_ids(session, Enrollment.id, due, limit)
    if not ids:
        return report
    by_workspace: dict[uuid.UUID, list[int]] = defaultdict(list)
    if workspace_id is not None:
        by_workspace[workspace_id] = ids
    else:
        for eid, ws in session.execute(
            select(Enrollment.id, Enrollment.workspace_id).where(among(session, Enrollment.id, ids))
        ):
            by_workspace[ws].append(eid)
    for ws, mine in by_workspace.items():
        done = advance(session, ws, mine, now, python_limit=python_limit)
        report.steps += done.steps
        report.messages += done.messages
        report.ended += done.ended
        report.deferred += done.deferred
    report.batches = 1
    return report


def add_up(total: RunReport, done: RunReport) -> None:
    """Add a batch's figures to a run's."""
    total.batches += done.batches
    total.steps += done.steps
    total.messages += done.messages
    total.ended += done.ended
    total.deferred += done.deferred
