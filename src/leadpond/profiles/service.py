"""The person read model: traits kept up to date by the pipeline, and the reads the API serves."""

import uuid
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from leadpond.identity.models import Identifier
from leadpond.ingest.models import Event
from leadpond.kit.clock import isoformat
from leadpond.kit.errors import NotFound
from leadpond.pipeline.batch import Batch, PipelineEvent
from leadpond.profiles.models import Person

TRAIT_CALLS = ("identify",)


class PersonNotFound(NotFound):
    code = "person_not_found"


def people(workspace_id: uuid.UUID) -> Select[Person]:
    """Every live (not merged-away) person of the workspace: the one scoping point for reads."""
    return select(Person).where(
        Person.workspace_id == workspace_id, Person.merged_into_id.is_(None)
    )


def event_traits(event: PipelineEvent) -> dict[str, Any]:
    """The traits an event asserts about its person."""
    if event.type not in TRAIT_CALLS:
        return {}
    traits = event.payload.get("traits")
    return traits if isinstance(traits, dict) else {}


def apply_traits(person: Person, traits: dict[str, Any], at: str) -> bool:
    """Newest value wins per trait, by event time, so arrival order never changes the result."""
    changed = False
    current, times = dict(person.traits or {}), dict(person.trait_times or {})
    for name, value in traits.items():
        if value is None:
            continue
        kept_at = times.get(name)
        newer = kept_at is None or at >= kept_at
        if newer and (current.get(name) != value or kept_at != at):
            current[name], times[name] = value, at
            changed = True
    if changed:
        person.traits, person.trait_times = current, times
    return changed


def apply_batch(batch: Batch) -> None:
    """Pipeline stage: fold the batch's events into their people's profiles."""
    if not batch.touched_people:
        return
    session = batch.session
    loaded = {
        p.id: p for p in session.scalars(select(Person).where(Person.id.in_(batch.touched_people)))
    }
    for event in batch.events:
        if event.person_id is None:
            continue
        person = loaded[event.person_id]
        person.event_count = (person.event_count or 0) + 1
        if person.first_seen_at is None or event.timestamp < person.first_seen_at:
            person.first_seen_at = event.timestamp
        if person.last_seen_at is None or event.timestamp > person.last_seen_at:
            person.last_seen_at = event.timestamp
        traits = event_traits(event)
        if traits:
            apply_traits(person, traits, isoformat(event.timestamp) or "")


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
    limit: int,
    offset: int,
) -> tuple[int, list[Person]]:
    """Live people holding every given identifier (type -> normalised value)."""
    stmt = people(workspace_id)
    for id_type, value in identifiers.items():
        holder = select(Identifier.person_id).where(
            Identifier.workspace_id == workspace_id,
            Identifier.type == id_type,
            Identifier.value == value,
        )
        stmt = stmt.where(Person.id.in_(holder))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(Person.id).limit(limit).offset(offset)).all()
    return int(total), list(rows)


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
    session: Session, workspace_id: uuid.UUID, person_id: int, *, limit: int, offset: int
) -> tuple[int, list[Event]]:
    """The person's events across every channel, newest first."""
    where = (Event.workspace_id == workspace_id, Event.person_id == person_id)
    total = session.scalar(select(func.count()).select_from(Event).where(*where)) or 0
    rows = session.scalars(
        select(Event)
        .where(*where)
        .order_by(Event.timestamp.desc(), Event.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return int(total), list(rows)
