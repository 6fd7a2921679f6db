"""The person read model: traits kept up to date by the pipeline, and the reads the API serves."""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, cast

from sqlalchemy import Table, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from leadpond.db.engine import is_postgres
from leadpond.flow.batch import Batch, PipelineEvent, time_order, time_order_sql
from leadpond.identity.config import IdentityConfig, load_config
from leadpond.identity.models import Identifier
from leadpond.ingest.models import DERIVED_SOURCE, JOURNEY_SOURCE, MESSAGE_SOURCE, Event
from leadpond.kit.clock import isoformat
from leadpond.kit.errors import NotFound
from leadpond.kit.pagination import PageQuery, count
from leadpond.kit.scope import in_workspace, owned
from leadpond.profiles import touches
from leadpond.profiles.matching import match_key
from leadpond.profiles.models import Person
from leadpond.profiles.scope import people

TRAIT_CALLS = ("identify",)


class PersonNotFound(NotFound):
    code = "person_not_found"


def event_traits(event: PipelineEvent) -> dict[str, Any]:
    """The traits an event asserts about its person."""
    if event.type not in TRAIT_CALLS:
        return {}
    traits = event.payload.get("traits")
    return traits if isinstance(traits, dict) else {}


def touch_of_event(
    event_type: str,
    payload: dict[str, Any],
    source: str,
    at: datetime,
    message_id: str,
    grouping: touches.Grouping,
) -> dict[str, Any]:
    """The touch an event makes (``profiles.touches``), stamped with its time and message."""
    return touches.touch_of(event_type, payload, source, isoformat(at) or "", message_id, grouping)


def insert_blank_people(
    session: Session, workspace_id: uuid.UUID, person_ids: Iterable[int], now: datetime
) -> None:
    """Create people whose ids were allocated ahead (the pipeline and the rebuild do this)."""
    rows = [
        {
            "id": pid,
            "workspace_id": workspace_id,
            "traits": {},
            "trait_times": {},
            "event_count": 0,
            "created_at": now,
            "updated_at": now,
        }
        for pid in person_ids
    ]
    if rows:
        session.execute(insert(cast(Table, Person.__table__)), rows)


def trait_stamp(rank: int, at: datetime, message_id: str) -> str:
    """Orders competing values: a higher-ranked source first, then the newer event, then (at
    the same instant) the greater message id, so arrival order never decides."""
    return f"{rank:03d}|{isoformat(at)}|{message_id}"


class ProfileFields(Protocol):
    """The mutable profile fields, on a Person row or a plain working copy."""

    traits: dict[str, Any]
    trait_times: dict[str, str]
    match_key: str | None
    first_seen_at: datetime | None
    first_channel: str | None
    first_touch: dict[str, Any] | None
    last_touch: dict[str, Any] | None
    last_seen_at: datetime | None
    event_count: int


@dataclass
class ProfileDraft:
    """A working copy of a person's profile, written back in one bulk statement per batch."""

    id: int
    traits: dict[str, Any]
    trait_times: dict[str, str]
    match_key: str | None
    first_seen_at: datetime | None
    first_channel: str | None
    first_touch: dict[str, Any] | None
    last_touch: dict[str, Any] | None
    last_seen_at: datetime | None
    event_count: int


def apply_traits(person: ProfileFields, traits: dict[str, Any], stamp: str) -> bool:
    """Keep each trait's value with the highest stamp, so arrival order never changes the result.

    Returns True when a value changed (a newer stamp on the same value is kept but is no change).
    """
    changed = restamped = False
    current, times = dict(person.traits or {}), dict(person.trait_times or {})
    for name, value in traits.items():
        if value is None:
            continue
        kept = times.get(name)
        if kept is not None and stamp < kept:
            continue
        if current.get(name) != value:
            current[name], times[name] = value, stamp
            changed = True
        elif kept != stamp:
            times[name] = stamp
            restamped = True
    if changed or restamped:
        person.traits, person.trait_times = current, times
    if changed:
        person.match_key = match_key(current)
    return changed


def _observe(person: ProfileFields, event_time: datetime, touch: dict[str, Any]) -> None:
    person.event_count = (person.event_count or 0) + 1
    if person.first_seen_at is None or event_time < person.first_seen_at:
        person.first_seen_at = event_time
    if person.last_seen_at is None or event_time > person.last_seen_at:
        person.last_seen_at = event_time
    _touched(person, touches.first_of(person.first_touch, touch), touch)


def _touched(
    person: ProfileFields, first: dict[str, Any] | None, last: dict[str, Any] | None
) -> None:
    """Keep the first and last touch (the first's group is how they came)."""
    if first != person.first_touch:
        person.first_touch = first
        person.first_channel = first["group"] if first else None
    last = touches.last_of(person.last_touch, last)
    if last != person.last_touch:
        person.last_touch = last


_DRAFT_COLUMNS = (
    Person.id,
    Person.traits,
    Person.trait_times,
    Person.match_key,
    Person.first_seen_at,
    Person.first_channel,
    Person.first_touch,
    Person.last_touch,
    Person.last_seen_at,
    Person.event_count,
)


def load_drafts(session: Session, person_ids: Iterable[int]) -> dict[int, ProfileDraft]:
    """Working copies of these people's profiles (flushes pending ORM changes first)."""
    session.flush()
    wanted = list(set(person_ids))
    drafts: dict[int, ProfileDraft] = {}
    for start in range(0, len(wanted), 500):
        rows = session.execute(
            select(*_DRAFT_COLUMNS).where(Person.id.in_(wanted[start : start + 500]))
        )
        drafts.update({row[0]: ProfileDraft(*row) for row in rows})
    return drafts


def write_drafts(session: Session, drafts: Iterable[ProfileDraft], now: datetime) -> None:
    """Write working copies back in one bulk statement."""
    rows = [
        {
            "draft_id": d.id,
            "traits": d.traits,
            "trait_times": d.trait_times,
            "match_key": d.match_key,
            "first_seen_at": d.first_seen_at,
            "first_channel": d.first_channel,
            "first_touch": d.first_touch,
            "last_touch": d.last_touch,
            "last_seen_at": d.last_seen_at,
            "event_count": d.event_count,
            "updated_at": now,
        }
        for d in drafts
    ]
    if rows:
        table = cast(Table, Person.__table__)
        session.execute(update(table).where(table.c.id == bindparam("draft_id")), rows)
        # Person rows loaded earlier in this transaction must not shadow the bulk write.
        session.expire_all()


def apply_batch(batch: Batch) -> None:
    """Pipeline stage: fold the batch's events into their people's profiles (one bulk write)."""
    if not batch.touched_people:
        return
    session = batch.session
    drafts = load_drafts(session, batch.touched_people)
    batch.last_seen_before = {pid: draft.last_seen_at for pid, draft in drafts.items()}
    configs: dict[uuid.UUID, IdentityConfig] = {}
    groupings: dict[uuid.UUID, touches.Grouping] = {}
    for event in sorted(batch.events, key=time_order):
        if event.person_id is None:
            continue
        draft = drafts[event.person_id]
        if event.source == MESSAGE_SOURCE:
            continue  # a message sent to them, opened or not, is not their activity
        if event.source != JOURNEY_SOURCE:  # a journey's action: traits, but no activity
            grouping = groupings.get(event.workspace_id)
            if grouping is None:
                grouping = groupings[event.workspace_id] = touches.load_grouping(
                    session, event.workspace_id
                )
            touch = touch_of_event(
                event.type, event.payload, event.source, event.timestamp, event.message_id, grouping
            )
            _observe(draft, event.timestamp, touch)
        traits = event_traits(event)
        if traits:
            config = configs.get(event.workspace_id)
            if config is None:
                config = configs[event.workspace_id] = load_config(session, event.workspace_id)
            stamp = trait_stamp(config.source_rank(event.source), event.timestamp, event.message_id)
            if apply_traits(draft, traits, stamp):
                batch.traits_changed.add(draft.id)
    write_drafts(session, drafts.values(), batch.now)


def fold_profile(survivor: ProfileFields, loser: ProfileFields) -> None:
    """The survivor of a merge takes the loser's traits where they rank higher, and its history."""
    traits, times = dict(survivor.traits or {}), dict(survivor.trait_times or {})
    for name, value in (loser.traits or {}).items():
        stamp = (loser.trait_times or {}).get(name, "")
        if name not in times or stamp > times[name]:
            traits[name], times[name] = value, stamp
    survivor.traits, survivor.trait_times = traits, times
    survivor.match_key = match_key(traits)
    survivor.event_count = (survivor.event_count or 0) + (loser.event_count or 0)
    seen = loser.first_seen_at
    if seen is not None and (survivor.first_seen_at is None or seen < survivor.first_seen_at):
        survivor.first_seen_at = seen
    _touched(survivor, touches.first_of(survivor.first_touch, loser.first_touch), loser.last_touch)
    for seen in (loser.last_seen_at,):
        if seen is not None and (survivor.last_seen_at is None or seen > survivor.last_seen_at):
            survivor.last_seen_at = seen


def rebuild_profile(session: Session, person: Person) -> None:
    """Recompute a profile from its own events (after an unmerge moved some away)."""
    person.traits, person.trait_times, person.match_key = {}, {}, None
    person.event_count, person.first_seen_at, person.last_seen_at = 0, None, None
    person.first_channel, person.first_touch, person.last_touch = None, None, None
    config = load_config(session, person.workspace_id)
    grouping = touches.load_grouping(session, person.workspace_id)
    rows = session.execute(
        select(Event.type, Event.timestamp, Event.source, Event.payload, Event.message_id)
        .where(
            owned(Event, person.workspace_id),
            Event.person_id == person.id,
            # What leadpond derived (key events, segment entries) or sent them is not
            # activity, as live; journeys' actions only set traits.
            Event.source.not_in((DERIVED_SOURCE, MESSAGE_SOURCE)),
        )
        .order_by(*time_order_sql())
    )
    for event_type, timestamp, source, payload, message_id in rows:
        if source != JOURNEY_SOURCE:
            touch = touch_of_event(event_type, payload, source, timestamp, message_id, grouping)
            _observe(person, timestamp, touch)
        traits = payload.get("traits") if event_type in TRAIT_CALLS else None
        if isinstance(traits, dict) and traits:
            stamp = trait_stamp(config.source_rank(source), timestamp, message_id)
            apply_traits(person, traits, stamp)


def trait_history(
    session: Session, workspace_id: uuid.UUID, person_id: int, trait: str | None
) -> list[dict[str, Any]]:
    """Every value each trait was given, newest first, with the event and source that gave it."""
    rows = session.execute(
        select(Event.id, Event.timestamp, Event.source, Event.payload)
        .where(
            owned(Event, workspace_id),
            Event.person_id == person_id,
            Event.type.in_(TRAIT_CALLS),
        )
        .order_by(Event.timestamp.desc(), Event.id.desc())
    )
    history: list[dict[str, Any]] = []
    for event_id, timestamp, source, payload in rows:
        traits = payload.get("traits")
        if not isinstance(traits, dict):
            continue
        for name, value in traits.items():
            if value is not None and (trait is None or name == trait):
                history.append(
                    {
                        "trait": name,
                        "value": value,
                        "at": timestamp,
                        "event_id": event_id,
                        "source": source,
                    }
                )
    return history


def get_person(session: Session, workspace_id: uuid.UUID, person_id: int) -> Person:
    """The person, following merges to the survivor; 404 when not in this workspace."""
    seen: set[int] = set()
    person = session.get(Person, person_id)
    while person is not None and person.merged_into_id is not None and person.id not in seen:
        seen.add(person.id)
        person = session.get(Person, person.merged_into_id)
    if person is None or person.workspace_id != workspace_id:
        raise PersonNotFound(f"person {person_id} not found")
    return person


def find_people(
    session: Session,
    workspace_id: uuid.UUID,
    *,
    identifiers: dict[str, str],
    page: PageQuery,
) -> tuple[int, list[Person]]:
    """Live people holding every given identifier (type -> normalised value)."""
    stmt = people(workspace_id)
    for id_type, value in identifiers.items():
        holder = select(Identifier.person_id).where(
            owned(Identifier, workspace_id),
            Identifier.type == id_type,
            Identifier.value == value,
        )
        stmt = stmt.where(Person.id.in_(holder))
    total = count(session, stmt)
    rows = session.scalars(page.apply(stmt.order_by(Person.id))).all()
    return total, list(rows)


def identifiers_of(session: Session, person_ids: list[int]) -> dict[int, list[Identifier]]:
    """Each person's identifiers, in the order they were first seen."""
    found: dict[int, list[Identifier]] = {pid: [] for pid in person_ids}
    if not person_ids:
        return found
    rows = session.scalars(
        select(Identifier).where(Identifier.person_id.in_(person_ids)).order_by(Identifier.id)
    )
    for identifier in rows:
        found[identifier.person_id].append(identifier)
    return found


def timeline(
    session: Session, workspace_id: uuid.UUID, person_id: int, *, page: PageQuery
) -> tuple[int, list[Event]]:
    """The person's events across every channel, newest first."""
    events = in_workspace(Event, workspace_id).where(Event.person_id == person_id)
    total = session.scalar(events.with_only_columns(func.count(), maintain_column_froms=True)) or 0
    rows = session.scalars(
        page.apply(events.order_by(Event.timestamp.desc(), Event.id.desc()))
    ).all()
    return int(total), list(rows)


def lock_people(session: Session, person_ids: set[int]) -> None:
    """PostgreSQL row locks in id order, so concurrent workers queue instead of deadlocking
    (SQLite's single writer lock already serialises them)."""
    if not is_postgres(session):
        return
    ordered = sorted(person_ids)
    for start in range(0, len(ordered), 500):
        session.execute(
            select(Person.id)
            .where(Person.id.in_(ordered[start : start + 500]))
            .order_by(Person.id)
            .with_for_update()
        )


def recompute_touches(session: Session, workspace_id: uuid.UUID, person_ids: list[int]) -> None:
    """These people's first and last touch again from their history, with the workspace's
    current grouping (after it changed, or as a backfill)."""
    grouping = touches.load_grouping(session, workspace_id)
    found: dict[int, tuple[dict[str, Any] | None, dict[str, Any] | None]] = {
        pid: (None, None) for pid in person_ids
    }
    rows = session.execute(
        select(
            Event.person_id,
            Event.type,
            Event.timestamp,
            Event.source,
            Event.payload,
            Event.message_id,
        ).where(
            owned(Event, workspace_id),
            Event.person_id.in_(person_ids),
            Event.source.not_in((DERIVED_SOURCE, MESSAGE_SOURCE, JOURNEY_SOURCE)),
        )
    )
    for pid, event_type, timestamp, source, payload, message_id in rows:
        touch = touch_of_event(event_type, payload, source, timestamp, message_id, grouping)
        first, last = found[pid]
        found[pid] = (touches.first_of(first, touch), touches.last_of(last, touch))
    table = cast(Table, Person.__table__)
    session.execute(
        update(table).where(table.c.id == bindparam("touched_id")),
        [
            {
                "touched_id": pid,
                "first_channel": first["group"] if first else None,
                "first_touch": first,
                "last_touch": last,
            }
            for pid, (first, last) in found.items()
        ],
    )
    session.expire_all()
