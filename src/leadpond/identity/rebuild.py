"""Full rebuild: replay a workspace's whole history through the resolver and apply the difference.

Used after the identity rules change (a new blocked value, a tighter limit). The replay runs the
same ``decide`` as the pipeline, in event time (events that name someone first, then the
anonymous ones, as a batch does), so a rebuild under unchanged rules changes nothing. Person
ids are kept wherever a person still exists; only what differs is written.
"""

import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from leadpond.flow.batch import EVENT_COLUMNS, PipelineEvent, time_order_sql
from leadpond.flow.hooks import people_changed
from leadpond.identity.config import IdentityConfig, load_config
from leadpond.identity.keys import IdentifierKey, event_identifiers
from leadpond.identity.models import DeviceSession, Identifier, PersonMerge, PersonSeparation
from leadpond.identity.resolver import MemoryGraph, decide, weak_only
from leadpond.identity.service import PersonIdAllocator
from leadpond.ingest.models import DERIVED_SOURCE, OWNED_SOURCES, Event
from leadpond.kit.clock import utcnow
from leadpond.kit.scope import owned
from leadpond.profiles import service as profiles
from leadpond.profiles.models import Person
from leadpond.profiles.scope import live_in, people

_COLUMNS = (*EVENT_COLUMNS, Event.person_id, Event.origin_person_id)


@dataclass
class RebuildReport:
    events: int = 0
    identifiers: int = 0
    events_moved: int = 0
    people_created: int = 0
    people_retired: int = 0
    people_revived: int = 0
    identifiers_changed: int = 0
    seconds: float = 0.0


@dataclass
class _Replay:
    graph: MemoryGraph = field(default_factory=MemoryGraph)
    origin_of_event: dict[int, int] = field(default_factory=dict)
    current_of_event: dict[int, int | None] = field(default_factory=dict)
    original_of_event: dict[int, int | None] = field(default_factory=dict)
    creator: dict[int, int] = field(default_factory=dict)
    attached: dict[IdentifierKey, tuple[int, datetime, int]] = field(default_factory=dict)


def _separation_partners(session: Session, workspace_id: uuid.UUID) -> dict[int, set[int]]:
    partners: dict[int, set[int]] = {}
    for a, b in session.execute(
        select(PersonSeparation.person_a_id, PersonSeparation.person_b_id).where(
            owned(PersonSeparation, workspace_id)
        )
    ):
        partners.setdefault(a, set()).add(b)
        partners.setdefault(b, set()).add(a)
    return partners


@dataclass(frozen=True)
class _Seen:
    """What the replay needs of one event: its identifiers, not its payload."""

    event_id: int
    at: datetime
    message_id: str
    keys: list[IdentifierKey]
    current: int | None
    original: int | None


@dataclass
class _Allocation:
    """Virtual people as the replay creates them, and operators' separations between them."""

    partners: dict[int, set[int]]
    next_virtual: int = 1
    virtual_of_original: dict[int, int] = field(default_factory=dict)


def _replay(session: Session, workspace_id: uuid.UUID, chunk: int) -> _Replay:
    config = load_config(session, workspace_id)
    state = _Replay()
    # Operators' separations are between original people; replay them between the virtual
    # people those originals become, as soon as both exist.
    allocation = _Allocation(_separation_partners(session, workspace_id))
    query = (
        select(*_COLUMNS)
        .where(
            owned(Event, workspace_id),
            Event.processed_at.is_not(None),
            # Owned by their person: rules re-derive theirs, channels and journeys wrote for
            # that person.
            Event.source.not_in((DERIVED_SOURCE, *OWNED_SOURCES)),
        )
        .order_by(*time_order_sql())
        .execution_options(yield_per=chunk)
    )
    # As the pipeline decides: events that name someone in event time, then the anonymous ones
    # (given to whoever was on their device nearest in time, all sessions being known). One read
    # of the log: the anonymous events wait with their identifiers only, in the same order.
    anonymous: list[_Seen] = []
    for row in session.execute(query):
        event = PipelineEvent(*row[:-2])
        keys = event_identifiers(event, config)
        seen = _Seen(event.id, event.timestamp, event.message_id, keys, row[-2], row[-1])
        if weak_only(keys, config):
            anonymous.append(seen)
        else:
            _resolve(state, allocation, config, seen)
    for seen in anonymous:
        _resolve(state, allocation, config, seen)
    return state


def _resolve(state: _Replay, allocation: _Allocation, config: IdentityConfig, seen: _Seen) -> None:
    state.current_of_event[seen.event_id] = seen.current
    state.original_of_event[seen.event_id] = seen.original
    decision = decide(seen.keys, state.graph, config, seen.at, seen.message_id)
    if not decision.resolved:
        return
    person = decision.person_id
    if person is None:
        person = allocation.next_virtual
        allocation.next_virtual += 1
        state.creator[person] = seen.event_id
        state.graph.ids_of[person] = {}
        original = seen.original
        if original is not None and original not in allocation.virtual_of_original:
            allocation.virtual_of_original[original] = person
            for other in allocation.partners.get(original, ()):
                if other in allocation.virtual_of_original:
                    pair = (person, state.graph.live(allocation.virtual_of_original[other]))
                    state.graph.separations.add(frozenset(pair))
    for loser in decision.merge:
        state.graph.merge(person, loser)
    for key in decision.attach:
        state.graph.attach(person, key)
        state.attached[key] = (person, seen.at, seen.event_id)
    for key, holder in decision.take:
        state.graph.detach(holder, key)
        state.graph.attach(person, key)
        state.attached[key] = (person, seen.at, seen.event_id)
    for key in decision.sessions:
        state.graph.open_session(key, person, seen.at, seen.message_id)
    state.origin_of_event[seen.event_id] = person


def rebuild(session: Session, workspace_id: uuid.UUID, chunk: int = 20_000) -> RebuildReport:
    """Recompute the workspace's identity graph from its events and write what changed."""
    started = time.perf_counter()
    report = RebuildReport()
    state = _replay(session, workspace_id, chunk)
    report.events = len(state.current_of_event)
    report.identifiers = len(state.attached)

    # A virtual person takes the id of the person its first event created (merged or not), else
    # the one that event belongs to today, unless an earlier virtual person took it.
    allocator = PersonIdAllocator(session)
    real: dict[int, int] = {}
    claimed: set[int] = set()
    new_people: list[int] = []
    for virtual, creating_event in sorted(state.creator.items()):
        candidate = state.original_of_event.get(creating_event)
        if candidate is None or candidate in claimed:
            candidate = state.current_of_event.get(creating_event)
        if candidate is None or candidate in claimed:
            candidate = allocator.next()
            new_people.append(candidate)
        claimed.add(candidate)
        real[virtual] = candidate
    profiles.insert_blank_people(session, workspace_id, new_people, utcnow())
    report.people_created = len(new_people)

    affected: set[int] = set()
    moves: list[dict[str, object]] = []
    losses: dict[int, Counter[int]] = {}
    for event_id, current in state.current_of_event.items():
        origin = state.origin_of_event.get(event_id)
        target = real[state.graph.live(origin)] if origin is not None else None
        if target != current:
            moves.append(
                {
                    "id": event_id,
                    "person_id": target,
                    "origin_person_id": real[origin] if origin is not None else None,
                }
            )
            affected.update(p for p in (target, current) if p is not None)
            if current is not None and target is not None:
                losses.setdefault(current, Counter())[target] += 1
    for start in range(0, len(moves), chunk):
        session.execute(update(Event), moves[start : start + chunk])
    report.events_moved = len(moves)

    report.identifiers_changed = _write_identifiers(session, workspace_id, state, real)
    # The people the replay keeps are live: one merged away before (a merge the current rules
    # no longer make) is revived with its events, never left holding them unseen (or retired
    # into by its own survivor: a cycle of merges).
    kept = {real[v] for v in real if state.graph.live(v) == v}
    revived = _revive(session, workspace_id, kept)
    report.people_revived = len(revived)
    affected.update(revived)
    report.people_retired = _retire(session, workspace_id, kept, losses)
    _write_sessions(session, workspace_id, state, real)
    live_people = session.scalars(people(workspace_id).where(Person.id.in_(affected)))
    for person in live_people:
        profiles.rebuild_profile(session, person)
    people_changed(session, workspace_id, affected)
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def _write_sessions(
    session: Session, workspace_id: uuid.UUID, state: _Replay, real: dict[int, int]
) -> None:
    """The device sessions as the replay opened them, on the people it kept or made."""
    session.execute(delete(DeviceSession).where(owned(DeviceSession, workspace_id)))
    rows = [
        {
            "workspace_id": workspace_id,
            "type": key[0],
            "value": key[1],
            "person_id": real[state.graph.live(person)],
            "at": at,
            "message_id": order,
        }
        for key, moments in state.graph.sessions.items()
        for at, order, person in moments
    ]
    for start in range(0, len(rows), 20_000):
        session.execute(insert(DeviceSession), rows[start : start + 20_000])


def _write_identifiers(
    session: Session, workspace_id: uuid.UUID, state: _Replay, real: dict[int, int]
) -> int:
    existing = {
        (t, v): (p, o)
        for t, v, p, o in session.execute(
            select(
                Identifier.type, Identifier.value, Identifier.person_id, Identifier.origin_person_id
            ).where(owned(Identifier, workspace_id))
        )
    }
    inserts, updates, changed = [], [], 0
    for key, (virtual, seen_at, event_id) in state.attached.items():
        holder, origin = real[state.graph.live(virtual)], real[virtual]
        before = existing.pop(key, None)
        if before is None:
            inserts.append(
                {
                    "workspace_id": workspace_id,
                    "type": key[0],
                    "value": key[1],
                    "person_id": holder,
                    "origin_person_id": origin,
                    "first_seen_at": seen_at,
                    "source_event_id": event_id,
                }
            )
        elif before != (holder, origin):
            updates.append((key, holder, origin))
    for (id_type, value), holder, origin in updates:
        session.execute(
            update(Identifier)
            .where(
                owned(Identifier, workspace_id),
                Identifier.type == id_type,
                Identifier.value == value,
            )
            .values(person_id=holder, origin_person_id=origin)
        )
    for id_type, value in existing:  # no longer an identifier (blocked, or its event is gone)
        session.execute(
            delete(Identifier).where(
                owned(Identifier, workspace_id),
                Identifier.type == id_type,
                Identifier.value == value,
            )
        )
    if inserts:
        session.execute(insert(Identifier), inserts)
    changed = len(inserts) + len(updates) + len(existing)
    return changed


def _revive(session: Session, workspace_id: uuid.UUID, kept: set[int]) -> set[int]:
    """The kept people merged away before, live again."""
    ids = sorted(kept)
    revived: set[int] = set()
    for start in range(0, len(ids), 10_000):
        merged = session.scalars(
            select(Person.id).where(
                owned(Person, workspace_id),
                Person.id.in_(ids[start : start + 10_000]),
                Person.merged_into_id.is_not(None),
            )
        ).all()
        if merged:
            session.execute(
                update(Person)
                .where(owned(Person, workspace_id), Person.id.in_(merged))
                .values(merged_into_id=None)
                .execution_options(synchronize_session=False)
            )
            revived.update(merged)
    return revived


def _retire(
    session: Session, workspace_id: uuid.UUID, kept: set[int], losses: dict[int, Counter[int]]
) -> int:
    """People left with no events fold into whoever received most of them (recorded)."""
    retired = 0
    live = session.scalars(
        select(Person.id).where(live_in(workspace_id), Person.id.in_(list(losses)))
    ).all()
    for person_id in live:
        if person_id in kept:
            continue
        survivor = losses[person_id].most_common(1)[0][0]
        session.execute(
            update(Person)
            .where(owned(Person, workspace_id), Person.id == person_id)
            .values(merged_into_id=survivor)
            .execution_options(synchronize_session=False)
        )
        session.add(
            PersonMerge(
                workspace_id=workspace_id,
                survivor_id=survivor,
                merged_id=person_id,
                identifier_type=None,
                identifier_value=None,
                event_id=None,
                reason="rebuild",
                actor="rebuild",
            )
        )
        retired += 1
    return retired
