"""Triggers: the pipeline stage that enrolls people on what a batch did (events, including
the ones the batch derived; tags; stage changes; segment entries), and the API trigger."""

import uuid
from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadpond.flow.batch import Batch, PipelineEvent
from leadpond.ingest.models import DERIVED_SOURCE, Event
from leadpond.journeys.definitions import SEGMENT_ENTERED, Journey
from leadpond.journeys.engine import advance
from leadpond.journeys.models import Enrollment
from leadpond.journeys.service import (
    Candidate,
    EnrollReport,
    JourneyNotFound,
    enroll,
    journeys_of,
    live_people,
)
from leadpond.kit.errors import NotFound
from leadpond.kit.scope import owned
from leadpond.rules.models import PersonTag, StageChange
from leadpond.rules.state import chunks


def enroll_batch(batch: Batch) -> None:
    """Pipeline stage (after segments, so it sees the batch's tags, stages and segment entries):
    enroll the people whose events, new tags, stage changes or segment entries trigger a journey
    of the current playbook, and run their first steps now — a trial request's WeCom note and
    SMS are in the outbox when the batch commits."""
    session = batch.session
    for workspace_id, events in batch.by_workspace().items():
        mine = [e for e in events if e.person_id is not None]
        if not mine:
            continue
        found = journeys_of(session, workspace_id)
        if found is None or not found[1]:
            continue
        version, journeys = found
        candidates = _candidates(batch, workspace_id, mine, list(journeys.values()))
        enrolled: list[int] = []
        for key, people in candidates.items():
            enrolled += enroll(
                session, workspace_id, version, journeys[key], people, batch.now
            ).enrolled
        if enrolled:
            advance(session, workspace_id, enrolled, batch.now)


def _candidates(
    batch: Batch, workspace_id: uuid.UUID, events: list[PipelineEvent], journeys: list[Journey]
) -> dict[str, list[Candidate]]:
    """Who each journey's trigger fired for in this batch."""
    session = batch.session
    people = {e.person_id for e in events if e.person_id is not None}
    since = min(e.timestamp for e in events)
    # Events: the batch's own, and those the batch derived (key events, segment entries).
    happened: list[tuple[int, str | None, dict[str, Any], datetime, int]] = [
        (e.person_id, e.event, e.payload.get("properties") or {}, e.timestamp, e.id)
        for e in events
        if e.person_id is not None and e.type == "track"
    ]
    if any(j.trigger in ("event", "segment") for j in journeys):
        for ids in chunks(people):
            happened += [
                (pid, name, (payload or {}).get("properties") or {}, at, eid)
                for eid, pid, name, payload, at in session.execute(
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
    found: dict[str, list[Candidate]] = defaultdict(list)
    for journey in journeys:
        if journey.trigger == "event":
            for pid, name, properties, at, eid in happened:
                if journey.fires_on(name, properties):
                    found[journey.key].append(
                        Candidate(pid, f"event {name} (event {eid})", at, eid)
                    )
        elif journey.trigger == "segment":
            for pid, name, properties, at, eid in happened:
                if name == SEGMENT_ENTERED and properties.get("segment") == journey.trigger_value:
                    found[journey.key].append(
                        Candidate(pid, f"entered segment {journey.trigger_value}", at, eid)
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
