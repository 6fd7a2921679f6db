"""People as the real-time evaluator sees them, loaded in bulk with only what conditions read."""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, null, or_, select
from sqlalchemy.orm import Session

from leadpond.accounts.facts import linked_accounts
from leadpond.accounts.models import PersonAccount
from leadpond.accounts.scope import live_links
from leadpond.conditions.ast import (
    AccountMatch,
    AccountPeople,
    Behaviour,
    Condition,
    Tag,
    Trait,
)
from leadpond.conditions.ast import (
    Segment as SegmentAtom,
)
from leadpond.conditions.evaluate import ConditionContext, EventRecord, ProfileSnapshot
from leadpond.ingest.models import Event
from leadpond.kit.scope import owned
from leadpond.profiles.models import Person
from leadpond.profiles.scope import live_in
from leadpond.rules.models import PersonScore, PersonStage, PersonTag
from leadpond.rules.state import chunks, name_filter, record_of
from leadpond.segments.models import SegmentMember


@dataclass
class Needs:
    """What a set of conditions reads beyond the profile (traits, tags, scores, stage)."""

    # event name -> how far back (None: all time)
    history: dict[str, timedelta | None] = field(default_factory=dict)
    accounts: bool = False
    colleagues: bool = False
    statics: bool = False
    # Whether traits and tags are read at all (a segment on scores and stages needs neither).
    traits: bool = True
    tags: bool = True


def needs_of(nodes: Iterable[Condition], context: ConditionContext) -> Needs:
    """The history, accounts, static memberships, traits and tags the (expanded) nodes read."""
    needs = Needs(traits=False, tags=False)
    for node in nodes:
        if isinstance(node, Trait):
            needs.traits = True
        elif isinstance(node, Tag):
            needs.tags = True
        elif isinstance(node, Behaviour):
            known = needs.history.get(node.event, timedelta(0))
            wider = None if node.within is None or known is None else max(known, node.within)
            needs.history[node.event] = wider
        elif isinstance(node, AccountMatch):
            needs.accounts = True
        elif isinstance(node, AccountPeople):
            needs.accounts = needs.colleagues = True
        elif isinstance(node, SegmentAtom) and node.key in context.static_segments:
            needs.statics = True
    return needs


def load_snapshots(
    session: Session,
    workspace_id: uuid.UUID,
    context: ConditionContext,
    person_ids: Iterable[int],
    needs: Needs,
    now: datetime,
    pending: Iterable[tuple[int, EventRecord]] = (),
) -> dict[int, ProfileSnapshot]:
    """Snapshots of the live people among ``person_ids``.

    ``pending`` are events of the running pipeline batch: their ``person_id`` is written only
    when the batch ends, so they are added here rather than read back.
    """
    snaps = _profiles(session, workspace_id, context, person_ids, now, needs)
    if needs.history:
        _history(session, workspace_id, snaps, needs.history, now)
        for pid, record in pending:
            if pid in snaps and record.name in needs.history:
                snaps[pid].events.setdefault(record.name, []).append(record)
    if needs.statics:
        statics = {sid: key for key, sid in context.static_segments.items()}
        for ids in chunks(snaps):
            for pid, sid in session.execute(
                select(SegmentMember.person_id, SegmentMember.segment_id).where(
                    SegmentMember.person_id.in_(ids), SegmentMember.segment_id.in_(list(statics))
                )
            ):
                snaps[pid].static_segments.add(statics[sid])
    if needs.accounts:
        _accounts(session, workspace_id, context, snaps, now, needs)
    return snaps


def event_record(
    event_id: int, kind: str, name: str | None, at: datetime, payload: Any
) -> EventRecord:
    """A stored event as behaviour conditions see it (its ``properties``)."""
    properties = payload.get("properties") if isinstance(payload, dict) else None
    return record_of(event_id, kind, name, at, properties)


def _profiles(
    session: Session,
    workspace_id: uuid.UUID,
    context: ConditionContext,
    person_ids: Iterable[int],
    now: datetime,
    needs: Needs,
) -> dict[int, ProfileSnapshot]:
    found: dict[int, ProfileSnapshot] = {}
    # Traits are decoded only when a condition reads them; the query also finds the live people.
    traits_column = Person.traits if needs.traits else null()
    for ids in chunks(person_ids):
        for pid, traits in session.execute(
            select(Person.id, traits_column).where(live_in(workspace_id), Person.id.in_(ids))
        ):
            found[pid] = ProfileSnapshot(now=now, context=context, traits=traits or {})
        if needs.tags:
            for pid, tag in session.execute(
                select(PersonTag.person_id, PersonTag.tag).where(PersonTag.person_id.in_(ids))
            ):
                if pid in found:
                    found[pid].tags.add(tag)
        for pid, model, points, as_of in session.execute(
            select(
                PersonScore.person_id, PersonScore.model, PersonScore.points, PersonScore.as_of
            ).where(PersonScore.person_id.in_(ids))
        ):
            if pid in found:
                found[pid].scores[model] = (points, as_of)
        for pid, stage in session.execute(
            select(PersonStage.person_id, PersonStage.stage).where(PersonStage.person_id.in_(ids))
        ):
            if pid in found:
                found[pid].stage = stage
    return found


def _history(
    session: Session,
    workspace_id: uuid.UUID,
    snaps: dict[int, ProfileSnapshot],
    history: dict[str, timedelta | None],
    now: datetime,
) -> None:
    by_window: dict[timedelta | None, list[str]] = {}
    for name, window in history.items():
        by_window.setdefault(window, []).append(name)
    clauses = [
        name_filter(names)
        if window is None
        else and_(name_filter(names), Event.timestamp > now - window)
        for window, names in by_window.items()
    ]
    columns = (Event.id, Event.person_id, Event.type, Event.event, Event.timestamp, Event.payload)
    for ids in chunks(snaps):
        rows = session.execute(
            select(*columns).where(
                owned(Event, workspace_id),
                Event.person_id.in_(ids),
                Event.timestamp <= now,
                or_(*clauses),
            )
        )
        for event_id, pid, kind, name, at, payload in rows:
            record = event_record(event_id, kind, name, at, payload)
            snaps[pid].events.setdefault(record.name, []).append(record)


def _accounts(
    session: Session,
    workspace_id: uuid.UUID,
    context: ConditionContext,
    snaps: dict[int, ProfileSnapshot],
    now: datetime,
    needs: Needs,
) -> None:
    links, accounts = linked_accounts(session, workspace_id, snaps)
    for pid, snap in snaps.items():
        snap.accounts = [accounts[a] for a in links.get(pid, [])]
    if not needs.colleagues:
        return
    members = account_people(session, workspace_id, accounts)
    everyone = _profiles(
        session, workspace_id, context, {p for ps in members.values() for p in ps}, now, needs
    )
    for pid, snap in snaps.items():
        snap.account_people = [
            everyone[p] for a in links.get(pid, []) for p in members.get(a, []) if p in everyone
        ]


def account_people(
    session: Session, workspace_id: uuid.UUID, account_ids: Iterable[int]
) -> dict[int, list[int]]:
    """The live people linked to each account."""
    members: dict[int, list[int]] = {}
    for ids in chunks(account_ids):
        rows = session.execute(
            live_links(workspace_id, PersonAccount.account_id, PersonAccount.person_id).where(
                PersonAccount.account_id.in_(ids)
            )
        )
        for aid, pid in rows:
            members.setdefault(aid, []).append(pid)
    return members
