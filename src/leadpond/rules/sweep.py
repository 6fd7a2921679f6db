"""Idle stage rules between events: "dormant after 90 days without activity" happens on a day
when nothing arrives, so the worker sweeps for people whose quiet period has ended.

The sweep hands each candidate to the same ``Engine.settle`` a replay calls, so the change it
records (at the moment the quiet period ended, not when the sweep noticed) is the one a backfill
would record. Each playbook version keeps a watermark: a sweep only reads people whose last event
fell in the window since the previous one, through the index on ``(workspace_id, last_seen_at)``.
"""

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from leadpond.profiles.models import Person
from leadpond.profiles.service import lock_people
from leadpond.rules.active import current_ruleset
from leadpond.rules.engine import Engine
from leadpond.rules.models import PersonStage, PlaybookVersion
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


def sweep_idle(session: Session, workspace_id: uuid.UUID, now: datetime) -> SweepReport:
    """Apply the workspace's idle stage rules to everyone whose quiet period ended by ``now``."""
    report = SweepReport()
    ruleset = current_ruleset(session, workspace_id)
    if ruleset is None:
        return report
    engine = Engine(ruleset)
    if not engine.idle_rules:
        return report
    shortest = min(r.idle for r in engine.idle_rules if r.idle is not None)
    longest = max(r.idle for r in engine.idle_rules if r.idle is not None)
    swept_until = session.scalar(
        select(PlaybookVersion.idle_swept_until).where(PlaybookVersion.id == ruleset.version_id)
    )
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
            Person.workspace_id == workspace_id,
            Person.merged_into_id.is_(None),
            Person.last_seen_at <= now - shortest,
            PersonStage.stage.in_(movable),
        )
    )
    if swept_until is not None:
        query = query.where(Person.last_seen_at > swept_until - longest - OVERLAP)
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
