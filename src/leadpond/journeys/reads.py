"""What the API shows of journeys: the current playbook's journeys with how many people are
where, and, per person, each enrollment explained (why they entered, each step, the arm or
variant, and every message with its fate)."""

import uuid
from collections import Counter
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from leadpond.channels.models import Message
from leadpond.journeys.definitions import Journey
from leadpond.journeys.models import Enrollment, StepLog
from leadpond.journeys.service import JourneyNotFound, journeys_of, matching
from leadpond.kit.clock import utcnow
from leadpond.kit.scope import owned


def describe(journey: Journey) -> dict[str, Any]:
    """A journey as the API lists it."""
    return {
        "key": journey.key,
        "name": journey.name,
        "trigger": journey.trigger,
        "trigger_events": sorted(journey.event_names),
        "trigger_value": journey.trigger_value,
        "reentry": journey.reentry,
        "steps": [
            {"id": s.id, "kind": s.kind, "next": s.next, "names": dict(s.names)}
            for s in journey.steps.values()
        ],
    }


def list_journeys(session: Session, workspace_id: uuid.UUID) -> dict[str, Any]:
    """The current playbook's journeys, each with its enrollments counted by state."""
    found = journeys_of(session, workspace_id)
    if found is None:
        return {"version": None, "items": []}
    version, journeys = found
    counts: dict[str, Counter[str]] = {}
    for key, state, n in session.execute(
        select(Enrollment.journey_key, Enrollment.state, func.count())
        .where(owned(Enrollment, workspace_id))
        .group_by(Enrollment.journey_key, Enrollment.state)
    ):
        counts.setdefault(key, Counter())[state] = n
    return {
        "version": version,
        "items": [
            {**describe(j), "enrollments": dict(counts.get(j.key, {}))} for j in journeys.values()
        ],
    }


def explain_person(
    session: Session, workspace_id: uuid.UUID, person_id: int, key: str | None = None
) -> list[dict[str, Any]]:
    """Every enrollment of the person (in one journey, when ``key`` is given), newest first,
    with its step log and the fate of each message it queued."""
    stmt = select(Enrollment).where(
        owned(Enrollment, workspace_id), Enrollment.person_id == person_id
    )
    if key is not None:
        stmt = stmt.where(Enrollment.journey_key == key)
    enrollments = list(session.scalars(stmt.order_by(Enrollment.id.desc())))
    if not enrollments:
        return []
    logs = list(
        session.scalars(
            select(StepLog)
            .where(
                owned(StepLog, workspace_id),
                StepLog.enrollment_id.in_([e.id for e in enrollments]),
            )
            .order_by(StepLog.id)
        )
    )
    message_ids = {log.message_id for log in logs if log.message_id is not None}
    fates = {
        m.id: {"status": m.status, "reason": m.reason, "channel": m.channel}
        for m in session.scalars(select(Message).where(Message.id.in_(message_ids)))
    }
    result = []
    for enrollment in enrollments:
        steps = [
            {
                "step": log.step,
                "kind": log.kind,
                "at": log.at,
                "detail": log.detail,
                "message_id": log.message_id,
                "message": fates.get(log.message_id) if log.message_id else None,
            }
            for log in logs
            if log.enrollment_id == enrollment.id
        ]
        result.append(
            {
                "id": enrollment.id,
                "journey": enrollment.journey_key,
                "version": enrollment.version,
                "state": enrollment.state,
                "step": enrollment.step,
                "due_at": enrollment.due_at,
                "variant": enrollment.variant,
                "reason": enrollment.reason,
                "entered_at": enrollment.entered_at,
                "ended_at": enrollment.ended_at,
                "steps": steps,
            }
        )
    return result


def why_not(session: Session, workspace_id: uuid.UUID, key: str, person_id: int) -> dict[str, Any]:
    """For a person never enrolled: the journey's trigger, and whether its entry condition
    holds for them now."""
    found = journeys_of(session, workspace_id)
    if found is None or key not in found[1]:
        raise JourneyNotFound(f"no journey {key!r} in the current playbook", field="key")
    journey = found[1][key]
    holds = (
        None
        if journey.entry is None
        else person_id in matching(session, workspace_id, journey.entry, {person_id}, utcnow())
    )
    return {**describe(journey), "entry_condition_holds_now": holds}
