"""A few thousand users' events loaded straight into the log, and the checks that they were
processed exactly once.

Every event carries its user's ``userId``, so whatever order or worker processes them, each user
must end up as exactly one person: the checks test the worker, not identity heuristics. Events
arrive shuffled, so "newest trait wins" is exercised against arrival order too.
"""

import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select

from leadpond.db.engine import read_only, unit_of_work
from leadpond.identity.models import Identifier
from leadpond.ingest.models import Event
from leadpond.ingest.service import append_events
from leadpond.ingest.spec import normalise
from leadpond.kit.clock import isoformat, utcnow
from leadpond.profiles.models import Person

TRACK_NAMES = ("Viewed Pricing", "下载白皮书", "Webinar Joined", "Demo Requested")
PLANS = ("trial", "pro", "enterprise")


@dataclass(frozen=True)
class World:
    workspace_id: uuid.UUID
    users: int
    events: int


def _message(user: int, n: int, rng: random.Random, start: datetime) -> dict[str, Any]:
    at = start + timedelta(minutes=7 * n, seconds=user)
    message: dict[str, Any] = {
        "messageId": f"world-{user}-{n}",
        "userId": f"user-{user}",
        "anonymousId": f"anon-{user}",
        "timestamp": isoformat(at),
    }
    if n % 4 == 0:
        traits: dict[str, Any] = {"plan": PLANS[min(n // 4, len(PLANS) - 1)]}
        if n == 0:
            traits |= {"email": f"user-{user}@kehu{user % 97}.cn", "name": f"客户{user}"}
        return {**message, "type": "identify", "traits": traits}
    if n % 3 == 0:
        return {**message, "type": "page", "name": "定价", "properties": {"path": "/pricing"}}
    return {
        **message,
        "type": "track",
        "event": rng.choice(TRACK_NAMES),
        "properties": {"n": n, "来源": "crash-test"},
    }


def load_world(workspace_id: uuid.UUID, users: int, events_per_user: int, seed: int = 7) -> World:
    """Append ``users * events_per_user`` events, in one shuffled arrival order per seed."""
    rng = random.Random(seed)
    start = datetime(2026, 3, 2, 9, 0)
    raws = [_message(u, n, rng, start) for u in range(users) for n in range(events_per_user)]
    rng.shuffle(raws)
    received_at = utcnow()
    messages = [normalise(raw, received_at=received_at) for raw in raws]
    with unit_of_work() as session:
        for at in range(0, len(messages), 5000):
            append_events(session, workspace_id, messages[at : at + 5000], received_at)
    return World(workspace_id, users, len(messages))


def _own_events(world: World) -> tuple[ColumnElement[bool], ...]:
    """The world's messages only: rules may add derived events to the same timeline."""
    return (Event.workspace_id == world.workspace_id, Event.message_id.like("world-%"))


def processed_count(world: World) -> int:
    with read_only() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(Event)
                .where(*_own_events(world), Event.processed_at.is_not(None))
            )
            or 0
        )


def _live_people(world: World) -> dict[int, Person]:
    with read_only() as session:
        return {
            p.id: p
            for p in session.scalars(
                select(Person).where(
                    Person.workspace_id == world.workspace_id, Person.merged_into_id.is_(None)
                )
            )
        }


def _events_per_person(world: World) -> dict[int | None, int]:
    with read_only() as session:
        rows = session.execute(
            select(Event.person_id, func.count())
            .where(*_own_events(world), Event.processed_at.is_not(None))
            .group_by(Event.person_id)
        )
        return {person_id: int(count) for person_id, count in rows}


def assert_only_whole_batches(world: World) -> None:
    """After a crash: what is visible is exactly the committed batches, nothing half-applied."""
    with read_only() as session:
        half_done = session.scalar(
            select(func.count())
            .select_from(Event)
            .where(
                *_own_events(world),
                Event.processed_at.is_(None),
                Event.person_id.is_not(None),
            )
        )
    assert half_done == 0
    counts = {p.id: p.event_count for p in _live_people(world).values()}
    assert counts == {pid: n for pid, n in _events_per_person(world).items() if pid is not None}


def assert_processed_exactly_once(world: World) -> None:
    """Every event processed once, on its user's one person; identifiers unique."""
    assert processed_count(world) == world.events
    people = _live_people(world)
    per_person = _events_per_person(world)
    assert None not in per_person, "processed events without a person"
    counted = sum(p.event_count for p in people.values())
    assert counted == world.events, f"{world.events - counted} events lost or double-counted"
    assert {pid: p.event_count for pid, p in people.items()} == per_person
    with read_only() as session:
        holders = dict(
            session.execute(
                select(Identifier.value, Identifier.person_id).where(
                    Identifier.workspace_id == world.workspace_id, Identifier.type == "user_id"
                )
            ).all()
        )
        duplicates = session.execute(
            select(Identifier.type, Identifier.value)
            .where(Identifier.workspace_id == world.workspace_id)
            .group_by(Identifier.type, Identifier.value)
            .having(func.count() > 1)
        ).all()
        misplaced = session.scalar(
            select(func.count())
            .select_from(Event)
            .join(
                Identifier,
                (Identifier.workspace_id == Event.workspace_id)
                & (Identifier.type == "user_id")
                & (Identifier.value == Event.user_id),
            )
            .where(*_own_events(world), Event.person_id != Identifier.person_id)
        )
    assert duplicates == []
    assert len(holders) == world.users
    assert set(holders.values()) == set(people), "one live person per user, and no other"
    assert misplaced == 0
    for person in people.values():
        assert person.traits["plan"] == PLANS[-1], "the newest identify wins, whatever the order"


def snapshot(world: World) -> dict[str, tuple[Any, ...]]:
    """Each user's profile without database ids: what must not depend on who processed it."""
    people = _live_people(world)
    with read_only() as session:
        rows = session.execute(
            select(Identifier.person_id, Identifier.type, Identifier.value).where(
                Identifier.workspace_id == world.workspace_id
            )
        ).all()
    identifiers: dict[int, set[tuple[str, str]]] = {}
    for person_id, id_type, value in rows:
        identifiers.setdefault(person_id, set()).add((id_type, value))
    result: dict[str, tuple[Any, ...]] = {}
    for person_id, person in people.items():
        user = next(value for id_type, value in identifiers[person_id] if id_type == "user_id")
        result[user] = (
            sorted(identifiers[person_id]),
            person.event_count,
            person.traits,
            person.first_seen_at,
            person.last_seen_at,
        )
    return result
