"""Undoing a merge: the component an identifier brought in becomes its own person again."""

import uuid
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from leadpond.flow.hooks import people_changed
from leadpond.identity.keys import normalise_identifier
from leadpond.identity.models import Identifier, PersonMerge, PersonSeparation
from leadpond.ingest.models import Event
from leadpond.kit.clock import utcnow
from leadpond.kit.errors import Conflict, InvalidInput, NotFound
from leadpond.profiles import service as profiles
from leadpond.profiles.models import Person


class IdentifierNotOnPerson(NotFound):
    code = "identifier_not_found"


class NothingToUnmerge(Conflict):
    code = "nothing_to_unmerge"


@dataclass(frozen=True)
class UnmergeResult:
    person_id: int
    restored_person_id: int
    moved_identifiers: int
    moved_events: int


def _active_children(session: Session, workspace_id: uuid.UUID) -> dict[int, list[PersonMerge]]:
    rows = session.scalars(
        select(PersonMerge)
        .where(PersonMerge.workspace_id == workspace_id, PersonMerge.undone_at.is_(None))
        .order_by(PersonMerge.id)
    )
    children: dict[int, list[PersonMerge]] = {}
    for merge in rows:
        children.setdefault(merge.survivor_id, []).append(merge)
    return children


def _subtree(root: int, children: dict[int, list[PersonMerge]]) -> set[int]:
    members, stack = {root}, [root]
    while stack:
        for merge in children.get(stack.pop(), []):
            if merge.merged_id not in members:
                members.add(merge.merged_id)
                stack.append(merge.merged_id)
    return members


def unmerge(
    session: Session,
    workspace_id: uuid.UUID,
    person_id: int,
    id_type: str,
    raw_value: str,
    actor: str,
) -> UnmergeResult:
    """Split off the component that brought ``(id_type, value)`` in, and keep the two apart."""
    survivor = profiles.get_person(session, workspace_id, person_id)
    value = normalise_identifier(id_type, raw_value)
    if value is None:
        raise InvalidInput(f"{raw_value!r} is not a valid {id_type}", field="identifier.value")
    identifier = session.scalar(
        select(Identifier).where(
            Identifier.workspace_id == workspace_id,
            Identifier.type == id_type,
            Identifier.value == value,
            Identifier.person_id == survivor.id,
        )
    )
    if identifier is None:
        raise IdentifierNotOnPerson(f"person {survivor.id} holds no {id_type} {value!r}")
    children = _active_children(session, workspace_id)
    origin = identifier.origin_person_id
    branch = next(
        (m for m in children.get(survivor.id, []) if origin in _subtree(m.merged_id, children)),
        None,
    )
    if branch is None:
        raise NothingToUnmerge(
            f"{id_type} {value!r} was first seen on person {survivor.id} itself; "
            "no merge brought it in"
        )
    restored_id = branch.merged_id
    component = _subtree(restored_id, children)
    session.execute(
        update(Person)
        .where(Person.workspace_id == workspace_id, Person.id.in_(component - {restored_id}))
        .values(merged_into_id=restored_id)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(Person)
        .where(Person.id == restored_id)
        .values(merged_into_id=None)
        .execution_options(synchronize_session=False)
    )
    moved_identifiers = session.execute(
        update(Identifier)
        .where(
            Identifier.workspace_id == workspace_id,
            Identifier.person_id == survivor.id,
            Identifier.origin_person_id.in_(component),
        )
        .values(person_id=restored_id)
    ).rowcount  # type: ignore[attr-defined]
    moved_events = session.execute(
        update(Event)
        .where(
            Event.workspace_id == workspace_id,
            Event.person_id == survivor.id,
            Event.origin_person_id.in_(component),
        )
        .values(person_id=restored_id)
    ).rowcount  # type: ignore[attr-defined]
    now = utcnow()
    branch.undone_at, branch.undone_by = now, actor
    low, high = sorted((survivor.id, restored_id))
    session.add(
        PersonSeparation(
            workspace_id=workspace_id,
            person_a_id=low,
            person_b_id=high,
            reason="unmerge",
            actor=actor,
        )
    )
    session.flush()
    restored = session.get_one(Person, restored_id)
    session.refresh(restored)
    session.refresh(survivor)
    profiles.rebuild_profile(session, survivor)
    profiles.rebuild_profile(session, restored)
    people_changed(session, workspace_id, {survivor.id, restored_id})
    return UnmergeResult(survivor.id, restored_id, int(moved_identifiers), int(moved_events))


def merge_history(session: Session, workspace_id: uuid.UUID, person_id: int) -> list[PersonMerge]:
    """Merges into or out of this person and those folded into it, oldest first, undone ones too."""
    survivor = profiles.get_person(session, workspace_id, person_id)
    members = {survivor.id} | set(
        session.scalars(
            select(Person.id).where(
                Person.workspace_id == workspace_id, Person.merged_into_id == survivor.id
            )
        )
    )
    return list(
        session.scalars(
            select(PersonMerge)
            .where(
                PersonMerge.workspace_id == workspace_id,
                PersonMerge.survivor_id.in_(members) | PersonMerge.merged_id.in_(members),
            )
            .order_by(PersonMerge.id)
        )
    )
