"""Dry-run: what a journey would have done over a stretch of real history, without doing it.

The dry-run is the engine itself in a transaction that is always rolled back. Inside it, the
journey's own enrollments are cleared (so it starts from nobody) and the history is replayed in
time order: the trigger's past events (tags added, stages entered, segment entries) enroll people
at the moment they happened, and every step due in between runs at its own due time. On SQLite
the transaction holds the write lock while it runs, so a dry-run replays at most
:data:`MAX_TRIGGERS` firings: a longer history is asked for in shorter periods.

What the run wrote — enrollments, step log, queued messages — is read back as the report, then
everything is rolled back: no message is ever queued for real (the deliverer cannot see an
uncommitted row), no enrollment kept.

Same code, same answers: a live run on the same history enrolls the same people, takes them down
the same arms and queues the same messages (tests/journeys/test_dry_run.py). Two things differ
by nature: conditions (entry, branches, goals) read people as they are now, not as they were,
and a tag trigger sees the tags people still have.
"""

import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from leadpond.channels.models import Message, MessageTemplate
from leadpond.ingest.models import Event
from leadpond.journeys.definitions import Journey
from leadpond.journeys.engine import advance
from leadpond.journeys.models import Enrollment, EnrollmentState, StepLog
from leadpond.journeys.schedules import occurrences, segment_members
from leadpond.journeys.service import Candidate, JourneyNotFound, enroll, journeys_of
from leadpond.journeys.triggers import DERIVED_TRIGGERS, Happened, derived_reason, wake_waiting
from leadpond.kit.errors import InvalidInput
from leadpond.kit.scope import owned
from leadpond.rules.models import PersonTag, StageChange

# People whose whole path the report lists (the counts cover everyone).
SAMPLE = 50
MAX_TRIGGERS = 20_000


@dataclass
class DryRunReport:
    """What the journey would have done between ``since`` and ``until``."""

    journey: str
    version: int
    since: datetime
    until: datetime
    triggered: int = 0  # trigger firings found in the history
    enrolled: int = 0
    reentry_refused: int = 0
    not_eligible: int = 0
    stale: int = 0
    over_limit: int = 0  # kept out by limits.total
    # Step id → how many enrollments ran it; an arm's name is "step → arm".
    steps: dict[str, int] = field(default_factory=dict)
    # Where the enrollments are at ``until``: active (still waiting), completed, exited, goal.
    states: dict[str, int] = field(default_factory=dict)
    # "channel template" → messages that would have been queued.
    messages: dict[str, int] = field(default_factory=dict)
    people: list[dict[str, Any]] = field(default_factory=list)


def dry_run(
    session: Session,
    workspace_id: uuid.UUID,
    key: str,
    since: datetime,
    until: datetime,
) -> DryRunReport:
    """Replay ``since``..``until`` through journey ``key`` of the current playbook in
    ``session``'s transaction, which the caller must roll back
    (:func:`leadpond.db.engine.rolled_back`)."""
    if until <= since:
        raise InvalidInput("until must be after since", field="until")
    found = journeys_of(session, workspace_id)
    if found is None or key not in found[1]:
        raise JourneyNotFound(f"no journey {key!r} in the playbook", field="key")
    version, journeys = found
    journey = journeys[key]
    if journey.trigger in ("api", "tag_removed"):
        why = (
            "is entered through the API only"
            if journey.trigger == "api"
            else "is entered when a rule removes a tag, which history does not keep"
        )
        raise InvalidInput(f"journey {key!r} {why}: there is no history to replay", field="key")
    _start_empty(session, workspace_id, key)
    report = DryRunReport(key, version, since, until)
    candidates = _history(session, workspace_id, journey, since, until)
    report.triggered = len(candidates)
    if len(candidates) > MAX_TRIGGERS:
        raise InvalidInput(
            f"the trigger fired {len(candidates):,} times in the period, more than a dry-run "
            f"replays ({MAX_TRIGGERS:,}): ask for a shorter period",
            field="since",
        )
    awaited = _awaited_events(session, workspace_id, journey, since, until)
    by_time: dict[datetime, tuple[list[Candidate], list[Happened]]] = defaultdict(lambda: ([], []))
    for candidate in candidates:
        by_time[candidate.at][0].append(candidate)
    for item in awaited:
        by_time[item[3]][1].append(item)
    enrolled: list[int] = []
    for at in sorted(by_time):
        group, happened = by_time[at]
        _advance_until(session, workspace_id, key, at)
        # As the pipeline does: waits woken by the batch's events first, then entries.
        woken = wake_waiting(session, workspace_id, happened, at, key) if happened else []
        if woken:
            advance(session, workspace_id, woken, at)
        if not group:
            continue
        entered = enroll(session, workspace_id, version, journey, group, at)
        report.reentry_refused += entered.reentry_refused
        report.not_eligible += entered.not_eligible
        report.stale += entered.stale
        report.over_limit += entered.over_limit
        if entered.enrolled:
            enrolled += entered.enrolled
            advance(session, workspace_id, entered.enrolled, at)
    _advance_until(session, workspace_id, key, until)
    _read_back(session, workspace_id, key, enrolled, report)
    return report


def _awaited_events(
    session: Session, workspace_id: uuid.UUID, journey: Journey, since: datetime, until: datetime
) -> list[Happened]:
    """The events the journey's wait_for steps wait for, in the period: they wake waits."""
    names = {s.event for s in journey.steps.values() if s.kind == "wait_for" and s.event}
    if not names:
        return []
    return [
        (pid, name, (payload or {}).get("properties") or {}, at, eid)
        for eid, pid, name, payload, at in session.execute(
            select(Event.id, Event.person_id, Event.event, Event.payload, Event.timestamp)
            .where(
                owned(Event, workspace_id),
                Event.event.in_(names),
                Event.person_id.is_not(None),
                Event.processed_at.is_not(None),
                Event.timestamp >= since,
                Event.timestamp < until,
            )
            .order_by(Event.timestamp, Event.id)
        )
    ]


def _start_empty(session: Session, workspace_id: uuid.UUID, key: str) -> None:
    """The journey as if nobody had been in it (inside the rolled-back transaction)."""
    mine = select(Enrollment.id).where(
        owned(Enrollment, workspace_id), Enrollment.journey_key == key
    )
    session.execute(
        delete(StepLog)
        .where(StepLog.enrollment_id.in_(mine))
        .execution_options(synchronize_session=False)
    )
    session.execute(
        delete(Enrollment)
        .where(owned(Enrollment, workspace_id), Enrollment.journey_key == key)
        .execution_options(synchronize_session=False)
    )


def _history(
    session: Session, workspace_id: uuid.UUID, journey: Journey, since: datetime, until: datetime
) -> list[Candidate]:
    """The trigger's firings in the period, oldest first, as the pipeline stage words them."""
    found: list[Candidate] = []
    if journey.trigger in ("event", "form") or journey.trigger in DERIVED_TRIGGERS:
        for eid, pid, name, payload, at in session.execute(
            select(Event.id, Event.person_id, Event.event, Event.payload, Event.timestamp)
            .where(
                owned(Event, workspace_id),
                Event.event.in_(journey.event_names),
                Event.person_id.is_not(None),
                Event.processed_at.is_not(None),
                Event.timestamp >= since,
                Event.timestamp < until,
            )
            .order_by(Event.timestamp, Event.id)
        ):
            properties = (payload or {}).get("properties") or {}
            if journey.trigger in ("event", "form"):
                if journey.fires_on(name, properties):
                    found.append(Candidate(pid, f"event {name} (event {eid})", at, eid))
            else:
                reason = derived_reason(journey, name, properties)
                if reason is not None:
                    found.append(Candidate(pid, reason, at, eid))
    elif journey.trigger == "schedule":
        # The segment's members as they are now, at each occurrence.
        members = segment_members(session, workspace_id, journey.trigger_value)
        for at in occurrences(journey, since, until):
            reason = f"schedule {journey.cron} ({at:%Y-%m-%d %H:%M} UTC)"
            found += [Candidate(pid, reason, at) for pid in members]
    elif journey.trigger == "tag":
        for pid, at in session.execute(
            select(PersonTag.person_id, PersonTag.added_at).where(
                owned(PersonTag, workspace_id),
                PersonTag.tag == journey.trigger_value,
                PersonTag.added_at >= since,
                PersonTag.added_at < until,
            )
        ):
            found.append(Candidate(pid, f"tag {journey.trigger_value} added", at))
    elif journey.trigger == "stage":
        for pid, at, cause in session.execute(
            select(StageChange.person_id, StageChange.at, StageChange.event_id).where(
                owned(StageChange, workspace_id),
                StageChange.to_stage == journey.trigger_value,
                StageChange.at >= since,
                StageChange.at < until,
            )
        ):
            found.append(Candidate(pid, f"stage changed to {journey.trigger_value}", at, cause))
    return sorted(found, key=lambda c: (c.at, c.event_id or 0, c.person_id))


def _advance_until(session: Session, workspace_id: uuid.UUID, key: str, moment: datetime) -> None:
    """Run every step of the journey due by ``moment``, each at its own due time."""
    active = (
        owned(Enrollment, workspace_id),
        Enrollment.journey_key == key,
        Enrollment.state == EnrollmentState.ACTIVE.value,
    )
    while True:
        due = session.scalar(select(func.min(Enrollment.due_at)).where(*active))
        if due is None or due > moment:
            return
        ids = list(session.scalars(select(Enrollment.id).where(*active, Enrollment.due_at <= due)))
        advance(session, workspace_id, ids, due)


def _read_back(
    session: Session,
    workspace_id: uuid.UUID,
    key: str,
    enrolled: list[int],
    report: DryRunReport,
) -> None:
    report.enrolled = len(enrolled)
    if not enrolled:
        return
    mine = select(Enrollment.id).where(
        owned(Enrollment, workspace_id), Enrollment.journey_key == key
    )
    report.states = dict(
        Counter(
            session.scalars(
                select(Enrollment.state).where(
                    owned(Enrollment, workspace_id), Enrollment.journey_key == key
                )
            )
        )
    )
    paths: dict[int, list[dict[str, Any]]] = defaultdict(list)
    steps: Counter[str] = Counter()
    for enrollment_id, step, kind, at, detail in session.execute(
        select(StepLog.enrollment_id, StepLog.step, StepLog.kind, StepLog.at, StepLog.detail)
        .where(StepLog.enrollment_id.in_(mine))
        .order_by(StepLog.enrollment_id, StepLog.id)
    ):
        arm = _arm(kind, detail or {})
        if kind not in ("entered", "end"):
            steps[f"{step} → {arm}" if arm else step] += 1
        paths[enrollment_id].append(
            {"step": step, "kind": kind, "at": at, **({"arm": arm} if arm else {})}
        )
    report.steps = dict(steps)
    report.messages = {
        f"{channel} {template}": n
        for channel, template, n in session.execute(
            select(Message.channel, MessageTemplate.key, func.count())
            .join(StepLog, StepLog.message_id == Message.id)
            .join(MessageTemplate, MessageTemplate.id == Message.template_id)
            .where(StepLog.enrollment_id.in_(mine))
            .group_by(Message.channel, MessageTemplate.key)
        )
    }
    for enrollment_id, person_id, state in session.execute(
        select(Enrollment.id, Enrollment.person_id, Enrollment.state)
        .where(Enrollment.id.in_(enrolled[:SAMPLE]))
        .order_by(Enrollment.id)
    ):
        report.people.append(
            {"person_id": person_id, "state": state, "path": paths.get(enrollment_id, [])}
        )


def _arm(kind: str, detail: dict[str, Any]) -> str | None:
    """The way a branch or split sent the enrollment (the variant, or the step it went to),
    or how a wait for an event ended (``event`` or ``timeout``)."""
    if kind in ("wait_for", "wait_until"):
        return str(detail.get("arm"))
    if kind not in ("branch", "split"):
        return None
    found = detail.get("variant") or detail.get("goto")
    return None if found is None else str(found)
