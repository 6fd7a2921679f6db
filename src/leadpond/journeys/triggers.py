"""Triggers: the pipeline stage that enrolls people on what a batch did (events, including
the ones the batch derived; tags added and removed; stage changes; segment entries and exits;
thresholds) and wakes the enrollments waiting for an event, and the API trigger."""

import uuid
from collections import defaultdict
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session

from leadpond.flow.batch import Batch, PipelineEvent
from leadpond.ingest.models import DERIVED_SOURCE, Event
from leadpond.journeys.definitions import Journey
from leadpond.journeys.engine import advance
from leadpond.journeys.models import Enrollment, EnrollmentState
from leadpond.journeys.service import (
    Candidate,
    EnrollReport,
    JourneyNotFound,
    enroll,
    journeys_of,
    live_people,
    matching,
)
from leadpond.kit.errors import NotFound
from leadpond.kit.scope import owned
from leadpond.rules.models import PersonTag, StageChange
from leadpond.rules.state import chunks


def enroll_batch(batch: Batch) -> None:
    """Pipeline stage (after segments, so it sees the batch's tags, stages and segment entries):
    wake the enrollments waiting for an event the batch holds, enroll the people whose events,
    tags, stage changes, thresholds or segment entries and exits trigger a journey of the
    current playbook, and run their due steps now — a trial request's WeCom note and SMS are in
    the outbox when the batch commits."""
    session = batch.session
    for workspace_id, events in batch.by_workspace().items():
        mine = [e for e in events if e.person_id is not None]
        if not mine:
            continue
        found = journeys_of(session, workspace_id)
        if found is None or not found[1]:
            continue
        version, journeys = found
        happened = _happened(batch, workspace_id, mine)
        woken = wake_waiting(session, workspace_id, happened, batch.now)
        woken += recheck_people(session, workspace_id, _people(mine), batch.now)
        candidates = _candidates(batch, workspace_id, mine, happened, list(journeys.values()))
        enrolled: list[int] = []
        for key, people in candidates.items():
            enrolled += enroll(
                session, workspace_id, version, journeys[key], people, batch.now
            ).enrolled
        if woken or enrolled:
            advance(session, workspace_id, woken + enrolled, batch.now)


def _people(events: list[PipelineEvent]) -> set[int]:
    return {e.person_id for e in events if e.person_id is not None}


# (person, event name, properties, when, event id)
Happened = tuple[int, str | None, dict[str, Any], datetime, int]


def _happened(batch: Batch, workspace_id: uuid.UUID, events: list[PipelineEvent]) -> list[Happened]:
    """The batch's track events and those it derived (key events, thresholds, segment entries
    and exits)."""
    happened: list[Happened] = [
        (e.person_id, e.event, e.payload.get("properties") or {}, e.timestamp, e.id)
        for e in events
        if e.person_id is not None and e.type == "track"
    ]
    for ids in chunks({e.person_id for e in events if e.person_id is not None}):
        happened += [
            (pid, name, (payload or {}).get("properties") or {}, at, eid)
            for eid, pid, name, payload, at in batch.session.execute(
                select(
                    Event.id, Event.person_id, Event.event, Event.payload, Event.timestamp
                ).where(
                    owned(Event, workspace_id),
                    Event.person_id.in_(ids),
                    Event.source == DERIVED_SOURCE,
                    Event.received_at == batch.now,
                )
            )
        ]
    return happened


def wake_waiting(
    session: Session,
    workspace_id: uuid.UUID,
    happened: list[Happened],
    now: datetime,
    journey_key: str | None = None,
) -> list[int]:
    """Make due at ``now`` the enrollments waiting (``wait_for``) for an event that one of
    these is, done by their person after the wait began (a client clock a little ahead
    counts too: the event is in this batch); returns their ids. The step itself
    then asks the event log which way each goes (see ``steps._wait_for``)."""
    by_person: dict[int, list[Happened]] = defaultdict(list)
    for item in happened:
        by_person[item[0]].append(item)
    if not by_person:
        return []
    waiting: list[tuple[int, str, int, str, int, datetime]] = []
    for ids in chunks(set(by_person)):
        stmt = select(
            Enrollment.id,
            Enrollment.journey_key,
            Enrollment.version,
            Enrollment.step,
            Enrollment.person_id,
            Enrollment.waiting_since,
        ).where(
            owned(Enrollment, workspace_id),
            Enrollment.person_id.in_(ids),
            Enrollment.state == EnrollmentState.ACTIVE.value,
            Enrollment.waiting_since.is_not(None),
        )
        if journey_key is not None:
            stmt = stmt.where(Enrollment.journey_key == journey_key)
        waiting += [tuple(row) for row in session.execute(stmt)]  # type: ignore[misc]
    woken: dict[int, int] = {}
    versions: dict[int, dict[str, Journey]] = {}
    for eid, key, version, step_id, pid, since in waiting:
        if version not in versions:
            found = journeys_of(session, workspace_id, version)
            versions[version] = found[1] if found else {}
        journey = versions[version].get(key)
        step = journey.steps.get(step_id) if journey is not None and step_id else None
        if step is None:
            continue
        came = [
            (at, event_id)
            for _, name, properties, at, event_id in by_person[pid]
            if at > since and step.awaits(name, properties)
        ]
        if came:
            woken[eid] = min(came)[1]
    if woken:
        table = cast(Table, Enrollment.__table__)
        session.execute(
            update(table)
            .where(table.c.id == bindparam("eid"))
            .values(due_at=now, awaited_event_id=bindparam("event_id")),
            [{"eid": e, "event_id": v} for e, v in woken.items()],
        )
    return list(woken)


def recheck_people(
    session: Session, workspace_id: uuid.UUID, people: set[int], now: datetime
) -> list[int]:
    """These people changed (a pipeline batch): ask again, set-wise, the conditions their
    active enrollments wait on — a ``wait_until`` condition, the journey's ``goal`` and
    ``exit_when`` — and make due at ``now`` the enrollments one of them now holds for; the
    step then lets them through (or out), logging why. Returns their ids."""
    rows: list[tuple[int, str, int, str | None, int, datetime | None]] = []
    for ids in chunks(people):
        rows += [
            tuple(row)  # type: ignore[misc]
            for row in session.execute(
                select(
                    Enrollment.id,
                    Enrollment.journey_key,
                    Enrollment.version,
                    Enrollment.step,
                    Enrollment.person_id,
                    Enrollment.waiting_since,
                ).where(
                    owned(Enrollment, workspace_id),
                    Enrollment.person_id.in_(ids),
                    Enrollment.state == EnrollmentState.ACTIVE.value,
                    Enrollment.due_at > now,
                )
            )
        ]
    if not rows:
        return []
    # (journey, version, condition's owner) → the enrollments asking it, by person.
    asks: dict[tuple[str, int, str], dict[int, list[int]]] = defaultdict(lambda: defaultdict(list))
    versions: dict[int, dict[str, Journey]] = {}
    for eid, key, version, step_id, pid, since in rows:
        if version not in versions:
            found = journeys_of(session, workspace_id, version)
            versions[version] = found[1] if found else {}
        journey = versions[version].get(key)
        if journey is None:
            continue
        step = journey.steps.get(step_id or "")
        if step is not None and step.kind == "wait_condition" and since is not None:
            asks[(key, version, f"step:{step.id}")][pid].append(eid)
        if journey.goal is not None:
            asks[(key, version, "goal")][pid].append(eid)
        if journey.exit_when is not None:
            asks[(key, version, "exit_when")][pid].append(eid)
    woken: set[int] = set()
    for (key, version, what), by_person in asks.items():
        journey = versions[version][key]
        if what == "goal":
            condition = journey.goal
        elif what == "exit_when":
            condition = journey.exit_when
        else:
            condition = journey.steps[what.removeprefix("step:")].condition
        assert condition is not None
        for pid in matching(session, workspace_id, condition, set(by_person), now):
            woken.update(by_person[pid])
    if woken:
        table = cast(Table, Enrollment.__table__)
        session.execute(
            update(table).where(table.c.id == bindparam("eid")).values(due_at=now),
            [{"eid": e} for e in sorted(woken)],
        )
    return sorted(woken)


def _candidates(
    batch: Batch,
    workspace_id: uuid.UUID,
    events: list[PipelineEvent],
    happened: list[Happened],
    journeys: list[Journey],
) -> dict[str, list[Candidate]]:
    """Who each journey's trigger fired for in this batch."""
    session = batch.session
    people = {e.person_id for e in events if e.person_id is not None}
    since = min(e.timestamp for e in events)
    found: dict[str, list[Candidate]] = defaultdict(list)
    for journey in journeys:
        if journey.trigger in ("event", "form"):
            for pid, name, properties, at, eid in happened:
                if journey.fires_on(name, properties):
                    found[journey.key].append(
                        Candidate(pid, f"event {name} (event {eid})", at, eid)
                    )
        elif journey.trigger in DERIVED_TRIGGERS:
            for pid, name, properties, at, eid in happened:
                reason = derived_reason(journey, name, properties)
                if reason is not None:
                    found[journey.key].append(Candidate(pid, reason, at, eid))
        elif journey.trigger == "tag_removed":
            for pid, removed in batch.tags_removed.items():
                when = removed.get(journey.trigger_value or "")
                if when is not None and pid in people:
                    found[journey.key].append(
                        Candidate(pid, f"tag {journey.trigger_value} removed", when)
                    )
        elif journey.trigger == "tag":
            for ids in chunks(people):
                for pid, at in session.execute(
                    select(PersonTag.person_id, PersonTag.added_at).where(
                        owned(PersonTag, workspace_id),
                        PersonTag.person_id.in_(ids),
                        PersonTag.tag == journey.trigger_value,
                        PersonTag.added_at >= since,
                    )
                ):
                    found[journey.key].append(
                        Candidate(pid, f"tag {journey.trigger_value} added", at)
                    )
        elif journey.trigger == "stage":
            for ids in chunks(people):
                for pid, at, cause in session.execute(
                    select(StageChange.person_id, StageChange.at, StageChange.event_id).where(
                        owned(StageChange, workspace_id),
                        StageChange.person_id.in_(ids),
                        StageChange.to_stage == journey.trigger_value,
                        StageChange.at >= since,
                    )
                ):
                    found[journey.key].append(
                        Candidate(pid, f"stage changed to {journey.trigger_value}", at, cause)
                    )
    return found


# Triggers that are events the pipeline derives: segment entries and exits, thresholds.
DERIVED_TRIGGERS = ("segment", "segment_exited", "score")


def derived_reason(journey: Journey, name: str | None, properties: dict[str, Any]) -> str | None:
    """Why a derived event triggers the journey (None: it does not). A score trigger is its
    threshold's event, told apart from other thresholds emitting the same name by the
    ``rule_id`` the rules engine stamps on it."""
    if name not in journey.event_names:
        return None
    value = journey.trigger_value
    if journey.trigger == "segment" and properties.get("segment") == value:
        return f"entered segment {value}"
    if journey.trigger == "segment_exited" and properties.get("segment") == value:
        return f"exited segment {value}"
    if journey.trigger == "score" and properties.get("rule_id") == value:
        return f"score {value} reached ({name})"
    return None


def enroll_by_api(
    session: Session, workspace_id: uuid.UUID, key: str, person_id: int, actor: str, now: datetime
) -> tuple[EnrollReport, Enrollment | None]:
    """Enroll one person through the API (any journey of the current playbook, whatever its
    trigger) and run their first steps; the answer says why not when they were not enrolled."""
    found = journeys_of(session, workspace_id)
    if found is None or key not in found[1]:
        raise JourneyNotFound(f"no journey {key!r} in the current playbook", field="key")
    if not live_people(session, workspace_id, [person_id]):
        raise NotFound(f"no person {person_id}", field="person_id")
    version, journeys = found
    report = enroll(
        session,
        workspace_id,
        version,
        journeys[key],
        [Candidate(person_id, f"api ({actor})"[:300], now)],
        now,
    )
    if report.enrolled:
        advance(session, workspace_id, report.enrolled, now)
    enrollment = session.scalar(
        select(Enrollment)
        .where(
            owned(Enrollment, workspace_id),
            Enrollment.journey_key == key,
            Enrollment.person_id == person_id,
        )
        .order_by(Enrollment.id.desc())
        .limit(1)
    )
    if enrollment is not None:
        session.refresh(enrollment)
    return report, enrollment
