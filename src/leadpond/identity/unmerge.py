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
from leadpond.kit.scope import in_workspace, owned
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
        in_workspace(PersonMerge, workspace_id)
        .where(PersonMerge.undone_at.is_(None))
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
    identifier = _held_identifier(session, workspace_id, survivor, id_type, raw_value)
    children = _active_children(session, workspace_id)
    branch = _merge_that_brought(identifier, survivor, children)
    restored_id = branch.merged_id
    component = _subtree(restored_id, children)
    moved_identifiers, moved_events = _split_off(
        session, workspace_id, survivor.id, restored_id, component
    )
    _keep_apart(session, workspace_id, branch, survivor.id, actor)
    session.flush()
    restored = session.get_one(Person, restored_id)
    session.refresh(restored)
    session.refresh(survivor)
    profiles.rebuild_profile(session, survivor)
    profiles.rebuild_profile(session, restored)
    people_changed(session, workspace_id, {survivor.id, restored_id})
    return UnmergeResult(survivor.id, restored_id, moved_identifiers, moved_events)


def _held_identifier(
    session: Session, workspace_id: uuid.UUID, survivor: Person, id_type: str, raw_value: str
) -> Identifier:
    """The identifier as the person holds it (400 when invalid, 404 when not theirs)."""
    value = normalise_identifier(id_type, raw_value)
    if value is None:
        raise InvalidInput(f"{raw_value!r} is not a valid {id_type}", field="identifier.value")
    identifier = session.scalar(
        in_workspace(Identifier, workspace_id).where(
            Identifier.type == id_type,
            Identifier.value == value,
            Identifier.person_id == survivor.id,
        )
    )
    if identifier is None:
        raise IdentifierNotOnPerson(f"person {survivor.id} holds no {id_type} {value!r}")
    return identifier


def _merge_that_brought(
    identifier: Identifier, survivor: Person, children: dict[int, list[PersonMerge]]
) -> PersonMerge:
    """The survivor's merge whose component first saw the identifier (409 when none did)."""
    origin = identifier.origin_person_id
    branch = next(
        (m for m in children.get(survivor.id, []) if origin in _subtree(m.merged_id, children)),
        None,
    )
    if branch is None:
        raise NothingToUnmerge(
            f"{identifier.type} {identifier.value!r} was first seen on person {survivor.id} "
            "itself; no merge brought it in"
        )
    return branch


def _split_off(
    session: Session,
    workspace_id: uuid.UUID,
    survivor_id: int,
    restored_id: int,
    component: set[int],
) -> tuple[int, int]:
    """The component lives again under ``restored_id`` and takes back what it brought in: the
    identifiers and events first seen on it (how many of each moved)."""
    session.execute(
        update(Person)
        .where(owned(Person, workspace_id), Person.id.in_(component - {restored_id}))
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
            owned(Identifier, workspace_id),
            Identifier.person_id == survivor_id,
            Identifier.origin_person_id.in_(component),
        )
        .values(person_id=restored_id)
    ).rowcount  # type: ignore[attr-defined]
    moved_events = session.execute(
        update(Event)
        .where(
            owned(Event, workspace_id),
            Event.person_id == survivor_id,
            Event.origin_person_id.in_(component),
        )
        .values(person_id=restored_id)
    ).rowcount  # type: ignore[attr-defined]
    return int(moved_identifiers), int(moved_events)


def _keep_apart(
    session: Session, workspace_id: uuid.UUID, branch: PersonMerge, survivor_id: int, actor: str
) -> None:
    """Mark the merge undone and separate the two people, so no later event merges them again."""
    branch.undone_at, branch.undone_by = utcnow(), actor
    low, high = sorted((survivor_id, branch.merged_id))
    session.add(
        PersonSeparation(
            workspace_id=workspace_id,
            person_a_id=low,
            person_b_id=high,
            reason="unmerge",
            actor=actor,
        )
    )


def merge_history(session: Session, workspace_id: uuid.UUID, person_id: int) -> list[PersonMerge]:
    """Merges into or out of this person and those folded into it, oldest first, undone ones too."""
    survivor = profiles.get_person(session, workspace_id, person_id)
    members = {survivor.id} | set(
        session.scalars(
            select(Person.id).where(
                owned(Person, workspace_id), Person.merged_into_id == survivor.id
            )
        )
    )
    # One read per side, not one with OR, each on its index: (workspace, survivor) for the
    # survivors; the merged side is scoped through its people, or SQLite without statistics
    # read every merge of the workspace by that index instead of the merged_id one.
    into = in_workspace(PersonMerge, workspace_id).where(PersonMerge.survivor_id.in_(members))
    out_of = (
        select(PersonMerge)
        .join(Person, Person.id == PersonMerge.merged_id)
        .where(owned(Person, workspace_id), PersonMerge.merged_id.in_(members))
    )
    found = {merge.id: merge for stmt in (into, out_of) for merge in session.scalars(stmt)}
    return [found[merge_id] for merge_id in sorted(found)]
