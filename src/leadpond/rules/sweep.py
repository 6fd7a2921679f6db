"""Idle stage rules between events: "dormant after 90 days without activity" happens on a day
when nothing arrives, so the worker sweeps for people whose quiet period has ended.

The sweep hands each candidate to the same ``Engine.settle`` a replay calls, so the change it
records (at the moment the quiet period ended, not when the sweep noticed) is the one a backfill
would record. Each playbook version keeps a watermark: a sweep only reads people whose last event
fell in the window since the previous one, through the index on ``(workspace_id, last_seen_at)``.

The watermark is a promise: everyone whose quiet period ended by it has been moved. People the
pipeline processes after a sweep (a backlog, an import of old history) may have a quiet period
that ended before the watermark, below the next sweep's window; so the batch that processes them
settles them up to the watermark itself (``settle_to_watermark``), as the sweep would have. A
batch holds the watermark in share mode from its start and a sweep takes it exclusively before it
reads, so no batch commits against a watermark a concurrent sweep has moved past it (PostgreSQL;
SQLite has a single writer).
"""

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session

from leadpond.db.engine import is_postgres
from leadpond.flow.batch import Batch
from leadpond.profiles.models import Person
from leadpond.profiles.scope import live_in
from leadpond.profiles.service import lock_people
from leadpond.rules.active import current_ruleset, current_version_id
from leadpond.rules.engine import Engine, PersonState
from leadpond.rules.models import PersonStage, PlaybookVersion
from leadpond.rules.ruleset import Ruleset
from leadpond.rules.state import chunks, load_states
from leadpond.rules.store import write_changes

# Batches that were in flight while the previous sweep read may have moved people's last event
# just below its window: the next window reaches back this far to catch them.
OVERLAP = timedelta(hours=1)
CHUNK = 2000


@dataclass
class SweepReport:
    candidates: int = 0
    moved: set[int] = field(default_factory=set)


def _quiet_people(
    session: Session, workspace_id: uuid.UUID, now: datetime, *, lock: bool
) -> tuple[Ruleset, Select[int, datetime | None]] | None:
    """The workspace's rules and the query of the people whose quiet period may have ended by
    ``now`` since the last sweep; None when its rules have no idle stages. ``lock`` takes the
    watermark exclusively first: in-flight batches commit before (their people are then
    visible to the query), later batches see the new watermark."""
    ruleset = current_ruleset(session, workspace_id)
    if ruleset is None:
        return None
    engine = Engine(ruleset)
    if not engine.idle_rules:
        return None
    shortest = min(r.idle for r in engine.idle_rules if r.idle is not None)
    longest = max(r.idle for r in engine.idle_rules if r.idle is not None)
    watermark = select(PlaybookVersion.idle_swept_until).where(
        PlaybookVersion.id == ruleset.version_id
    )
    swept_until = session.scalar(watermark.with_for_update() if lock else watermark)
    # Stages some idle rule may move a person out of (never into the stage they are in).
    movable = [
        stage.key
        for stage in ruleset.stages
        if any(engine.allowed(stage.key, rule) for rule in engine.idle_rules)
    ]
    query = (
        select(Person.id, Person.last_seen_at)
        .join(PersonStage, PersonStage.person_id == Person.id)
        .where(
            live_in(workspace_id),
            Person.last_seen_at <= now - shortest,
            PersonStage.stage.in_(movable),
        )
    )
    if swept_until is not None:
        query = query.where(Person.last_seen_at > swept_until - longest - OVERLAP)
    return ruleset, query


def has_quiet_people(session: Session, workspace_id: uuid.UUID, now: datetime) -> bool:
    """Whether a sweep at ``now`` has anyone to look at (read only, no lock). A workspace
    without is skipped and keeps its watermark: the next sweep's window still starts there."""
    found = _quiet_people(session, workspace_id, now, lock=False)
    return found is not None and session.execute(found[1].limit(1)).first() is not None


def sweep_idle(session: Session, workspace_id: uuid.UUID, now: datetime) -> SweepReport:
    """Apply the workspace's idle stage rules to everyone whose quiet period ended by ``now``."""
    report = SweepReport()
    found = _quiet_people(session, workspace_id, now, lock=True)
    if found is None:
        return report
    ruleset, query = found
    quiet = {pid: seen for pid, seen in session.execute(query)}
    report.candidates = len(quiet)
    for ids in chunks(quiet, CHUNK):
        lock_people(session, set(ids))
        states = load_states(session, workspace_id, ruleset, set(ids), since=now, fresh=False)
        engine = Engine(ruleset)
        for pid, state in states.items():
            state.last_active = quiet[pid]
            engine.settle(state, now)
        # Only the differences are written: here, the stages and their history.
        write_changes(session, workspace_id, states, engine.out, now)
        report.moved |= {change["person_id"] for change in engine.out.stage_changes}
    session.execute(
        update(PlaybookVersion)
        .where(PlaybookVersion.id == ruleset.version_id)
        .values(idle_swept_until=now)
    )
    return report


def hold_watermarks(batch: Batch) -> None:
    """Pipeline stage (first): hold the idle watermark of each workspace in the batch in share
    mode, before any person is locked, so a sweep waits for this batch (and never the reverse
    while it holds people this batch needs)."""
    session = batch.session
    if not is_postgres(session):  # SQLite: one writer at a time already, nothing to hold
        return
    for workspace_id in batch.by_workspace():
        version_id = current_version_id(session, workspace_id)
        if version_id is not None:
            session.execute(
                select(PlaybookVersion.id)
                .where(PlaybookVersion.id == version_id)
                .with_for_update(read=True)
            ).all()


def settle_to_watermark(
    session: Session, engine: Engine, version_id: int, states: dict[int, PersonState]
) -> None:
    """Move the batch's people whose quiet period ended before the last sweep, as it would have
    (a person processed after a sweep, whose last event is older than its window)."""
    if not engine.idle_rules:
        return
    swept_until = session.scalar(
        select(PlaybookVersion.idle_swept_until).where(PlaybookVersion.id == version_id)
    )
    if swept_until is None:
        return
    for state in states.values():
        engine.settle(state, swept_until)
