"""A workspace's whole processed state, in terms that do not depend on how it was processed.

Invariant 2 says the same events give the same profiles at any batch size, arrival order within
the lateness window, worker count, or through a backfill. Person ids, event ids and processing
times do depend on those, so this snapshot names a person by the messages they hold and an event
by its message id, and leaves processing times out. Two processings of the same events agree
when their snapshots are equal; ``differing`` counts the people who do not.

Derived events are those the rules derive (key events, thresholds), which happen at the time of
the event that caused them. Segment Entered/Exited events are left out: they are stamped when
leadpond noticed the change (a segment with a window moves with the clock), so a backlog
processed in one batch notices fewer transitions than the same events one by one; where people
end up is compared through their segment memberships.
"""

import hashlib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from leadpond.accounts.models import Account, PersonAccount
from leadpond.identity.models import Identifier
from leadpond.ingest.models import DERIVED_SOURCE, Event
from leadpond.kit.clock import isoformat
from leadpond.kit.scope import owned
from leadpond.profiles.models import Person
from leadpond.profiles.scope import live_in
from leadpond.rules.engine import RULE_EVENT_PREFIX
from leadpond.rules.models import PersonScore, PersonStage, PersonTag, ScoreLedger, StageChange
from leadpond.segments.models import Segment, SegmentMember

# One person's state: each part a sorted list of plain values.
PersonState = dict[str, Any]
# The messages a person holds (sorted) -> their state.
Snapshot = dict[tuple[str, ...], PersonState]


def _at(value: datetime | None) -> str | None:
    return isoformat(value)


def snapshot(session: Session, workspace_id: uuid.UUID) -> Snapshot:
    """Every live person of the workspace with everything the pipeline derived for them."""
    message_of, held, derived = _events(session, workspace_id)
    parts = _blank_states(session, workspace_id, derived)
    _add_graph_parts(session, workspace_id, parts)
    _add_rule_parts(session, workspace_id, parts, message_of)
    _add_stages(session, workspace_id, parts, message_of)
    found: Snapshot = {}
    for pid, state in parts.items():
        for part, value in state.items():
            if isinstance(value, list) and part not in ("stage", "activity", "touches"):
                state[part] = sorted(value, key=_key)
        found[tuple(sorted(held.get(pid, [])))] = state
    return found


def _events(
    session: Session, workspace_id: uuid.UUID
) -> tuple[dict[int, str], dict[int, list[str]], dict[int, list[Any]]]:
    """Each event's message id; the messages each person holds; the rule-derived events of
    each person, their cause named by its message."""
    message_of: dict[int, str] = {}
    held: dict[int, list[str]] = {}
    derived: dict[int, list[Any]] = {}
    rows = session.execute(
        select(
            Event.id,
            Event.message_id,
            Event.person_id,
            Event.source,
            Event.event,
            Event.timestamp,
            Event.payload,
        ).where(owned(Event, workspace_id))
    )
    derived_rows = []
    for event_id, message_id, person_id, source, name, at, payload in rows:
        message_of[event_id] = message_id
        if person_id is None:
            continue
        if source == DERIVED_SOURCE:
            if message_id.startswith(RULE_EVENT_PREFIX):
                derived_rows.append((person_id, name, at, payload))
        else:
            held.setdefault(person_id, []).append(message_id)
    for person_id, name, at, payload in derived_rows:
        properties = payload.get("properties") if isinstance(payload, dict) else None
        properties = dict(properties) if isinstance(properties, dict) else {}
        cause = properties.pop("cause_event_id", None)
        if isinstance(cause, int):
            properties["cause"] = message_of.get(cause)
        derived.setdefault(person_id, []).append([name, _at(at), properties])
    return message_of, held, derived


def _blank_states(
    session: Session, workspace_id: uuid.UUID, derived: dict[int, list[Any]]
) -> dict[int, PersonState]:
    """Each live person's traits, activity and derived events, the other parts empty."""
    people = session.execute(
        select(
            Person.id,
            Person.traits,
            Person.event_count,
            Person.first_seen_at,
            Person.first_channel,
            Person.last_seen_at,
            Person.first_touch,
            Person.last_touch,
        ).where(live_in(workspace_id))
    )
    return {
        pid: {
            "traits": traits or {},
            # The rules read last_seen_at as the last event already decided for a person.
            "activity": [count, _at(first), channel, _at(last)],
            "touches": [first_touch, last_touch],
            "identifiers": [],
            "tags": [],
            "scores": [],
            "ledger": [],
            "stage": None,
            "stage_history": [],
            "derived_events": sorted(derived.get(pid, []), key=_key),
            "segments": [],
            "accounts": [],
        }
        for pid, traits, count, first, channel, last, first_touch, last_touch in people
    }


def _add(parts: dict[int, PersonState], part: str, pid: int, value: Any) -> None:
    if pid in parts:
        parts[pid][part].append(value)


def _add_graph_parts(session: Session, ws: uuid.UUID, parts: dict[int, PersonState]) -> None:
    """Identifiers, segment memberships and accounts."""
    for pid, id_type, value in session.execute(
        select(Identifier.person_id, Identifier.type, Identifier.value).where(owned(Identifier, ws))
    ):
        _add(parts, "identifiers", pid, [id_type, value])
    for pid, key in session.execute(
        select(SegmentMember.person_id, Segment.key)
        .join(Segment, Segment.id == SegmentMember.segment_id)
        .where(owned(SegmentMember, ws))
    ):
        _add(parts, "segments", pid, key)
    for pid, name in session.execute(
        select(PersonAccount.person_id, Account.name)
        .join(Account, Account.id == PersonAccount.account_id)
        .where(owned(Account, ws))
    ):
        _add(parts, "accounts", pid, name)


def _add_rule_parts(
    session: Session, ws: uuid.UUID, parts: dict[int, PersonState], message_of: dict[int, str]
) -> None:
    """Tags, scores and the score ledger, events named by their message."""
    for pid, tag, source, rule_id, event_id, added_at in session.execute(
        select(
            PersonTag.person_id,
            PersonTag.tag,
            PersonTag.source,
            PersonTag.rule_id,
            PersonTag.event_id,
            PersonTag.added_at,
        ).where(owned(PersonTag, ws))
    ):
        tagged = [tag, source, rule_id, message_of.get(event_id or 0), _at(added_at)]
        _add(parts, "tags", pid, tagged)
    for pid, model, points, as_of in session.execute(
        select(PersonScore.person_id, PersonScore.model, PersonScore.points, PersonScore.as_of)
        .join(Person, Person.id == PersonScore.person_id)
        .where(owned(Person, ws))
    ):
        _add(parts, "scores", pid, [model, round(points, 6), _at(as_of)])
    for pid, model, rule_id, event_id, points, at in session.execute(
        select(
            ScoreLedger.person_id,
            ScoreLedger.model,
            ScoreLedger.rule_id,
            ScoreLedger.event_id,
            ScoreLedger.points,
            ScoreLedger.at,
        ).where(owned(ScoreLedger, ws))
    ):
        entry = [model, rule_id, message_of.get(event_id or 0), points, _at(at)]
        _add(parts, "ledger", pid, entry)


def _add_stages(
    session: Session, ws: uuid.UUID, parts: dict[int, PersonState], message_of: dict[int, str]
) -> None:
    """The lifecycle stage and every change of it."""
    for pid, stage, entered in session.execute(
        select(PersonStage.person_id, PersonStage.stage, PersonStage.entered_at).where(
            owned(PersonStage, ws)
        )
    ):
        if pid in parts:
            parts[pid]["stage"] = [stage, _at(entered)]
    for pid, from_stage, to_stage, rule_id, event_id, at in session.execute(
        select(
            StageChange.person_id,
            StageChange.from_stage,
            StageChange.to_stage,
            StageChange.rule_id,
            StageChange.event_id,
            StageChange.at,
        ).where(owned(StageChange, ws))
    ):
        change = [from_stage, to_stage, rule_id, message_of.get(event_id or 0), _at(at)]
        _add(parts, "stage_history", pid, change)


def _key(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


@dataclass
class Difference:
    """How two snapshots of the same events differ."""

    people: int  # people on either side whose messages or state the other side lacks
    parts: dict[str, int]  # of the people in both, how many differ in each part
    examples: list[tuple[str, ...]]

    def __bool__(self) -> bool:
        return self.people > 0


def differing(a: Snapshot, b: Snapshot, examples: int = 5) -> Difference:
    """The people who differ between two snapshots (a person split or joined differently counts
    on both sides), and in which parts."""
    only = set(a).symmetric_difference(b)
    parts: dict[str, int] = {}
    changed: list[tuple[str, ...]] = []
    for key in set(a) & set(b):
        diff = [part for part in a[key] if a[key][part] != b[key].get(part)]
        if diff:
            changed.append(key)
            for part in diff:
                parts[part] = parts.get(part, 0) + 1
    if only:
        parts["people"] = len(only)
    shown = sorted(changed)[:examples] + sorted(only)[:examples]
    return Difference(len(only) + len(changed), parts, shown)


def digest(found: Snapshot) -> str:
    """A short hash of a snapshot (equal snapshots, equal digests)."""
    items: Iterable[tuple[tuple[str, ...], PersonState]] = sorted(found.items())
    blob = orjson.dumps([[list(k), v] for k, v in items], option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(blob).hexdigest()[:16]
