"""The identity pipeline stage and the graph operations behind it (merge, settings)."""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam, func, insert, select, text, update
from sqlalchemy.orm import Session

from leadpond.db.engine import is_postgres
from leadpond.identity.config import IdentityConfig, load_config
from leadpond.identity.keys import IdentifierKey, event_identifiers
from leadpond.identity.merge import MergePlan, apply_merges
from leadpond.identity.models import Identifier, PersonSeparation
from leadpond.identity.resolver import MemoryGraph, decide
from leadpond.kit.clock import utcnow
from leadpond.pipeline.batch import Batch, PipelineEvent
from leadpond.pipeline.hooks import people_changed
from leadpond.profiles import service as profiles
from leadpond.profiles.models import Person

PIPELINE_ACTOR = "pipeline"


def _owners(
    session: Session, workspace_id: uuid.UUID, by_type: dict[str, list[str]]
) -> tuple[dict[IdentifierKey, int], dict[IdentifierKey, tuple[int, datetime]]]:
    """Who holds each identifier, and the open device sessions of the weak ones."""
    owner: dict[IdentifierKey, int] = {}
    opened: dict[IdentifierKey, tuple[int, datetime]] = {}
    # One IN list per type: SQLite only uses the (workspace, type, value) index this way.
    for id_type, values in by_type.items():
        for start in range(0, len(values), 500):
            rows = session.execute(
                select(
                    Identifier.value,
                    Identifier.person_id,
                    Identifier.session_person_id,
                    Identifier.session_at,
                ).where(
                    Identifier.workspace_id == workspace_id,
                    Identifier.type == id_type,
                    Identifier.value.in_(values[start : start + 500]),
                )
            )
            for value, person_id, session_person, session_at in rows:
                owner[(id_type, value)] = person_id
                if session_person is not None and session_at is not None:
                    opened[(id_type, value)] = (session_person, session_at)
    if opened:
        # A session may name someone merged away since: point it at the survivor.
        survivors = session.execute(
            select(Person.id, func.coalesce(Person.merged_into_id, Person.id)).where(
                Person.id.in_({person for person, _ in opened.values()})
            )
        )
        live = {person_id: survivor for person_id, survivor in survivors}
        opened = {key: (live.get(p, p), at) for key, (p, at) in opened.items()}
    return owner, opened


def load_graph(
    session: Session, workspace_id: uuid.UUID, keys: Iterable[IdentifierKey]
) -> MemoryGraph:
    """The graph a set of identifiers reaches: holders, their identifiers, separations.

    On PostgreSQL the people it reaches are locked first and the graph read again under the
    locks: two workers with batches about one person take turns, so neither overwrites the
    other's merge, traits or counts. (SQLite has one writer at a time already.)
    """
    by_type: dict[str, list[str]] = {}
    for id_type, value in set(keys):
        by_type.setdefault(id_type, []).append(value)
    locked: set[int] = set()
    while True:
        owner, sessions = _owners(session, workspace_id, by_type)
        reached = set(owner.values()) | {person for person, _ in sessions.values()}
        if not is_postgres(session) or reached <= locked:
            break
        profiles.lock_people(session, reached - locked)
        locked |= reached
    graph = MemoryGraph(owner=owner, sessions=sessions)
    holders = list(set(graph.owner.values()))
    for start in range(0, len(holders), 500):
        held = session.execute(
            select(Identifier.type, Identifier.value, Identifier.person_id).where(
                Identifier.person_id.in_(holders[start : start + 500])
            )
        )
        for id_type, value, person_id in held:
            graph.attach(person_id, (id_type, value))
    graph.separations.update(live_separations(session, workspace_id))
    return graph


def live_separations(session: Session, workspace_id: uuid.UUID) -> set[frozenset[int]]:
    """Separated pairs, mapped onto the people who survive today."""
    pairs = session.execute(
        select(PersonSeparation.person_a_id, PersonSeparation.person_b_id).where(
            PersonSeparation.workspace_id == workspace_id
        )
    ).all()
    if not pairs:
        return set()
    # Two steps: joined in one query, SQLite may walk every person of the workspace.
    survivors = session.execute(
        select(Person.id, func.coalesce(Person.merged_into_id, Person.id)).where(
            Person.id.in_({p for pair in pairs for p in pair})
        )
    )
    live = {person_id: survivor for person_id, survivor in survivors}
    found = {frozenset((live.get(a, a), live.get(b, b))) for a, b in pairs}
    return {pair for pair in found if len(pair) == 2}


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
    sessions: dict[IdentifierKey, tuple[int, datetime]] = field(default_factory=dict)


def resolve_batch(batch: Batch) -> None:
    """Pipeline stage: resolve every event to a person, creating, attaching and merging."""
    session = batch.session
    allocator = PersonIdAllocator(session)
    for workspace_id, events in batch.by_workspace().items():
        config = load_config(session, workspace_id)
        keys_of = {event.id: event_identifiers(event, config) for event in events}
        graph = load_graph(session, workspace_id, (k for ks in keys_of.values() for k in ks))
        pending = _Pending()
        for event in events:
            _resolve_event(event, keys_of[event.id], graph, config, allocator, pending)
        _write(session, workspace_id, graph, pending)
        for event in events:
            if event.person_id is not None:
                event.person_id = graph.live(event.person_id)
                batch.touched_people.add(event.person_id)


def _resolve_event(
    event: PipelineEvent,
    keys: list[IdentifierKey],
    graph: MemoryGraph,
    config: IdentityConfig,
    allocator: PersonIdAllocator,
    pending: _Pending,
) -> None:
    decision = decide(keys, graph, config, event.timestamp)
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
    for key in decision.sessions:
        graph.sessions[key] = pending.sessions[key] = (person_id, event.timestamp)
    event.person_id = event.origin_person_id = person_id


def _write(
    session: Session, workspace_id: uuid.UUID, graph: MemoryGraph, pending: _Pending
) -> None:
    profiles.insert_blank_people(session, workspace_id, pending.people, utcnow())
    if pending.identifiers:
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
    if pending.sessions:
        table = cast(Table, Identifier.__table__)
        session.execute(
            update(table).where(
                table.c.workspace_id == bindparam("ws"),
                table.c.type == bindparam("id_type"),
                table.c.value == bindparam("id_value"),
            ),
            [
                {
                    "ws": workspace_id,
                    "id_type": key[0],
                    "id_value": key[1],
                    "session_person_id": graph.live(person),
                    "session_at": at,
                }
                for key, (person, at) in pending.sessions.items()
            ],
        )
    plans = [MergePlan(*merge) for merge in pending.merges]
    apply_merges(session, workspace_id, plans, reason="identifier_match", actor=PIPELINE_ACTOR)
    people_changed(
        session, workspace_id, {p for plan in plans for p in (plan.survivor, plan.loser)}
    )
