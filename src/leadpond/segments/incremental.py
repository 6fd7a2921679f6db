"""The live path: re-evaluate only the people a change touched, with the real-time evaluator.

The pipeline stage runs last in every batch (after identity, profiles, accounts and rules), so
it sees the batch's final tags, scores and stages. Merges, unmerges and rebuilds arrive through
``pipeline.hooks.people_changed``.
"""

import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

# Imported for their people_changed handlers: links and rule state must be recomputed before
# memberships are (handlers run in registration order).
from leadpond.accounts.models import PersonAccount
from leadpond.conditions.ast import Behaviour
from leadpond.conditions.evaluate import EventRecord, matches
from leadpond.flow.batch import Batch, time_order
from leadpond.kit.clock import utcnow
from leadpond.kit.scope import owned
from leadpond.profiles.models import Person
from leadpond.rules.state import chunks, event_name
from leadpond.segments import personas
from leadpond.segments.build import lock_segments
from leadpond.segments.definitions import ACCOUNT, PERSON, STATIC, WorkspaceSegments, load_segments
from leadpond.segments.membership import Reasons, record_changes
from leadpond.segments.models import Segment, SegmentAccountMember, SegmentMember
from leadpond.segments.snapshots import account_people, event_record, load_snapshots, needs_of

# The calls that can link a person to an account (``accounts.service.link_batch``).
_LINKING_CALLS = ("identify", "group")


def evaluate_people(
    session: Session,
    loaded: WorkspaceSegments,
    person_ids: Iterable[int],
    now: datetime,
    reasons: Reasons,
    *,
    pending: Iterable[tuple[int, EventRecord]] = (),
    only: Iterable[Segment] | None = None,
    persona_people: set[int] | None = None,
) -> int:
    """Re-evaluate dynamic person segments (and, unless ``only`` names segments, the kept
    personas) for these people; returns entries + exits written.

    People that are no longer live (merged away) leave every dynamic segment and persona.
    ``persona_people`` narrows the personas to those people (see ``personas.profile_only``).
    """
    segments = list(only) if only is not None else loaded.dynamic(PERSON)
    segments = [s for s in segments if s.id in loaded.conditions and s.level == PERSON]
    roles = (
        personas.kept(loaded)
        if only is None and personas.built(session, loaded.workspace_id)
        else {}
    )
    ids, pending = set(person_ids), list(pending)
    if (not segments and not roles) or not ids:
        return 0
    seg_nodes = [n for s in segments for n in loaded.expanded(loaded.conditions[s.id])]
    role_nodes = [n for condition in roles.values() for n in loaded.expanded(condition)]
    workspace_id, context = loaded.workspace_id, loaded.context
    # Everyone judged by both: one load of what either reads. A few judged by the personas (a
    # batch's changed profiles): snapshots of their own, the segments' may skip traits.
    together = persona_people is None
    snaps = load_snapshots(
        session,
        workspace_id,
        context,
        ids if segments or together else set(),
        needs_of(seg_nodes + (role_nodes if together else []), context),
        now,
        pending,
    )
    written = 0
    if roles:
        judged = ids if persona_people is None else ids & persona_people
        role_snaps = (
            snaps
            if together
            else load_snapshots(
                session, workspace_id, context, judged, needs_of(role_nodes, context), now, pending
            )
        )
        written += personas.record(session, workspace_id, roles, judged, role_snaps, now)
    if not segments:
        return written
    lock_segments(session, [s.id for s in segments])
    held: dict[int, set[int]] = {}
    for chunk in chunks(ids):
        for sid, pid in session.execute(
            select(SegmentMember.segment_id, SegmentMember.person_id).where(
                SegmentMember.person_id.in_(chunk),
                SegmentMember.segment_id.in_([s.id for s in segments]),
            )
        ):
            held.setdefault(sid, set()).add(pid)
    for segment in segments:
        condition = loaded.conditions[segment.id]
        inside = {pid for pid, snap in snaps.items() if matches(condition, snap)}
        had = held.get(segment.id, set())
        entered, exited = inside - had, had - inside
        record_changes(session, segment, entered, exited, now, reasons)
        written += len(entered) + len(exited)
    return written


def evaluate_accounts(
    session: Session,
    loaded: WorkspaceSegments,
    account_ids: Iterable[int],
    now: datetime,
    reason: str,
) -> int:
    """Re-evaluate account segments for these accounts; returns entries + exits written."""
    segments = [s for s in loaded.dynamic(ACCOUNT) if s.id in loaded.conditions]
    accounts = set(account_ids)
    if not segments or not accounts:
        return 0
    people = account_people(session, loaded.workspace_id, accounts)
    nodes = [n for s in segments for n in loaded.expanded(loaded.conditions[s.id])]
    snaps = load_snapshots(
        session,
        loaded.workspace_id,
        loaded.context,
        {p for ps in people.values() for p in ps},
        needs_of(nodes, loaded.context),
        now,
    )
    lock_segments(session, [s.id for s in segments])
    written = 0
    for segment in segments:
        condition = loaded.conditions[segment.id]
        inside = set()
        for account in accounts:
            answers = [matches(condition, snaps[p]) for p in people.get(account, ()) if p in snaps]
            if {
                "any": any(answers),
                "all": bool(answers) and all(answers),
                "none": not any(answers),
            }[segment.account_match or "any"]:
                inside.add(account)
        had: set[int] = set()
        for chunk in chunks(accounts):
            had.update(
                session.scalars(
                    select(SegmentAccountMember.account_id).where(
                        SegmentAccountMember.segment_id == segment.id,
                        SegmentAccountMember.account_id.in_(chunk),
                    )
                )
            )
        entered, exited = inside - had, had - inside
        record_changes(session, segment, entered, exited, now, reason)
        written += len(entered) + len(exited)
    return written


def accounts_of(session: Session, workspace_id: uuid.UUID, person_ids: Iterable[int]) -> set[int]:
    """The accounts these people are linked to."""
    found: set[int] = set()
    for chunk in chunks(person_ids):
        found.update(
            session.scalars(
                select(PersonAccount.account_id).where(
                    owned(PersonAccount, workspace_id), PersonAccount.person_id.in_(chunk)
                )
            )
        )
    return found


def with_colleagues(
    session: Session, loaded: WorkspaceSegments, person_ids: set[int], accounts: set[int]
) -> set[int]:
    """The people plus, when a segment reads accounts or colleagues, everyone at their accounts."""
    if not any(loaded.uses_accounts(s) for s in loaded.dynamic(PERSON)):
        return person_ids
    members = account_people(session, loaded.workspace_id, accounts)
    return person_ids | {p for ps in members.values() for p in ps}


def segment_batch(batch: Batch) -> None:
    """Pipeline stage: update the memberships of the people (and accounts) the batch touched."""
    session = batch.session
    for workspace_id, events in batch.by_workspace().items():
        mine = [e for e in events if e.person_id is not None]
        if not mine or _nothing_kept(session, workspace_id):
            continue
        loaded = load_segments(session, workspace_id)
        # The batch's events as records only when a segment counts events.
        history = _reads_history(loaded)
        reasons: dict[int, str] = {}
        pending: list[tuple[int, EventRecord]] = []
        for event in sorted(mine, key=time_order):
            assert event.person_id is not None
            if history:
                pending.append(
                    (
                        event.person_id,
                        event_record(
                            event.id, event.type, event.event, event.timestamp, event.payload
                        ),
                    )
                )
            name = event_name(event.type, event.event)
            reasons[event.person_id] = f"{name or event.type} (event {event.id})"
        people = set(reasons)
        accounts = _accounts_if_read(session, loaded, people)
        candidates = with_colleagues(session, loaded, people, accounts)
        at_changed = set[int]()
        if personas.read_accounts(loaded):
            at_changed = personas.colleagues_at_changed_accounts(
                session, workspace_id, people, batch.now
            )
            candidates |= at_changed
        persona_people = None
        if personas.profile_only(loaded):
            linked = {
                e.person_id for e in mine if e.person_id is not None and e.type in _LINKING_CALLS
            }
            new = {p for p, seen in batch.last_seen_before.items() if seen is None}
            persona_people = ((batch.traits_changed | linked | new) & people) | at_changed
        evaluate_people(
            session,
            loaded,
            candidates,
            batch.now,
            reasons,
            pending=pending,
            persona_people=persona_people,
        )
        evaluate_accounts(session, loaded, accounts, batch.now, "people at the account changed")


def people_updated(
    session: Session, workspace_id: uuid.UUID, person_ids: set[int], now: datetime, reason: str
) -> None:
    """Re-evaluate the memberships of people whose state changed outside a batch (the idle
    sweep moved their stage), and of their accounts."""
    if not person_ids or _nothing_kept(session, workspace_id):
        return
    loaded = load_segments(session, workspace_id)
    accounts = _accounts_if_read(session, loaded, person_ids)
    candidates = with_colleagues(session, loaded, person_ids, accounts)
    # A stage moved with time: personas of traits and accounts stay as they are.
    unmoved = set[int]() if personas.profile_only(loaded) else None
    evaluate_people(session, loaded, candidates, now, reason, persona_people=unmoved)
    evaluate_accounts(session, loaded, accounts, now, reason)


def _reads_history(loaded: WorkspaceSegments) -> bool:
    """True when a dynamic person segment counts events."""
    return any(
        isinstance(node, Behaviour)
        for s in loaded.dynamic(PERSON)
        if s.id in loaded.conditions
        for node in loaded.expanded(loaded.conditions[s.id])
    )


def _accounts_if_read(
    session: Session, loaded: WorkspaceSegments, person_ids: set[int]
) -> set[int]:
    """The people's accounts when account segments or colleague conditions need them, else
    none (``evaluate_accounts`` and ``with_colleagues`` read nothing else from them)."""
    account_level = any(s.id in loaded.conditions for s in loaded.dynamic(ACCOUNT))
    colleagues = any(loaded.uses_accounts(s) for s in loaded.dynamic(PERSON))
    if not account_level and not colleagues:
        return set()
    return accounts_of(session, loaded.workspace_id, person_ids)


def _nothing_kept(session: Session, workspace_id: uuid.UUID) -> bool:
    """True when the workspace keeps no memberships: no segment, no persona built."""
    if session.scalar(select(Segment.id).where(owned(Segment, workspace_id)).limit(1)):
        return False
    return not personas.built(session, workspace_id)


def people_reshaped(session: Session, workspace_id: uuid.UUID, person_ids: set[int]) -> None:
    """After a merge, unmerge or rebuild: static memberships follow the survivor, the rest is
    re-evaluated (merged-away people leave every segment)."""
    if _nothing_kept(session, workspace_id):
        return
    now = utcnow()
    loaded = load_segments(session, workspace_id)
    survivors: dict[int, int] = {}
    for chunk in chunks(person_ids):
        for pid, into in session.execute(
            select(Person.id, Person.merged_into_id).where(
                owned(Person, workspace_id), Person.id.in_(chunk)
            )
        ):
            if into is not None:
                survivors[pid] = into
    statics = [s for s in loaded.segments if s.kind == STATIC and s.level == PERSON]
    if survivors and statics:
        _move_static(session, statics, survivors, now)
    everyone = set(person_ids) | set(survivors.values())
    reasons = {pid: "identity changed (merge, unmerge or rebuild)" for pid in everyone}
    reasons.update({loser: f"merged into person {into}" for loser, into in survivors.items()})
    evaluate_people(session, loaded, everyone, now, reasons)
    evaluate_accounts(
        session, loaded, _accounts_if_read(session, loaded, everyone), now, "identity changed"
    )


def _move_static(
    session: Session, statics: list[Segment], survivors: dict[int, int], now: datetime
) -> None:
    for segment in statics:
        held = set(
            session.scalars(
                select(SegmentMember.person_id).where(
                    SegmentMember.segment_id == segment.id,
                    SegmentMember.person_id.in_(set(survivors) | set(survivors.values())),
                )
            )
        )
        losers = {p for p in held if p in survivors}
        if not losers:
            continue
        gained = {survivors[p] for p in losers} - held
        record_changes(session, segment, set(), losers, now, "merged into another person")
        record_changes(session, segment, gained, set(), now, "merged from a listed person")
