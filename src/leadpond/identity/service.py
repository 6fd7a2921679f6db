"""The identity pipeline stage and the graph operations behind it (merge, settings)."""

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, bindparam, func, insert, select, text, update
from sqlalchemy.orm import Session

from leadpond.db.engine import is_postgres
from leadpond.flow.batch import EVENT_COLUMNS, Batch, PipelineEvent, time_order
from leadpond.flow.hooks import people_changed
from leadpond.identity.config import IdentityConfig, load_config
from leadpond.identity.keys import IdentifierKey, event_identifiers
from leadpond.identity.merge import MergePlan, apply_merges
from leadpond.identity.models import DeviceSession, Identifier
from leadpond.identity.resolver import MemoryGraph, decide, session_holder, weak_only
from leadpond.identity.stored_graph import load_graph
from leadpond.ingest.models import DERIVED_SOURCE, OWNED_SOURCES, Event
from leadpond.kit.clock import utcnow
from leadpond.kit.scope import owned
from leadpond.profiles import service as profiles
from leadpond.profiles.models import Person

PIPELINE_ACTOR = "pipeline"


class PersonIdAllocator:
    """Ids for people created inside a batch, before their rows are written."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._pool: list[int] = []
        self._next_sqlite: int | None = None

    def next(self) -> int:
        if is_postgres(self._session):
            if not self._pool:
                self._pool = list(
                    self._session.scalars(
                        text(
                            "SELECT nextval(pg_get_serial_sequence('person', 'id')) "
                            "FROM generate_series(1, 256)"
                        )
                    )
                )
            return self._pool.pop(0)
        # SQLite: this transaction holds the only write lock, so max(id) cannot move under us.
        if self._next_sqlite is None:
            self._next_sqlite = int(self._session.scalar(select(func.max(Person.id))) or 0) + 1
        allocated, self._next_sqlite = self._next_sqlite, self._next_sqlite + 1
        return allocated


@dataclass
class _Pending:
    """Graph changes decided for one workspace's events, written at the end of the batch."""

    people: dict[int, datetime] = field(default_factory=dict)
    identifiers: list[dict[str, object]] = field(default_factory=list)
    merges: list[tuple[int, int, IdentifierKey | None, int]] = field(default_factory=list)
    sessions: list[dict[str, object]] = field(default_factory=list)
    # Weak identifiers taken by someone who identified on them earlier: key -> (person, event).
    transfers: dict[IdentifierKey, tuple[int, datetime, int]] = field(default_factory=dict)
    # Events already processed that a device session of this batch now explains.
    moved: dict[int, int] = field(default_factory=dict)
    moved_from: set[int] = field(default_factory=set)


def resolve_batch(batch: Batch) -> None:
    """Pipeline stage: resolve every event to a person, creating, attaching and merging.

    Events that name someone come first, in event time, so the device sessions they open are
    known before the anonymous events of the batch are given to whoever was on the device
    nearest in time; then the processed anonymous events those sessions now explain move
    (a late identify), whatever order the events arrived in.
    """
    session = batch.session
    allocator = PersonIdAllocator(session)
    named = _named_people(session, [e for e in batch.events if e.source in OWNED_SOURCES])
    for workspace_id, all_events in batch.by_workspace().items():
        events = [e for e in all_events if e.id not in named]
        config = load_config(session, workspace_id)
        keys_of = {event.id: event_identifiers(event, config) for event in events}
        window = timedelta(minutes=config.settings.device_session_minutes)
        graph = load_graph(
            session, workspace_id, (k for ks in keys_of.values() for k in ks), config
        )
        pending = _Pending()
        anonymous = {e.id for e in events if weak_only(keys_of[e.id], config)}
        in_time = sorted(events, key=time_order)
        for event in [e for e in in_time if e.id not in anonymous] + [
            e for e in in_time if e.id in anonymous
        ]:
            _resolve_event(event, keys_of[event.id], graph, config, allocator, pending)
        if pending.sessions or pending.transfers:
            _explain_processed(session, workspace_id, graph, config, pending, window)
        _write(session, workspace_id, graph, pending)
        for event in all_events:
            if event.id in named:
                event.person_id = event.origin_person_id = named[event.id]
            if event.person_id is not None:
                event.person_id = graph.live(event.person_id)
                batch.touched_people.add(event.person_id)


def _named_people(session: Session, events: list[PipelineEvent]) -> dict[int, int]:
    """The person each message event was written for (channels know whom they wrote to), as
    that person is today: no identifier is resolved for them, whatever batch they arrive in."""
    if not events:
        return {}
    named: dict[int, int] = {
        event_id: person_id
        for event_id, person_id in session.execute(
            select(Event.id, Event.person_id).where(Event.id.in_([e.id for e in events]))
        )
        if person_id is not None
    }
    survivor = {pid: pid for pid in named.values()}
    while merged := {
        person_id: into
        for person_id, into in session.execute(
            select(Person.id, Person.merged_into_id).where(
                Person.id.in_(set(survivor.values())), Person.merged_into_id.is_not(None)
            )
        )
    }:
        survivor = {pid: merged.get(now) or now for pid, now in survivor.items()}
    return {event_id: survivor[pid] for event_id, pid in named.items()}


def _explain_processed(
    session: Session,
    workspace_id: uuid.UUID,
    graph: MemoryGraph,
    config: IdentityConfig,
    pending: _Pending,
    window: timedelta,
) -> None:
    """Processed anonymous events that now belong to someone else than the person they were
    given to move to them: those near a session this batch opened (its identify arrived late),
    and every one on a device this batch took from its holder (it now has an earlier owner)."""
    spans: dict[str, tuple[datetime, datetime] | None] = {}
    for row in pending.sessions:
        key = (str(row["type"]), str(row["value"]))
        # A device only its holder ever identified on (a person's own browser): whatever the
        # order, its anonymous events are that person's already.
        on_it = {graph.live(p) for *_, p in graph.sessions.get(key, ())}
        if key[0] != "anonymous_id" or on_it == {graph.holder(key)}:
            continue
        at = cast(datetime, row["at"])
        known = spans.get(key[1], (at, at))
        if known is not None:
            spans[key[1]] = (min(known[0], at), max(known[1], at))
    for key in pending.transfers:
        if key[0] == "anonymous_id":
            # Anonymous events at any time may now be the new holder's.
            spans[key[1]] = None
    if not spans:
        return
    candidates = []
    for value, span in spans.items():
        scope = []
        if span is not None:
            scope = [Event.timestamp.between(span[0] - window, span[1] + window)]
        rows = session.execute(
            select(*EVENT_COLUMNS, Event.person_id).where(
                owned(Event, workspace_id),
                Event.anonymous_id == value,
                Event.user_id.is_(None),
                Event.processed_at.is_not(None),
                Event.source != DERIVED_SOURCE,
                *scope,
            )
        )
        candidates += [(PipelineEvent(*row[:-1]), row[-1]) for row in rows]
    for event, current in candidates:
        keys = event_identifiers(event, config)
        if current is None or not weak_only(keys, config):
            continue
        # As ``decide`` would give it now: whoever was on the device nearest in time, else
        # the device's holder.
        target = session_holder(keys, graph, config, event.timestamp)
        if target is None:
            target = next((h for k in keys if (h := graph.holder(k)) is not None), None)
        if target is not None and target != graph.live(current):
            pending.moved[event.id] = target
            pending.moved_from.add(current)


def _resolve_event(
    event: PipelineEvent,
    keys: list[IdentifierKey],
    graph: MemoryGraph,
    config: IdentityConfig,
    allocator: PersonIdAllocator,
    pending: _Pending,
) -> None:
    decision = decide(keys, graph, config, event.timestamp, event.message_id)
    if not decision.resolved:
        return
    person_id = decision.person_id
    if person_id is None:
        person_id = allocator.next()
        pending.people[person_id] = event.timestamp
        graph.ids_of[person_id] = {}
    for loser in decision.merge:
        graph.merge(person_id, loser)
        pending.merges.append((person_id, loser, decision.matched_by.get(loser), event.id))
    for key in decision.attach:
        graph.attach(person_id, key)
        pending.identifiers.append(
            {
                "type": key[0],
                "value": key[1],
                "origin_person_id": person_id,
                "first_seen_at": event.timestamp,
                "source_event_id": event.id,
            }
        )
    for key, holder in decision.take:
        graph.detach(holder, key)
        graph.attach(person_id, key)
        pending.transfers[key] = (person_id, event.timestamp, event.id)
    for key in decision.sessions:
        graph.open_session(key, person_id, event.timestamp, event.message_id)
        pending.sessions.append(
            {
                "type": key[0],
                "value": key[1],
                "origin": person_id,
                "at": event.timestamp,
                "message_id": event.message_id,
                "event_id": event.id,
            }
        )
    event.person_id = event.origin_person_id = person_id


def _write(
    session: Session, workspace_id: uuid.UUID, graph: MemoryGraph, pending: _Pending
) -> None:
    profiles.insert_blank_people(session, workspace_id, pending.people, utcnow())
    _insert_identifiers(session, workspace_id, graph, pending)
    _insert_device_sessions(session, workspace_id, graph, pending)
    _transfer_identifiers(session, workspace_id, graph, pending)
    moved_people = _move_events(session, graph, pending)
    if pending.transfers:
        moved_people |= {graph.live(p) for p, _, _ in pending.transfers.values()}
    # Whoever gained or lost processed events has the profile of the events they hold now: a
    # later stage reads ``last_seen_at`` as the last event already decided for them, so the
    # rules replay a late identify with the later events it took back (before, only a
    # transfer rebuilt them, and a late identify's own event was applied after those).
    if moved_people:
        for person in session.scalars(select(Person).where(Person.id.in_(moved_people))):
            profiles.rebuild_profile(session, person)
    plans = [MergePlan(*merge) for merge in pending.merges]
    apply_merges(session, workspace_id, plans, reason="identifier_match", actor=PIPELINE_ACTOR)
    people_changed(
        session,
        workspace_id,
        {p for plan in plans for p in (plan.survivor, plan.loser)} | moved_people,
    )


def _insert_identifiers(
    session: Session, workspace_id: uuid.UUID, graph: MemoryGraph, pending: _Pending
) -> None:
    if not pending.identifiers:
        return
    # A Core executemany: the ORM's bulk insert costs more than the statement here.
    session.execute(
        insert(cast(Table, Identifier.__table__)),
        [
            {
                **row,
                "workspace_id": workspace_id,
                "person_id": graph.live(int(str(row["origin_person_id"]))),
            }
            for row in pending.identifiers
        ],
    )


def _insert_device_sessions(
    session: Session, workspace_id: uuid.UUID, graph: MemoryGraph, pending: _Pending
) -> None:
    if not pending.sessions:
        return
    session.execute(
        insert(cast(Table, DeviceSession.__table__)),
        [
            {
                "workspace_id": workspace_id,
                "type": row["type"],
                "value": row["value"],
                "person_id": graph.live(int(str(row["origin"]))),
                "at": row["at"],
                "message_id": row["message_id"],
                "event_id": row["event_id"],
            }
            for row in pending.sessions
        ],
    )


def _transfer_identifiers(
    session: Session, workspace_id: uuid.UUID, graph: MemoryGraph, pending: _Pending
) -> None:
    """Weak identifiers taken from their holder now name whoever took them."""
    if not pending.transfers:
        return
    table = cast(Table, Identifier.__table__)
    session.execute(
        update(table).where(
            owned(table, bindparam("ws")),
            table.c.type == bindparam("id_type"),
            table.c.value == bindparam("id_value"),
        ),
        [
            {
                "ws": workspace_id,
                "id_type": key[0],
                "id_value": key[1],
                "person_id": graph.live(person),
                "origin_person_id": person,
                "first_seen_at": at,
                "source_event_id": event_id,
            }
            for key, (person, at, event_id) in pending.transfers.items()
        ],
    )


def _move_events(session: Session, graph: MemoryGraph, pending: _Pending) -> set[int]:
    """Give processed events to whoever they belong to now; the people they left and joined."""
    if not pending.moved:
        return set()
    table = cast(Table, Event.__table__)
    session.execute(
        update(table).where(table.c.id == bindparam("event_id")),
        [
            {
                "event_id": event_id,
                "person_id": graph.live(person),
                "origin_person_id": graph.live(person),
            }
            for event_id, person in pending.moved.items()
        ],
    )
    moved_people = {graph.live(p) for p in pending.moved.values()}
    return moved_people | {graph.live(p) for p in pending.moved_from}
