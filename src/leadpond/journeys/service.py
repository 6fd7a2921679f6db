"""The journey engine: enrollments are rows, advanced set-wise.

A run takes the due enrollments of a batch, groups them by (journey, version, step), and runs
each group as a set: one SQL query per condition (entry, branch arms, goal) over the group's
people, one INSERT for the group's outbox rows, one UPDATE for where everyone goes next. Steps
that are due at once (a send after a send) run in the same transaction, until everyone in the
batch waits or has left; everything commits together.

Kill -9 at any instant: the transaction either committed (the steps are done, their messages
queued) or did not (the enrollments are still due at the same step). Messages carry the key
``journey:<key>:v<version>:<step>:<person>:<enrollment>``, so running a step again — a replay,
a second worker on a claimed batch — finds the first message and queues nothing more.
"""

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from leadpond.channels.service import QueuedSend, enqueue_many
from leadpond.conditions.ast import Condition
from leadpond.db.claim import claim_ids
from leadpond.db.engine import is_postgres
from leadpond.flow.batch import Batch, PipelineEvent
from leadpond.ingest.models import DERIVED_SOURCE, JOURNEY_SOURCE, Event
from leadpond.journeys.definitions import (
    EXIT,
    SEGMENT_ENTERED,
    Journey,
    Step,
    compile_journeys,
    next_local_time,
)
from leadpond.journeys.models import ACTIVE_ONLY, Enrollment, EnrollmentState, StepLog
from leadpond.kit.clock import isoformat, utcnow
from leadpond.kit.errors import LeadpondError, NotFound
from leadpond.kit.scope import owned
from leadpond.profiles.models import Person
from leadpond.profiles.scope import live_in
from leadpond.rules.engine import JOURNEY_ACTION
from leadpond.rules.models import PersonTag, PlaybookVersion, StageChange
from leadpond.rules.playbook import Playbook
from leadpond.rules.reads import add_manual_tags, remove_tags_of
from leadpond.rules.state import chunks
from leadpond.segments.build import person_filter
from leadpond.segments.definitions import load_segments

_enrollments = cast(Table, Enrollment.__table__)
_MOVE = (
    update(_enrollments)
    .where(_enrollments.c.id == bindparam("eid"))
    .values(
        step=bindparam("step"),
        due_at=bindparam("due_at"),
        state=bindparam("state"),
        variant=bindparam("variant"),
        ended_at=bindparam("ended_at"),
    )
)
RUN_BATCH = 1000
A = EnrollmentState


class JourneyNotFound(NotFound):
    code = "journey_not_found"


# Compiled journeys by playbook checksum: the same document compiles to the same journeys,
# whichever database or workspace stored it (version row ids are numbered per database).
_compiled: dict[str, dict[str, Journey]] = {}


def journeys_of(
    session: Session, workspace_id: uuid.UUID, version: int | None = None
) -> tuple[int, dict[str, Journey]] | None:
    """The journeys of a playbook version (default: the current one) and its number."""
    stmt = select(PlaybookVersion.id, PlaybookVersion.version, PlaybookVersion.checksum).where(
        owned(PlaybookVersion, workspace_id)
    )
    if version is None:
        stmt = stmt.order_by(PlaybookVersion.version.desc()).limit(1)
    else:
        stmt = stmt.where(PlaybookVersion.version == version)
    found = session.execute(stmt).first()
    if found is None:
        return None
    row_id, number, checksum = found
    compiled = _compiled.get(checksum)
    if compiled is None:
        document = session.scalar(
            select(PlaybookVersion.document).where(PlaybookVersion.id == row_id)
        )
        playbook = Playbook.model_validate(document or {})
        compiled = {j.key: j for j in compile_journeys(playbook)}
        if len(_compiled) > 256:
            _compiled.clear()
        _compiled[checksum] = compiled
    return number, compiled


def matching(
    session: Session,
    workspace_id: uuid.UUID,
    condition: Condition,
    person_ids: Iterable[int],
    now: datetime,
) -> set[int]:
    """Which of these people the condition holds for at ``now``: one query per chunk, through the
    segments' SQL evaluator (the same semantics as everywhere else)."""
    loaded = load_segments(session, workspace_id)
    found: set[int] = set()
    for ids in chunks(set(person_ids)):
        found.update(
            session.scalars(
                select(Person.id).where(
                    Person.id.in_(ids), *person_filter(session, loaded, condition, now)
                )
            )
        )
    return found


def _live_people(session: Session, workspace_id: uuid.UUID, ids: Sequence[int]) -> list[int]:
    """Which of these ids are live people of the workspace: by primary key, the workspace
    checked on the rows found (the planner walks the key, not the workspace's index)."""
    return [
        pid
        for pid, ws in session.execute(
            select(Person.id, Person.workspace_id).where(
                Person.id.in_(ids), Person.merged_into_id.is_(None)
            )
        )
        if ws == workspace_id
    ]


@dataclass
class Candidate:
    """Someone a trigger fired for: who, why, which event, and when the trigger happened."""

    person_id: int
    reason: str
    at: datetime
    event_id: int | None = None


@dataclass
class EnrollReport:
    enrolled: list[int] = field(default_factory=list)
    stale: int = 0
    not_eligible: int = 0
    reentry_refused: int = 0


def enroll(
    session: Session,
    workspace_id: uuid.UUID,
    version: int,
    journey: Journey,
    candidates: Sequence[Candidate],
    now: datetime,
) -> EnrollReport:
    """Enroll whoever of the candidates may enter: fresh enough (``max_age``), allowed by the
    re-entry rule, matching the entry condition, a live person, not in the journey already.
    Returns the new enrollments' ids (not yet advanced: see :func:`advance`)."""
    report = EnrollReport()
    first: dict[int, Candidate] = {}
    for candidate in sorted(candidates, key=lambda c: (c.at, c.event_id or 0)):
        if candidate.at < now - journey.max_age:
            report.stale += 1
        elif candidate.person_id not in first:
            first[candidate.person_id] = candidate
    people = set(first)
    live: set[int] = set()
    for ids in chunks(people):
        live.update(_live_people(session, workspace_id, ids))
    refused = _refused_by_reentry(session, workspace_id, journey, live, now)
    report.reentry_refused = len(refused)
    allowed = live - refused
    if journey.entry is not None and allowed:
        eligible = matching(session, workspace_id, journey.entry, allowed, now)
        report.not_eligible = len(allowed - eligible)
        allowed = eligible
    if not allowed:
        return report
    upsert = pg_insert if is_postgres(session) else sqlite_insert
    rows = [
        {
            "workspace_id": workspace_id,
            "journey_key": journey.key,
            "version": version,
            "person_id": pid,
            "step": journey.first,
            "due_at": now,
            "state": A.ACTIVE.value,
            "reason": first[pid].reason[:300],
            "trigger_event_id": first[pid].event_id,
            "entered_at": now,
        }
        for pid in sorted(allowed)
    ]
    created: list[tuple[int, int]] = []
    for start in range(0, len(rows), 500):
        created += [
            (r.id, r.person_id)
            for r in session.execute(
                upsert(_enrollments)
                .on_conflict_do_nothing(
                    index_elements=["workspace_id", "journey_key", "person_id"],
                    # Spelled as the partial index is, so PostgreSQL infers that index.
                    index_where=text(ACTIVE_ONLY),
                )
                .returning(_enrollments.c.id, _enrollments.c.person_id),
                rows[start : start + 500],
            )
        ]
    _log(
        session,
        [
            _entry(
                workspace_id,
                eid,
                "entered",
                "entered",
                now,
                {
                    "reason": first[pid].reason[:300],
                    "event_id": first[pid].event_id,
                    "version": version,
                },
            )
            for eid, pid in created
        ],
    )
    report.enrolled = [eid for eid, _ in created]
    return report


def _refused_by_reentry(
    session: Session, workspace_id: uuid.UUID, journey: Journey, people: set[int], now: datetime
) -> set[int]:
    """People the re-entry rule keeps out: in the journey now (always), ever in it (never),
    or entered within the period (after N days)."""
    refused: set[int] = set()
    for ids in chunks(people):
        for pid, state, entered_at in session.execute(
            select(Enrollment.person_id, Enrollment.state, Enrollment.entered_at).where(
                owned(Enrollment, workspace_id),
                Enrollment.journey_key == journey.key,
                Enrollment.person_id.in_(ids),
            )
        ):
            if (
                state == A.ACTIVE
                or journey.reentry == "never"
                or (
                    journey.reentry == "after"
                    and journey.reentry_after is not None
                    and entered_at > now - journey.reentry_after
                )
            ):
                refused.add(pid)
    return refused


def _entry(
    workspace_id: uuid.UUID,
    enrollment_id: int,
    step: str,
    kind: str,
    at: datetime,
    detail: dict[str, Any],
    message_id: int | None = None,
) -> dict[str, Any]:
    return {
        "workspace_id": workspace_id,
        "enrollment_id": enrollment_id,
        "step": step,
        "kind": kind,
        "detail": detail,
        "message_id": message_id,
        "at": at,
    }


_step_log = cast(Table, StepLog.__table__)


def _log(session: Session, entries: list[dict[str, Any]]) -> None:
    if entries:
        # RETURNING makes it an "insertmanyvalues" executemany: a few multi-row INSERTs on
        # PostgreSQL instead of one statement per entry.
        session.execute(_step_log.insert().returning(_step_log.c.id), entries)


@dataclass
class _Row:
    """One enrollment while a run moves it."""

    id: int
    key: str
    version: int
    person_id: int
    step: str | None
    due_at: datetime
    state: str
    variant: str | None
    ended_at: datetime | None = None


@dataclass
class AdvanceReport:
    steps: int = 0
    messages: int = 0
    ended: int = 0


def advance(
    session: Session, workspace_id: uuid.UUID, enrollment_ids: Sequence[int], now: datetime
) -> AdvanceReport:
    """Run every step of these enrollments that is due at ``now``, group by group, until each
    one waits for a later time or has left the journey; writes where they are now."""
    report = AdvanceReport()
    rows: list[_Row] = []
    for ids in chunks(set(enrollment_ids)):
        rows += [
            _Row(*r)
            for r in session.execute(
                select(
                    Enrollment.id,
                    Enrollment.journey_key,
                    Enrollment.version,
                    Enrollment.person_id,
                    Enrollment.step,
                    Enrollment.due_at,
                    Enrollment.state,
                    Enrollment.variant,
                    # The ids alone: a workspace filter beside them lets the planner walk the
                    # workspace's index instead of the primary key (as rules' backfill notes).
                ).where(Enrollment.id.in_(ids))
            )
        ]
    definitions: dict[int, dict[str, Journey]] = {}
    moved: dict[int, _Row] = {}
    entries: list[dict[str, Any]] = []
    due = [r for r in rows if r.state == A.ACTIVE and r.step is not None and r.due_at <= now]
    while due:
        groups: dict[tuple[str, int, str], list[_Row]] = defaultdict(list)
        for row in due:
            assert row.step is not None
            groups[(row.key, row.version, row.step)].append(row)
        for (key, version, step_id), group in sorted(groups.items()):
            if version not in definitions:
                found = journeys_of(session, workspace_id, version)
                definitions[version] = found[1] if found else {}
            journey = definitions[version].get(key)
            if journey is None or step_id not in journey.steps:
                for row in group:
                    _end(row, A.EXITED, now)
                    entries.append(
                        _entry(
                            workspace_id,
                            row.id,
                            step_id,
                            "end",
                            now,
                            {"error": f"version {version} of {key!r} has no step {step_id!r}"},
                        )
                    )
            else:
                report.messages += _run_step(
                    session, workspace_id, journey, journey.steps[step_id], group, now, entries
                )
            report.steps += len(group)
            for row in group:
                moved[row.id] = row
        due = [r for r in due if r.state == A.ACTIVE and r.step is not None and r.due_at <= now]
    _log(session, entries)
    if moved:
        _write_moves(session, list(moved.values()))
    report.ended = sum(1 for r in moved.values() if r.state != A.ACTIVE)
    return report


# PostgreSQL: one UPDATE for a whole batch, its values as arrays (six parameters, however many
# rows); an executemany would be one statement per enrollment.
_MOVE_ARRAYS = text(
    "UPDATE journey_enrollment SET step = m.step, due_at = m.due_at, state = m.state, "
    "variant = m.variant, ended_at = m.ended_at "
    "FROM unnest(CAST(:ids AS BIGINT[]), CAST(:steps AS VARCHAR[]), "
    "CAST(:dues AS TIMESTAMP[]), CAST(:states AS VARCHAR[]), CAST(:variants AS VARCHAR[]), "
    "CAST(:ended AS TIMESTAMP[])) AS m(id, step, due_at, state, variant, ended_at) "
    "WHERE journey_enrollment.id = m.id"
)


def _write_moves(session: Session, rows: list[_Row]) -> None:
    """Store where each enrollment is now."""
    if is_postgres(session):
        session.execute(
            _MOVE_ARRAYS,
            {
                "ids": [r.id for r in rows],
                "steps": [r.step for r in rows],
                "dues": [r.due_at for r in rows],
                "states": [r.state for r in rows],
                "variants": [r.variant for r in rows],
                "ended": [r.ended_at for r in rows],
            },
        )
        return
    session.execute(
        _MOVE,
        [
            {
                "eid": r.id,
                "step": r.step,
                "due_at": r.due_at,
                "state": r.state,
                "variant": r.variant,
                "ended_at": r.ended_at,
            }
            for r in rows
        ],
    )


def _end(row: _Row, state: EnrollmentState, now: datetime) -> None:
    row.state, row.step, row.ended_at = state.value, None, now


def _go(
    row: _Row,
    target: str | None,
    now: datetime,
    entries: list[dict[str, Any]],
    workspace_id: uuid.UUID,
) -> None:
    """Move on to ``target`` (a step, exit, or None: past the last step)."""
    if target is None:
        _end(row, A.COMPLETED, now)
        entries.append(_entry(workspace_id, row.id, "completed", "end", row.due_at, {}))
    elif target == EXIT:
        _end(row, A.EXITED, now)
        entries.append(_entry(workspace_id, row.id, "exited", "end", row.due_at, {}))
    else:
        row.step = target


def _run_step(
    session: Session,
    workspace_id: uuid.UUID,
    journey: Journey,
    step: Step,
    group: list[_Row],
    now: datetime,
    entries: list[dict[str, Any]],
) -> int:
    """Run one step for a group of enrollments at it; returns the messages queued."""
    if journey.goal is not None:
        met = matching(session, workspace_id, journey.goal, {r.person_id for r in group}, now)
        for row in [r for r in group if r.person_id in met]:
            _end(row, A.GOAL, now)
            entries.append(_entry(workspace_id, row.id, "goal", "goal", now, {"before": step.id}))
        group = [r for r in group if r.person_id not in met]
    live: set[int] = set()
    for ids in chunks({r.person_id for r in group}):
        live.update(_live_people(session, workspace_id, ids))
    for row in [r for r in group if r.person_id not in live]:
        _end(row, A.EXITED, now)
        entries.append(_entry(workspace_id, row.id, step.id, "end", now, {"error": "person_gone"}))
    group = [r for r in group if r.person_id in live]
    if not group:
        return 0
    queued = 0
    if step.kind == "send":
        assert step.channel is not None and step.template is not None
        keys = {
            r.id: f"journey:{journey.key}:v{r.version}:{step.id}:{r.person_id}:{r.id}"
            for r in group
        }
        origin = f"journey:{journey.key}:{group[0].version}:{step.id}"
        sends = [
            QueuedSend(
                r.person_id,
                step.channel,
                step.template,
                keys[r.id],
                origin,
                {
                    "journey": journey.key,
                    "step": step.id,
                    **({"variant": r.variant} if r.variant else {}),
                },
            )
            for r in group
        ]
        detail: dict[str, Any] = {"channel": step.channel, "template": step.template}
        try:
            # It checks every template and person before it writes anything.
            message_ids = enqueue_many(session, workspace_id, sends)
        except LeadpondError as exc:
            # A template deleted or for another channel: the step is logged as failed and the
            # journey goes on (a later fix of the template does not resend what was skipped).
            message_ids, detail = {}, {**detail, "error": exc.message}
        for row in group:
            message_id = message_ids.get(keys[row.id])
            entries.append(
                _entry(workspace_id, row.id, step.id, "send", row.due_at, detail, message_id)
            )
            _go(row, step.next, now, entries, workspace_id)
        queued = len(message_ids)
    elif step.kind == "wait":
        assert step.wait is not None
        for row in group:
            started, row.due_at = row.due_at, row.due_at + step.wait
            entries.append(
                _entry(
                    workspace_id,
                    row.id,
                    step.id,
                    "wait",
                    started,
                    {"until": row.due_at.isoformat()},
                )
            )
            _go(row, step.next, now, entries, workspace_id)
    elif step.kind == "wait_until":
        assert step.wait_until is not None
        for row in group:
            started = row.due_at
            row.due_at = next_local_time(started, step.wait_until, journey.zone)
            entries.append(
                _entry(
                    workspace_id,
                    row.id,
                    step.id,
                    "wait",
                    started,
                    {"until": row.due_at.isoformat()},
                )
            )
            _go(row, step.next, now, entries, workspace_id)
    elif step.kind == "branch":
        left = {r.person_id for r in group}
        chosen: dict[int, tuple[int, str]] = {}
        for index, arm in enumerate(step.arms):
            if not left:
                break
            hit = (
                left
                if arm.condition is None
                else matching(session, workspace_id, arm.condition, left, now)
            )
            for pid in hit:
                chosen[pid] = (index, arm.goto)
            left -= hit
        for row in group:
            index, target = chosen.get(row.person_id, (-1, step.next or ""))
            entries.append(
                _entry(
                    workspace_id,
                    row.id,
                    step.id,
                    "branch",
                    row.due_at,
                    {"arm": index if index >= 0 else None, "goto": target or None},
                )
            )
            _go(row, target or None, now, entries, workspace_id)
    elif step.kind == "split":
        for row in group:
            arm = journey.variant_of(step, row.person_id)
            row.variant = arm.variant
            entries.append(
                _entry(
                    workspace_id,
                    row.id,
                    step.id,
                    "split",
                    row.due_at,
                    {"variant": arm.variant, "goto": arm.goto},
                )
            )
            _go(row, arm.goto, now, entries, workspace_id)
    elif step.kind == "tags":
        people = [r.person_id for r in group]
        actor = f"journey:{journey.key}"
        add_manual_tags(
            session, workspace_id, [(p, t) for p in people for t in step.add_tags], actor
        )
        remove_tags_of(session, workspace_id, people, list(step.remove_tags))
        for row in group:
            entries.append(
                _entry(
                    workspace_id,
                    row.id,
                    step.id,
                    "tags",
                    row.due_at,
                    {"added": list(step.add_tags), "removed": list(step.remove_tags)},
                )
            )
            _go(row, step.next, now, entries, workspace_id)
    elif step.kind in ("points", "stage", "trait"):
        _write_actions(session, workspace_id, journey, step, group, now)
        detail = (
            {"add_points": dict(step.points)}
            if step.kind == "points"
            else {"set_stage": step.stage}
            if step.kind == "stage"
            else {"set_trait": dict(step.traits)}
        )
        for row in group:
            entries.append(_entry(workspace_id, row.id, step.id, step.kind, row.due_at, detail))
            _go(row, step.next, now, entries, workspace_id)
    else:
        for row in group:
            _go(row, EXIT, now, entries, workspace_id)
    return queued


def _write_actions(
    session: Session,
    workspace_id: uuid.UUID,
    journey: Journey,
    step: Step,
    group: list[_Row],
    now: datetime,
) -> None:
    """Points, a stage or traits go to the event log as pending events of the person (source
    ``journeys``), at the moment the step was due: the pipeline's next batch applies them
    through the rules and profiles, and a replay of history applies them again. Their message
    ids name the enrollment and step, so running the step again writes nothing more."""
    rows = []
    for row in group:
        message_id = f"journey:{row.id}:{step.id}"
        stamp = isoformat(row.due_at)
        payload: dict[str, Any]
        if step.kind == "trait":
            kind, name = "identify", None
            payload = {"type": kind, "traits": dict(step.traits)}
        else:
            kind, name = "track", JOURNEY_ACTION
            properties: dict[str, Any] = {
                "journey": journey.key,
                "step": step.id,
                "enrollment_id": row.id,
            }
            if step.kind == "points":
                properties["add_points"] = dict(step.points)
            else:
                properties["set_stage"] = step.stage
            payload = {"type": kind, "event": name, "properties": properties}
        payload |= {"messageId": message_id, "timestamp": stamp}
        rows.append(
            {
                "workspace_id": workspace_id,
                "message_id": message_id,
                "type": kind,
                "event": name,
                "timestamp": row.due_at,
                "received_at": now,
                "source": JOURNEY_SOURCE,
                "payload": payload,
                "person_id": row.person_id,
                "origin_person_id": row.person_id,
            }
        )
    upsert = pg_insert if is_postgres(session) else sqlite_insert
    session.execute(
        upsert(cast(Table, Event.__table__)).on_conflict_do_nothing(
            index_elements=["workspace_id", "message_id"]
        ),
        rows,
    )


@dataclass
class RunReport:
    batches: int = 0
    steps: int = 0
    messages: int = 0
    ended: int = 0


def run_due_batch(
    session: Session, workspace_id: uuid.UUID | None, now: datetime, limit: int = RUN_BATCH
) -> RunReport:
    """Claim up to ``limit`` due enrollments (of one workspace, when given) and advance them, in
    the caller's transaction (SKIP LOCKED on PostgreSQL: workers never share a batch)."""
    report = RunReport()
    due: Any = and_(Enrollment.state == A.ACTIVE.value, Enrollment.due_at <= now)
    if workspace_id is not None:
        due = and_(due, owned(Enrollment, workspace_id))
    ids = claim_ids(session, Enrollment.id, due, limit)
    if not ids:
        return report
    by_workspace: dict[uuid.UUID, list[int]] = defaultdict(list)
    for eid, ws in session.execute(
        select(Enrollment.id, Enrollment.workspace_id).where(Enrollment.id.in_(ids))
    ):
        by_workspace[ws].append(eid)
    for ws, mine in by_workspace.items():
        done = advance(session, ws, mine, now)
        report.steps += done.steps
        report.messages += done.messages
        report.ended += done.ended
    report.batches = 1
    return report


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
    if (
        session.scalar(select(Person.id).where(live_in(workspace_id), Person.id == person_id))
        is None
    ):
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
    # Follow chains (a merged into b merged into c) to the live survivor.
    while chained := {
        pid: into
        for pid, into in session.execute(
            select(Person.id, Person.merged_into_id).where(
                Person.id.in_(set(survivors.values())), Person.merged_into_id.is_not(None)
            )
        )
        if into is not None
    }:
        survivors = {pid: chained.get(into, into) for pid, into in survivors.items()}
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
                entries.append(_entry(workspace_id, eid, "exited", "end", now, detail))
                continue
            held.add((target, key))
        entries.append(
            _entry(workspace_id, eid, "merged", "merge", now, {"from": pid, "to": target})
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
    _log(session, entries)
