"""Defining segments (API and playbooks), keeping static lists, reading members."""

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import BaseModel
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from leadpond.conditions.ast import Segment as SegmentAtom
from leadpond.conditions.ast import walk
from leadpond.kit.clock import utcnow
from leadpond.kit.pagination import count
from leadpond.kit.scope import in_workspace, owned
from leadpond.segments.build import BuildReport, rebuild
from leadpond.segments.definitions import (
    ACCOUNT,
    DYNAMIC,
    PERSON,
    STATIC,
    InvalidSegment,
    SegmentExists,
    SegmentNotFound,
    WorkspaceSegments,
    check_condition,
    dump_condition,
    load_segments,
    parse_segment_condition,
)
from leadpond.segments.incremental import evaluate_people
from leadpond.segments.membership import record_changes
from leadpond.segments.models import Segment, SegmentAccountMember, SegmentChange, SegmentMember
from leadpond.segments.personas import rebuild_personas
from leadpond.segments.schemas import SegmentCreate, SegmentUpdate
from leadpond.segments.scope import segments
from leadpond.segments.static import live_people


def get_segment(session: Session, workspace_id: uuid.UUID, ref: str | int) -> Segment:
    """A segment by id or key, or 404."""
    scope = segments(workspace_id)
    if isinstance(ref, int) or (ref.isascii() and ref.isdigit()):
        number = int(ref)
        found = None
        if 0 < number < 2**63:
            found = session.scalar(scope.where(Segment.id == number))
    else:
        found = session.scalar(scope.where(Segment.key == ref))
    if found is None:
        raise SegmentNotFound(f"segment {ref} not found")
    return found


def list_segments(session: Session, workspace_id: uuid.UUID) -> list[Segment]:
    """Every segment of the workspace, oldest first."""
    return list(session.scalars(segments(workspace_id).order_by(Segment.id)))


def create_segment(
    session: Session, workspace_id: uuid.UUID, body: SegmentCreate, *, origin: str = "api"
) -> Segment:
    """Define a segment and build it: a dynamic one from its condition, a static one from
    ``body.people``."""
    if session.scalar(
        select(Segment.id).where(owned(Segment, workspace_id), Segment.key == body.key)
    ):
        raise SegmentExists(f"a segment with key {body.key!r} exists")
    _check_shape(body.kind, body.level, body.condition)
    segment = Segment(
        workspace_id=workspace_id,
        key=body.key,
        name=body.name,
        kind=body.kind,
        level=body.level,
        account_match=(body.account_match or "any") if body.level == ACCOUNT else None,
        origin=origin,
        member_count=0,
    )
    if body.condition is not None:
        _set_condition(session, workspace_id, segment, body.condition)
    session.add(segment)
    session.flush()
    if segment.kind == STATIC:
        if body.people:
            change_static(session, workspace_id, segment, body.people, [], "added on creation")
    else:
        build_segment(session, workspace_id, segment, reason="segment created")
    return segment


def update_segment(
    session: Session, workspace_id: uuid.UUID, segment: Segment, body: SegmentUpdate
) -> Segment:
    """Rename a segment or change its condition (then rebuild it)."""
    if body.name is not None:
        segment.name = body.name
    rebuild_needed = False
    if body.account_match is not None and segment.level == ACCOUNT:
        segment.account_match, rebuild_needed = body.account_match, True
    if body.condition is not None:
        if segment.kind == STATIC:
            raise InvalidSegment("a static segment has no condition")
        _set_condition(session, workspace_id, segment, body.condition)
        rebuild_needed = True
    segment.updated_at = utcnow()
    session.flush()
    if rebuild_needed:
        build_segment(session, workspace_id, segment, reason="segment changed")
    return segment


def delete_segment(session: Session, workspace_id: uuid.UUID, segment: Segment) -> None:
    """Remove a segment, its members and its history; refused while another segment uses it."""
    users = used_by(session, workspace_id, segment)
    if users:
        raise InvalidSegment(f"segment {segment.key!r} is used by: {', '.join(users)}")
    for table in (SegmentMember, SegmentAccountMember, SegmentChange):
        session.execute(delete(table).where(table.segment_id == segment.id))
    session.delete(segment)
    session.flush()


def used_by(session: Session, workspace_id: uuid.UUID, segment: Segment) -> list[str]:
    """The keys of the other segments whose conditions use this one."""
    loaded = load_segments(session, workspace_id)
    return [s.key for s in loaded.segments if s.id != segment.id and _refers(loaded, s, segment)]


def build_segment(
    session: Session, workspace_id: uuid.UUID, segment: Segment, *, reason: str = "full rebuild"
) -> BuildReport:
    """Full rebuild of one segment (set-based), recording every entry and exit."""
    session.flush()
    loaded = load_segments(session, workspace_id)
    return rebuild(session, loaded, segment, utcnow(), reason)


def change_static(
    session: Session,
    workspace_id: uuid.UUID,
    segment: Segment,
    add: Iterable[int],
    remove: Iterable[int],
    reason: str,
) -> tuple[int, int, list[int]]:
    """Add and remove people of a static segment; returns (added, removed, unknown ids).

    Merged-away ids count as their survivor. Dynamic segments that read this list are
    re-evaluated for the people who moved.
    """
    if segment.kind != STATIC:
        raise InvalidSegment("only static segments take members by hand")
    wanted, unknown_add = live_people(session, workspace_id, add)
    dropped, unknown_remove = live_people(session, workspace_id, remove)
    held = set(
        session.scalars(
            select(SegmentMember.person_id).where(
                SegmentMember.segment_id == segment.id,
                SegmentMember.person_id.in_(wanted | dropped),
            )
        )
    )
    entered, exited = wanted - held - dropped, dropped & held
    now = utcnow()
    record_changes(session, segment, entered, exited, now, reason)
    moved = entered | exited
    if moved:
        loaded = load_segments(session, workspace_id)
        dependents = loaded.static_dependents(segment.key)
        evaluate_people(session, loaded, moved, now, f"list {segment.key} changed", only=dependents)
    return len(entered), len(exited), sorted(unknown_add | unknown_remove)


def members(
    session: Session,
    workspace_id: uuid.UUID,
    segment: Segment,
    *,
    limit: int,
    offset: int = 0,
    after: int | None = None,
) -> tuple[int, list[tuple[int, Any]]]:
    """One page of (member id, since), lowest id first, and the segment's size.

    ``after`` pages by key (the members with a higher id), a range of the membership's primary
    key at any depth; ``offset`` skips rows one by one. The size is the segment's member count,
    which every entry and exit keeps (``record_changes``), not a count of the rows.
    """
    if segment.level == PERSON:
        table: Any = SegmentMember
        column: Any = SegmentMember.person_id
    else:
        table, column = SegmentAccountMember, SegmentAccountMember.account_id
    held = select(column, table.since).where(
        owned(table, workspace_id), table.segment_id == segment.id
    )
    if after is not None:
        held = held.where(column > after)
    rows = session.execute(held.order_by(column).limit(limit).offset(offset))
    return segment.member_count, [(row[0], row[1]) for row in rows]


def history(
    session: Session, workspace_id: uuid.UUID, segment: Segment, *, limit: int, offset: int
) -> tuple[int, list[SegmentChange]]:
    """Entries and exits, newest first."""
    changes = in_workspace(SegmentChange, workspace_id).where(
        SegmentChange.segment_id == segment.id
    )
    rows = session.scalars(
        changes.order_by(SegmentChange.at.desc(), SegmentChange.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return count(session, changes), list(rows)


def sync_from_playbook(
    session: Session,
    workspace_id: uuid.UUID,
    definitions: Sequence[BaseModel | dict[str, Any]],
    *,
    rebuild_all: bool = False,
) -> list[str]:
    """Make the playbook's ``segments`` section the workspace's playbook segments.

    New keys are created, changed ones updated and rebuilt, and playbook segments the playbook
    no longer lists are removed. Segments made through the API are never touched; a playbook
    key that an API segment already uses is an error.
    """
    wanted = _dependency_order([_definition(d) for d in definitions])
    existing = {s.key: s for s in list_segments(session, workspace_id)}
    changed: list[str] = []
    for body in wanted:
        found = existing.get(body.key)
        if found is None:
            create_segment(session, workspace_id, body, origin="playbook")
            changed.append(body.key)
            continue
        if found.origin != "playbook":
            raise SegmentExists(f"segment {body.key!r} exists and was not made by a playbook")
        same = (
            found.name == body.name
            and found.kind == body.kind
            and found.level == body.level
            and found.account_match
            == ((body.account_match or "any") if body.level == ACCOUNT else None)
            and _same_condition(found, body.condition)
        )
        if not same:
            changed.append(body.key)
            delete_members = found.kind != body.kind or found.level != body.level
            if delete_members:
                delete_segment(session, workspace_id, found)
                create_segment(session, workspace_id, body, origin="playbook")
            else:
                update = SegmentUpdate(
                    name=body.name, condition=body.condition, account_match=body.account_match
                )
                update_segment(session, workspace_id, found, update)
    listed = {b.key for b in wanted}
    leaving = [s for k, s in existing.items() if s.origin == "playbook" and k not in listed]
    while leaving:
        loaded = load_segments(session, workspace_id)
        # Users before the segments they use.
        free = [s for s in leaving if not any(_refers(loaded, o, s) for o in leaving if o is not s)]
        for segment in free or leaving[:1]:
            delete_segment(session, workspace_id, segment)
            changed.append(segment.key)
        leaving = [s for s in leaving if s.key not in changed]
    if rebuild_all:
        rebuild_workspace(session, workspace_id, "playbook applied", skip=set(changed))
    return changed


def rebuild_workspace(
    session: Session, workspace_id: uuid.UUID, reason: str, *, skip: set[str] | None = None
) -> list[BuildReport]:
    """Rebuild every segment of the workspace, recording who entered and left with ``reason``,
    and the persona memberships: after what they read was recomputed under them (a replay of
    history, a new playbook)."""
    loaded = load_segments(session, workspace_id)
    now = utcnow()
    reports = [
        rebuild(session, loaded, segment, now, reason)
        for segment in loaded.segments
        if not skip or segment.key not in skip
    ]
    rebuild_personas(session, loaded, now)
    return reports


def _dependency_order(bodies: list[SegmentCreate]) -> list[SegmentCreate]:
    """Segments that others refer to come first (the playbook compiler rejected loops)."""
    refers: dict[str, set[str]] = {}
    for body in bodies:
        used: set[str] = set()
        if body.condition is not None:
            parsed, _ = parse_segment_condition(body.condition)
            used = {n.key for n in walk(parsed) if isinstance(n, SegmentAtom)}
        refers[body.key] = used
    ordered: list[SegmentCreate] = []
    placed: set[str] = set()
    remaining = list(bodies)
    while remaining:
        ready = [b for b in remaining if not (refers[b.key] & {r.key for r in remaining}) - placed]
        ready = ready or remaining[:1]
        for body in ready:
            ordered.append(body)
            placed.add(body.key)
        remaining = [b for b in remaining if b.key not in placed]
    return ordered


def _definition(definition: BaseModel | dict[str, Any]) -> SegmentCreate:
    data = (
        definition.model_dump(by_alias=True, exclude_none=True)
        if isinstance(definition, BaseModel)
        else dict(definition)
    )
    condition = data.pop("if", None)
    static = bool(data.pop("static", False))
    kind = data.pop("kind", STATIC if static else DYNAMIC)
    return SegmentCreate.model_validate({**data, "kind": kind, "condition": condition})


def _same_condition(segment: Segment, condition: str | dict[str, Any] | None) -> bool:
    if condition is None:
        return segment.condition is None
    parsed, _ = parse_segment_condition(condition)
    return segment.condition == dump_condition(parsed)


def _check_shape(kind: str, level: str, condition: object) -> None:
    if kind == DYNAMIC and condition is None:
        raise InvalidSegment("a dynamic segment needs a condition")
    if kind == STATIC and condition is not None:
        raise InvalidSegment("a static segment has no condition: add members instead")
    if kind == STATIC and level == ACCOUNT:
        raise InvalidSegment("static segments hold people; account segments are dynamic")


def _set_condition(
    session: Session, workspace_id: uuid.UUID, segment: Segment, source: str | dict[str, Any]
) -> None:
    condition, text = parse_segment_condition(source)
    loaded = load_segments(session, workspace_id)
    condition = loaded.with_stage_keys(condition)
    check_condition(session, loaded, segment.key, condition, utcnow())
    segment.condition, segment.condition_source = dump_condition(condition), text


def _refers(loaded: WorkspaceSegments, user: Segment, used: Segment) -> bool:
    condition = loaded.conditions.get(user.id)
    return condition is not None and any(
        isinstance(node, SegmentAtom) and node.key == used.key
        for node in loaded.expanded(condition)
    )
