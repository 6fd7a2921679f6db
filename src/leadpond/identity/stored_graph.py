"""The identity graph a batch reaches, read from the database: who holds which identifier,
who was on which device when, and which people must stay apart."""

import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from leadpond.db.engine import is_postgres
from leadpond.identity.config import IdentityConfig
from leadpond.identity.keys import IdentifierKey
from leadpond.identity.models import DeviceSession, Identifier, PersonSeparation
from leadpond.identity.resolver import MemoryGraph
from leadpond.kit.scope import owned
from leadpond.profiles import service as profiles
from leadpond.profiles.models import Person


def _owners(
    session: Session, workspace_id: uuid.UUID, by_type: dict[str, list[str]]
) -> dict[IdentifierKey, int]:
    """Who holds each identifier."""
    owner: dict[IdentifierKey, int] = {}
    # One IN list per type: SQLite only uses the (workspace, type, value) index this way.
    for id_type, values in by_type.items():
        for start in range(0, len(values), 500):
            rows = session.execute(
                select(Identifier.value, Identifier.person_id).where(
                    owned(Identifier, workspace_id),
                    Identifier.type == id_type,
                    Identifier.value.in_(values[start : start + 500]),
                )
            )
            for value, person_id in rows:
                owner[(id_type, value)] = person_id
    return owner


def _device_sessions(
    session: Session, workspace_id: uuid.UUID, weak: dict[str, list[str]]
) -> list[tuple[IdentifierKey, datetime, str, int]]:
    """Every moment someone identified on these weak identifiers, naming who survives today."""
    found: list[tuple[IdentifierKey, datetime, str, int]] = []
    for id_type, values in weak.items():
        for start in range(0, len(values), 500):
            rows = session.execute(
                select(
                    DeviceSession.value,
                    DeviceSession.at,
                    DeviceSession.message_id,
                    DeviceSession.person_id,
                ).where(
                    owned(DeviceSession, workspace_id),
                    DeviceSession.type == id_type,
                    DeviceSession.value.in_(values[start : start + 500]),
                )
            )
            found += [((id_type, value), at, order, p) for value, at, order, p in rows]
    if found:
        # A session may name someone merged away since: point it at the survivor.
        survivors = session.execute(
            select(Person.id, func.coalesce(Person.merged_into_id, Person.id)).where(
                Person.id.in_({p for *_, p in found})
            )
        )
        live = {person_id: survivor for person_id, survivor in survivors}
        found = [(key, at, order, live.get(p, p)) for key, at, order, p in found]
    return found


def load_graph(
    session: Session,
    workspace_id: uuid.UUID,
    keys: Iterable[IdentifierKey],
    config: IdentityConfig,
) -> MemoryGraph:
    """The graph a set of identifiers reaches: holders, their identifiers, separations, and
    the device sessions of the weak ones (``config`` says which are weak).

    On PostgreSQL the people it reaches are locked first and the graph read again under the
    locks: two workers with batches about one person take turns, so neither overwrites the
    other's merge, traits or counts. (SQLite has one writer at a time already.)
    """
    by_type: dict[str, list[str]] = {}
    for id_type, value in set(keys):
        by_type.setdefault(id_type, []).append(value)
    weak = {t: values for t, values in by_type.items() if config.rule(t).weak}
    locked: set[int] = set()
    while True:
        owner = _owners(session, workspace_id, by_type)
        moments = _device_sessions(session, workspace_id, weak) if weak else []
        reached = set(owner.values()) | {p for *_, p in moments}
        if not is_postgres(session) or reached <= locked:
            break
        profiles.lock_people(session, reached - locked)
        locked |= reached
    graph = MemoryGraph(owner=owner)
    for key, at, order, person in moments:
        graph.open_session(key, person, at, order)
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
            owned(PersonSeparation, workspace_id)
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
