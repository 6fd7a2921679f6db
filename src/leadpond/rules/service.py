"""Rules in the pipeline: apply each batch's events to their people, and recompute people
that merges, unmerges and rebuilds reshaped."""

import uuid
from datetime import datetime

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from leadpond.flow.batch import Batch, PipelineEvent, time_order
from leadpond.ingest.models import OWNED_SOURCES, Event
from leadpond.kit.scope import owned
from leadpond.profiles.models import Person
from leadpond.rules.active import current_ruleset
from leadpond.rules.backfill import backfill, clear_rule_state
from leadpond.rules.engine import Engine
from leadpond.rules.models import PersonStage, PersonTag
from leadpond.rules.ruleset import Ruleset
from leadpond.rules.state import chunks, load_states, record_of, traits_before
from leadpond.rules.store import write_changes
from leadpond.rules.sweep import settle_to_watermark


def apply_batch(batch: Batch) -> None:
    """Pipeline stage: run every event of the batch through its workspace's rules, in time order."""
    session = batch.session
    for workspace_id, events in batch.by_workspace().items():
        mine = [e for e in events if e.person_id is not None]
        if not mine:
            continue
        ruleset = current_ruleset(session, workspace_id)
        if ruleset is None:
            continue
        mine = _replay_late(batch, workspace_id, ruleset, mine)
        if not mine:
            continue
        people = {e.person_id for e in mine if e.person_id is not None}
        since = min(e.timestamp for e in mine)
        states = load_states(session, workspace_id, ruleset, people, since=since, fresh=False)
        # People identified in this batch: conditions see their traits as of each event.
        identified = {e.person_id for e in mine if e.type == "identify" and e.person_id}
        for pid, traits in traits_before(session, identified).items():
            states[pid].snap.traits = traits
        for pid, state in states.items():
            state.last_active = batch.last_seen_before.get(pid)
        engine = Engine(ruleset, shared_answers=True)
        for event in sorted(mine, key=time_order):
            assert event.person_id is not None
            properties = event.payload.get("properties")
            record = record_of(event.id, event.type, event.event, event.timestamp, properties)
            asserted = event.payload.get("traits") if event.type == "identify" else None
            engine.apply(states[event.person_id], record, asserted)
        settle_to_watermark(session, engine, ruleset.version_id, states)
        write_changes(session, workspace_id, states, engine.out, batch.now)
        for pid, state in states.items():
            gone = {
                tag: at
                for tag, at in state.removed.items()
                if tag in state.initial_tags and tag not in state.tags
            }
            if gone:
                batch.tags_removed[pid] = gone


def _add_message_events(
    session: Session,
    workspace_id: uuid.UUID,
    events: list[PipelineEvent],
    decided: dict[int, datetime],
) -> None:
    """Channel events (``Email Opened``, ``SMS Delivered``…) and journeys' actions are decided
    too, though they leave ``last_seen_at`` alone (they are not the person's activity): a site
    call older than an open already processed for its person is late as well."""
    people = {e.person_id for e in events if e.person_id is not None}
    if not people:
        return
    since = min(e.timestamp for e in events)
    for ids in chunks(people):
        found = session.execute(
            select(Event.person_id, func.max(Event.timestamp))
            .where(
                owned(Event, workspace_id),
                Event.person_id.in_(ids),
                Event.timestamp >= since,
                Event.source.in_(OWNED_SOURCES),
                Event.processed_at.is_not(None),
            )
            .group_by(Event.person_id)
        )
        for pid, latest in found:
            if pid is not None and latest is not None:
                decided[pid] = max(latest, decided.get(pid, latest))


def _replay_late(
    batch: Batch, workspace_id: uuid.UUID, ruleset: Ruleset, events: list[PipelineEvent]
) -> list[PipelineEvent]:
    """People with an event older than what was already decided for them are replayed from
    the log with the batch's events (a backfill): older than an event already processed, or
    than an idle stage the sweep entered them in. So late arrivals (imports of old history,
    delayed devices) give what time order would have given. Returns the events left for the
    incremental path."""
    decided = {pid: seen for pid, seen in batch.last_seen_before.items() if seen is not None}
    _add_message_events(batch.session, workspace_id, events, decided)
    idle = [r.to for r in ruleset.stage_rules if r.idle is not None]
    if idle:
        people = {e.person_id for e in events if e.person_id is not None}
        for ids in chunks(people):
            for pid, entered in batch.session.execute(
                select(PersonStage.person_id, PersonStage.entered_at).where(
                    PersonStage.person_id.in_(ids), PersonStage.stage.in_(idle)
                )
            ):
                decided[pid] = max(entered, decided.get(pid, entered))
    late = {
        e.person_id
        for e in events
        if e.person_id is not None
        and (known := decided.get(e.person_id)) is not None
        # At the same instant as what was decided: the message ids order them, not arrival.
        and e.timestamp <= known
    }
    if not late:
        return events
    rows = [
        (
            e.id,
            e.person_id,
            e.type,
            e.event,
            e.timestamp,
            e.payload.get("properties"),
            e.payload.get("traits"),
            e.message_id,
        )
        for e in events
        if e.person_id in late
    ]
    backfill(batch.session, workspace_id, late, pending=rows, now=batch.now)
    return [e for e in events if e.person_id not in late]


def recompute_people(session: Session, workspace_id: uuid.UUID, person_ids: set[int]) -> None:
    """After a merge/unmerge/rebuild: manual tags follow the survivor, the rest is replayed."""
    survivors: dict[int, int] = {}
    live: set[int] = set()
    for ids in chunks(person_ids):
        for pid, merged_into in session.execute(
            select(Person.id, Person.merged_into_id).where(
                owned(Person, workspace_id), Person.id.in_(ids)
            )
        ):
            if merged_into is None:
                live.add(pid)
            else:
                survivors[pid] = merged_into
    if survivors:
        _move_manual_tags(session, workspace_id, survivors)
        for ids in chunks(survivors):
            clear_rule_state(session, workspace_id, ids)
    live |= set(survivors.values())
    if live:
        backfill(session, workspace_id, live)


def _move_manual_tags(session: Session, workspace_id: uuid.UUID, survivors: dict[int, int]) -> None:
    rows = session.scalars(
        select(PersonTag).where(
            owned(PersonTag, workspace_id),
            PersonTag.person_id.in_(set(survivors) | set(survivors.values())),
            PersonTag.source == "manual",
        )
    ).all()
    held = {(t.person_id, t.tag) for t in rows}
    moved = []
    for tag in rows:
        target = survivors.get(tag.person_id)
        if target is not None and (target, tag.tag) not in held:
            held.add((target, tag.tag))
            moved.append(
                {
                    "workspace_id": workspace_id,
                    "person_id": target,
                    "tag": tag.tag,
                    "category": tag.category,
                    "source": "manual",
                    "rule_id": None,
                    "event_id": tag.event_id,
                    "actor": tag.actor,
                    "added_at": tag.added_at,
                }
            )
    session.execute(
        delete(PersonTag).where(
            owned(PersonTag, workspace_id), PersonTag.person_id.in_(list(survivors))
        )
    )
    if moved:
        session.execute(insert(PersonTag), moved)
