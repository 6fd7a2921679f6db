"""Merges: enrollments follow the survivor."""

import uuid
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from leadpond.journeys.models import Enrollment, EnrollmentState
from leadpond.journeys.service import log_entry, write_log
from leadpond.kit.clock import utcnow
from leadpond.kit.scope import owned
from leadpond.profiles.models import Person
from leadpond.rules.state import chunks

A = EnrollmentState


def _merged_into(session: Session, workspace_id: uuid.UUID, ids: set[int]) -> dict[int, int]:
    """Of these people, the ones merged away and into whom."""
    found: dict[int, int] = {}
    for chunk in chunks(ids):
        for pid, into in session.execute(
            select(Person.id, Person.merged_into_id).where(
                owned(Person, workspace_id),
                Person.id.in_(chunk),
                Person.merged_into_id.is_not(None),
            )
        ):
            if into is not None:
                found[pid] = into
    return found


def people_reshaped(session: Session, workspace_id: uuid.UUID, person_ids: set[int]) -> None:
    """After a merge: the merged-away people's enrollments (active and past) follow the
    survivor, so re-entry rules see the survivor's whole history and a waiting step goes on for
    them. Where both were active in one journey, the survivor's enrollment stays and the other
    ends (``exited``, logged with the reason): a person is never in two places of a journey.
    An unmerge leaves enrollments with the survivor; the separated person enters anew, as the
    re-entry rule allows."""
    survivors: dict[int, int] = {}
    for ids in chunks(person_ids):
        for pid, into in session.execute(
            select(Person.id, Person.merged_into_id).where(
                owned(Person, workspace_id), Person.id.in_(ids), Person.merged_into_id.is_not(None)
            )
        ):
            if into is not None:
                survivors[pid] = into
    if not survivors:
        return
    # Follow chains (a merged into b merged into c) to the live survivor: the merges reachable
    # from the survivors read a step at a time, each person once. A cycle (no live survivor: a
    # corrupt graph) leaves those enrollments where they are rather than never ending.
    merges: dict[int, int] = {}
    frontier = seen = set(survivors.values())
    while frontier:
        step = _merged_into(session, workspace_id, frontier)
        merges.update(step)
        frontier = set(step.values()) - seen
        seen = seen | frontier
    followed: dict[int, int] = {}
    for pid, into in survivors.items():
        path: set[int] = set()
        while into in merges and into not in path:
            path.add(into)
            into = merges[into]
        if into not in merges:
            followed[pid] = into
    survivors = followed
    moving = list(
        session.execute(
            select(Enrollment.id, Enrollment.person_id, Enrollment.journey_key, Enrollment.state)
            .where(owned(Enrollment, workspace_id), Enrollment.person_id.in_(list(survivors)))
            .order_by(Enrollment.id)
        )
    )
    if not moving:
        return
    held: set[tuple[int, str]] = {
        (pid, key)
        for pid, key in session.execute(
            select(Enrollment.person_id, Enrollment.journey_key).where(
                owned(Enrollment, workspace_id),
                Enrollment.person_id.in_(set(survivors.values())),
                Enrollment.state == A.ACTIVE.value,
            )
        )
    }
    now = utcnow()
    entries: list[dict[str, Any]] = []
    ended: list[int] = []
    for eid, pid, key, state in moving:
        target = survivors[pid]
        if state == A.ACTIVE:
            if (target, key) in held:
                ended.append(eid)
                detail = {"merged_into": target, "reason": "the survivor is in this journey"}
                entries.append(log_entry(workspace_id, eid, "exited", "end", now, detail))
                continue
            held.add((target, key))
        entries.append(
            log_entry(workspace_id, eid, "merged", "merge", now, {"from": pid, "to": target})
        )
    if ended:
        session.execute(
            update(Enrollment)
            .where(Enrollment.id.in_(ended))
            .values(state=A.EXITED.value, step=None, ended_at=now)
        )
    for pid, target in survivors.items():
        session.execute(
            update(Enrollment)
            .where(owned(Enrollment, workspace_id), Enrollment.person_id == pid)
            .values(person_id=target)
        )
    write_log(session, entries)
