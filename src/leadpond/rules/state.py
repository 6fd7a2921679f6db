"""Loading people's rule state (and the history their conditions need) for a set of people."""

import uuid
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from leadpond.accounts.facts import linked_accounts
from leadpond.accounts.models import PersonAccount
from leadpond.conditions.ast import TYPE_NAMES
from leadpond.conditions.evaluate import EventRecord, ProfileSnapshot
from leadpond.flow.batch import time_order_sql
from leadpond.ingest.models import DERIVED_SOURCE, Event, json_member
from leadpond.profiles.models import Person
from leadpond.profiles.scope import live
from leadpond.rules.engine import RULE_EVENT_PREFIX, PersonState, TagRow, merge_traits
from leadpond.rules.models import (
    PersonScore,
    PersonStage,
    PersonTag,
    ScoreLedger,
    StageChange,
)
from leadpond.rules.ruleset import Ruleset

CHUNK = 500
DERIVED = DERIVED_SOURCE


def properties_column(session: Session) -> Any:
    """Only an event's properties (contexts are large and conditions never read them)."""
    return json_member(session, "properties")


def chunks(ids: Iterable[int], size: int = CHUNK) -> Iterator[list[int]]:
    """Id lists small enough for an IN clause on every backend."""
    ordered = sorted(ids)
    for start in range(0, len(ordered), size):
        yield ordered[start : start + size]


def event_name(kind: str, name: str | None) -> str | None:
    """The name behaviour conditions know an event by ("Page Viewed" for page calls)."""
    return name if kind == "track" else TYPE_NAMES.get(kind)


def record_of(
    event_id: int, kind: str, name: str | None, at: datetime, properties: Any
) -> EventRecord:
    """An event (and its properties) as the engine and the conditions see it."""
    return EventRecord(
        event_name(kind, name) or "",
        at,
        properties if isinstance(properties, dict) else {},
        event_id,
    )


def name_filter(names: Iterable[str]) -> Any:
    """SQL for "the event is known by one of these names"."""
    names = set(names)
    types = [kind for kind, name in TYPE_NAMES.items() if name in names]
    track = and_(Event.type == "track", Event.event.in_(sorted(names)))
    return or_(track, Event.type.in_(types)) if types else track


def load_states(
    session: Session,
    workspace_id: uuid.UUID,
    ruleset: Ruleset,
    person_ids: set[int],
    *,
    since: datetime | None,
    fresh: bool,
) -> dict[int, PersonState]:
    """Each person's state; ``fresh`` (a replay) keeps only manual tags and loads no history.

    Live processing passes ``since`` (the batch's earliest event) so only the history the
    conditions can still see is read.
    """
    states: dict[int, PersonState] = {}
    for ids in chunks(person_ids):
        for pid, traits in session.execute(
            select(Person.id, Person.traits).where(Person.id.in_(ids))
        ):
            # A replay rebuilds traits from the identify calls as it goes.
            snap = ProfileSnapshot(
                now=datetime.min, context=ruleset.context, traits={} if fresh else traits or {}
            )
            states[pid] = PersonState(person_id=pid, snap=snap)
        # Plain rows: loading PersonTag objects costs more than the whole tag logic.
        tag_rows = session.execute(
            select(
                PersonTag.person_id,
                PersonTag.tag,
                PersonTag.category,
                PersonTag.source,
                PersonTag.rule_id,
                PersonTag.event_id,
                PersonTag.actor,
                PersonTag.added_at,
            ).where(
                PersonTag.person_id.in_(ids), *([PersonTag.source == "manual"] if fresh else [])
            )
        )
        for pid, tag, category, source, rule_id, event_id, actor, added_at in tag_rows:
            row = TagRow(tag, category, source, rule_id, event_id, actor, added_at)
            state = states[pid]
            state.tags[row.tag] = row
            state.initial_tags[row.tag] = row
            state.snap.tags.add(row.tag)
        if fresh:
            continue
        for pid, model, points, as_of in session.execute(
            select(
                PersonScore.person_id, PersonScore.model, PersonScore.points, PersonScore.as_of
            ).where(PersonScore.person_id.in_(ids))
        ):
            states[pid].snap.scores[model] = states[pid].initial_scores[model] = (points, as_of)
        for pid, stage, entered in session.execute(
            select(PersonStage.person_id, PersonStage.stage, PersonStage.entered_at).where(
                PersonStage.person_id.in_(ids)
            )
        ):
            states[pid].snap.stage, states[pid].stage_entered = stage, entered
            states[pid].initial_stage = (stage, entered)
        _load_revivals(session, ruleset, states, ids)
        _load_caps(session, ruleset, ids, states)
        _load_history(session, workspace_id, ruleset, ids, states, since)
    if ruleset.needs_accounts:
        load_accounts(session, workspace_id, ruleset, states)
    return states


def _load_revivals(
    session: Session, ruleset: Ruleset, states: dict[int, PersonState], ids: list[int]
) -> None:
    """For people in an idle stage (dormant), the stage that activity brings them back to."""
    idle = {r.to for r in ruleset.stage_rules if r.idle is not None}
    resting = [pid for pid in ids if states[pid].snap.stage in idle]
    if not resting:
        return
    rows = session.execute(
        select(StageChange.person_id, StageChange.from_stage, StageChange.to_stage)
        .where(StageChange.person_id.in_(resting))
        .order_by(StageChange.person_id, StageChange.at, StageChange.id)
    )
    for pid, from_stage, to_stage in rows:
        state = states[pid]
        if to_stage in idle and from_stage not in idle:
            state.revive_to = from_stage
        elif to_stage not in idle:
            state.revive_to = None


def _load_caps(
    session: Session, ruleset: Ruleset, ids: list[int], states: dict[int, PersonState]
) -> None:
    capped = [r.id for r in ruleset.score_rules if r.once or r.cap_points is not None]
    if not capped:
        return
    rows = session.execute(
        select(
            ScoreLedger.person_id, ScoreLedger.rule_id, ScoreLedger.at, ScoreLedger.points
        ).where(ScoreLedger.person_id.in_(ids), ScoreLedger.rule_id.in_(capped))
    )
    for pid, rule_id, at, points in rows:
        states[pid].caps.setdefault(rule_id, []).append((at, points))


def _load_history(
    session: Session,
    workspace_id: uuid.UUID,
    ruleset: Ruleset,
    ids: list[int],
    states: dict[int, PersonState],
    since: datetime | None,
) -> None:
    columns = (
        Event.id,
        Event.person_id,
        Event.type,
        Event.event,
        Event.timestamp,
        properties_column(session),
        Event.source,
    )
    # The ids alone scope the query (see backfill.clear_rule_state for why not workspace_id).
    scope = (
        Event.person_id.in_(ids),
        Event.processed_at.is_not(None),
    )
    by_window: dict[timedelta | None, list[str]] = {}
    for name, window in ruleset.history.items():
        by_window.setdefault(window, []).append(name)
    clauses = []
    for window, names in by_window.items():
        clause = name_filter(names)
        if window is not None and since is not None:
            clause = and_(clause, Event.timestamp > since - window)
        clauses.append(clause)
    seen: set[int] = set()
    queries = [
        select(*columns).where(
            *scope, Event.source == DERIVED, Event.message_id.startswith(RULE_EVENT_PREFIX)
        )
    ]
    if clauses:
        queries.append(select(*columns).where(*scope, Event.source != DERIVED, or_(*clauses)))
    for query in queries:
        for event_id, pid, kind, name, at, properties, source in session.execute(
            query.order_by(*time_order_sql())
        ):
            if event_id in seen:
                continue
            seen.add(event_id)
            record = record_of(event_id, kind, name, at, properties)
            state = states[pid]
            if source == DERIVED:
                rule_id = record.properties.get("rule_id")
                if isinstance(rule_id, str):
                    record.rule_id = rule_id
                    state.fired.setdefault(rule_id, []).append(at)
            if record.name in ruleset.history:
                state.snap.events.setdefault(record.name, []).append(record)


def load_accounts(
    session: Session, workspace_id: uuid.UUID, ruleset: Ruleset, states: dict[int, PersonState]
) -> None:
    """Each person's accounts, and everyone at them (as profile-only snapshots)."""
    links, accounts = linked_accounts(session, workspace_id, states)
    members: dict[int, list[int]] = {}
    for ids in chunks(accounts):
        rows = session.execute(
            select(PersonAccount.account_id, PersonAccount.person_id)
            .join(Person, Person.id == PersonAccount.person_id)
            .where(PersonAccount.account_id.in_(ids), live())
        )
        for aid, pid in rows:
            members.setdefault(aid, []).append(pid)
    colleagues = load_profiles(session, ruleset, {p for ps in members.values() for p in ps})
    for pid, state in states.items():
        state.snap.accounts = [accounts[a] for a in links.get(pid, [])]
        state.snap.account_people = [
            colleagues[p] for a in links.get(pid, []) for p in members.get(a, []) if p in colleagues
        ]


def load_profiles(
    session: Session, ruleset: Ruleset, person_ids: set[int]
) -> dict[int, ProfileSnapshot]:
    """Profile-only snapshots (traits, tags, scores, stage) of some people."""
    found: dict[int, ProfileSnapshot] = {}
    for ids in chunks(person_ids):
        for pid, traits in session.execute(
            select(Person.id, Person.traits).where(Person.id.in_(ids))
        ):
            found[pid] = ProfileSnapshot(
                now=datetime.min, context=ruleset.context, traits=traits or {}
            )
        for pid, tag in session.execute(
            select(PersonTag.person_id, PersonTag.tag).where(PersonTag.person_id.in_(ids))
        ):
            found[pid].tags.add(tag)
        for pid, model, points, as_of in session.execute(
            select(
                PersonScore.person_id, PersonScore.model, PersonScore.points, PersonScore.as_of
            ).where(PersonScore.person_id.in_(ids))
        ):
            found[pid].scores[model] = (points, as_of)
        for pid, stage in session.execute(
            select(PersonStage.person_id, PersonStage.stage).where(PersonStage.person_id.in_(ids))
        ):
            found[pid].stage = stage
    return found


def traits_before(session: Session, person_ids: set[int]) -> dict[int, dict[str, Any]]:
    """Each person's traits from their already processed identify calls, in time order."""
    folded: dict[int, dict[str, Any]] = {pid: {} for pid in person_ids}
    for ids in chunks(person_ids):
        rows = session.execute(
            select(Event.person_id, json_member(session, "traits"))
            .where(
                Event.person_id.in_(ids),
                Event.type == "identify",
                Event.processed_at.is_not(None),
            )
            .order_by(Event.person_id, *time_order_sql())
        )
        for pid, asserted in rows:
            folded[pid] = merge_traits(folded[pid], asserted)
    return folded
