"""Replaying history through the current rules: the same result as if they had always existed."""

import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from leadpond.db.engine import read_only, unit_of_work
from leadpond.flow.batch import IDENTITY_CALLS, time_order_sql
from leadpond.ingest.models import Event, json_member
from leadpond.kit.clock import utcnow
from leadpond.profiles.models import Person
from leadpond.profiles.scope import live_in
from leadpond.rules.active import current_ruleset
from leadpond.rules.engine import RULE_EVENT_PREFIX, Engine
from leadpond.rules.models import PersonScore, PersonStage, PersonTag, ScoreLedger, StageChange
from leadpond.rules.stage_days import forget_people
from leadpond.rules.state import (
    DERIVED,
    chunks,
    load_states,
    properties_column,
    record_of,
)
from leadpond.rules.store import keep_person_stages, write_changes


@dataclass
class BackfillReport:
    people: int = 0
    events: int = 0
    tags: int = 0
    ledger_entries: int = 0
    stage_changes: int = 0
    key_events: int = 0
    seconds: float = 0.0

    def add(self, part: "BackfillReport") -> None:
        """Count a step's work in (``seconds`` is the caller's to set)."""
        self.people += part.people
        self.events += part.events
        self.tags += part.tags
        self.ledger_entries += part.ledger_entries
        self.stage_changes += part.stage_changes
        self.key_events += part.key_events


STEP_PEOPLE = 2000


def backfill_in_steps(
    workspace_id: uuid.UUID,
    *,
    url: str | None = None,
    step: int = STEP_PEOPLE,
    on_step: Callable[[int, int], None] | None = None,
) -> BackfillReport:
    """Backfill every live person of the workspace, one transaction per ``step`` people.

    The SQLite write lock is held for one step at a time, so ingest and the pipeline go on
    between steps; the rules version is already committed, so people the pipeline touches
    meanwhile get the same rules either way. A crash loses one step: running it again is
    idempotent. ``on_step(done, total)`` reports progress.
    """
    started = time.perf_counter()
    with read_only(url) as session:
        ids = sorted(session.scalars(select(Person.id).where(live_in(workspace_id))))
    report = BackfillReport()
    for start in range(0, len(ids), step):
        # What a backfill writes is derived from the log, like a pipeline batch.
        with unit_of_work(url, derived=True) as session:
            report.add(backfill(session, workspace_id, set(ids[start : start + step]), chunk=step))
        if on_step is not None:
            on_step(min(start + step, len(ids)), len(ids))
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def clear_rule_state(session: Session, workspace_id: uuid.UUID, person_ids: list[int]) -> None:
    """Forget what rules computed for these people of the workspace (manual tags stay), and
    uncount their stages from the funnel's rollups.

    The ids were chosen within the workspace, so they alone scope the deletes: adding
    ``workspace_id`` would make SQLite walk the workspace's index instead of the person's.
    """
    for table in (ScoreLedger, PersonScore):
        session.execute(delete(table).where(table.person_id.in_(person_ids)))
    stages = session.execute(
        delete(PersonStage)
        .where(PersonStage.person_id.in_(person_ids))
        .returning(PersonStage.person_id, PersonStage.stage, PersonStage.entered_at)
    ).all()
    keep_person_stages(session, [(pid, None) for pid, _, _ in stages])
    moves = session.execute(
        delete(StageChange)
        .where(StageChange.person_id.in_(person_ids))
        .returning(StageChange.person_id, StageChange.to_stage, StageChange.at)
    ).all()
    forget_people(
        session,
        workspace_id,
        [(pid, stage, at) for pid, stage, at in moves],
        [(stage, entered) for _, stage, entered in stages],
    )
    session.execute(
        delete(PersonTag).where(PersonTag.person_id.in_(person_ids), PersonTag.source != "manual")
    )
    # Merges and unmerges move derived events with the others, so person_id finds them all.
    session.execute(
        delete(Event).where(
            Event.person_id.in_(person_ids),
            Event.source == DERIVED,
            Event.message_id.startswith(RULE_EVENT_PREFIX),
        )
    )


# An event not yet in the log as processed: (id, person, type, name, time, properties, traits).
# id, person, type, name, timestamp, properties, traits, message id
PendingRow = tuple[int, int, str, str | None, datetime, Any, Any, str]


def backfill(
    session: Session,
    workspace_id: uuid.UUID,
    person_ids: set[int] | None = None,
    *,
    chunk: int = 2000,
    pending: Sequence[PendingRow] = (),
    now: datetime | None = None,
) -> BackfillReport:
    """Recompute tags, scores, stages and key events of these (default: all) live people.

    ``pending``: events of the batch being processed, replayed in time order with the log's.
    """
    started = time.perf_counter()
    report = BackfillReport()
    ruleset = current_ruleset(session, workspace_id)
    if person_ids is None:
        person_ids = set(session.scalars(select(Person.id).where(live_in(workspace_id))))
    now = now or utcnow()
    waiting: dict[int, list[PendingRow]] = {}
    for row in pending:
        waiting.setdefault(row[1], []).append(row)
    for ids in chunks(person_ids, chunk):
        clear_rule_state(session, workspace_id, ids)
        report.people += len(ids)
        if ruleset is None:
            continue
        states = load_states(session, workspace_id, ruleset, set(ids), since=None, fresh=True)
        engine = Engine(ruleset)
        rows = session.execute(
            select(
                Event.id,
                Event.person_id,
                Event.type,
                Event.event,
                Event.timestamp,
                properties_column(session),
                json_member(session, "traits"),
                Event.message_id,
            )
            .where(
                Event.person_id.in_(ids),
                Event.processed_at.is_not(None),
                Event.source != DERIVED,
            )
            .order_by(Event.person_id, *time_order_sql())
        )
        late = [row for pid in ids for row in waiting.get(pid, ())]
        if late:
            merged: list[Any] = [*rows, *late]
            rows = sorted(  # type: ignore[assignment]
                merged, key=lambda r: (r[1], r[4], r[2] not in IDENTITY_CALLS, r[7])
            )
        for event_id, pid, kind, name, at, properties, traits, _ in rows:
            report.events += 1
            record = record_of(event_id, kind, name, at, properties)
            engine.apply(states[pid], record, traits if kind == "identify" else None)
        for state in states.values():
            engine.settle(state, now)
        write_changes(session, workspace_id, states, engine.out, now)
        report.tags += sum(len(s.tags) for s in states.values())
        report.ledger_entries += len(engine.out.ledger)
        report.stage_changes += len(engine.out.stage_changes)
        report.key_events += len(engine.out.derived)
    report.seconds = round(time.perf_counter() - started, 3)
    return report
