"""Steps run in SQL over a claimed batch: the engine's fast path.

``engine.advance`` runs every step through ``steps``, loading each enrollment into Python; that
costs tens of microseconds a person, minutes for a schedule over a million. The steps that do
the same thing to everyone at them — a send to the person, a branch, an exit, a wait (a
duration or a local time of day), a random split, adding and removing tags — and the checks
before every step (the goal, ``exit_when``, people merged away) are run here instead as a few
statements per group (journey, version, step) of the batch: the conditions through the
segments' SQL evaluator (``person_filter``, what ``matching`` asks), the messages through
``channels.service.enqueue_select``, the step log and the moves as ``INSERT … SELECT`` and
``UPDATE``. What Python must work out is worked out by the same functions ``steps`` calls, once
per value rather than per person: a wait's end per due time of the group
(``definitions.wait_end``), a split's arm per person (``Journey.variant_of``: a SHA-256, which
SQLite has not), applied as a ``CASE`` or one statement per arm. What they write is what
``steps`` writes (tests/journeys/test_setwise.py compares the two, whole state, on both
databases); every other kind of step is left to ``steps``.
"""

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, String, Table, and_, case, exists, func, literal, select
from sqlalchemy import cast as sql_cast
from sqlalchemy.orm import Session

from leadpond.channels.models import Message
from leadpond.channels.service import enqueue_select, template_for
from leadpond.conditions.ast import Condition
from leadpond.db.among import among
from leadpond.db.engine import is_postgres
from leadpond.journeys.definitions import EXIT, Journey, Step, wait_end
from leadpond.journeys.models import Enrollment, EnrollmentState, StepLog
from leadpond.journeys.service import journeys_of
from leadpond.kit.clock import isoformat
from leadpond.kit.errors import LeadpondError
from leadpond.profiles.models import Person
from leadpond.rules.reads import add_manual_tags_to, remove_tags_of
from leadpond.segments.build import person_filter
from leadpond.segments.definitions import WorkspaceSegments, load_segments

A = EnrollmentState
_enrollments = cast(Table, Enrollment.__table__)
_step_log = cast(Table, StepLog.__table__)
_messages = cast(Table, Message.__table__)
e = _enrollments.c
# Steps due at once run on in the same batch; a journey has far fewer steps than this.
MAX_ROUNDS = 64
# A wait's ends are a CASE over the group's due times: a group due at more different times
# than this (people enrolled one by one, each at their own moment) waits in Python.
MAX_DUE_TIMES = 200


@dataclass
class SetwiseReport:
    steps: int = 0
    messages: int = 0
    ended: int = 0
    # Ids of the batch still due (at steps only ``steps`` runs).
    rest: list[int] = field(default_factory=list)


def runs_in_sql(step: Step) -> bool:
    """Whether this step runs here: a send to the person (any channel), a branch or a split, a
    wait for a duration or a local time, adding or removing tags (none of them going back to
    itself), an exit."""
    if step.kind in ("send", "webhook"):
        return step.to != "owner" and step.channel is not None and step.template is not None
    if step.kind in ("branch", "split"):
        return all(arm.goto != step.id for arm in step.arms) and step.next != step.id
    if step.kind in ("wait", "wait_until", "tags"):
        return step.next != step.id
    return step.kind == "exit"


def advance_in_sql(
    session: Session, workspace_id: uuid.UUID, enrollment_ids: list[int], now: datetime
) -> SetwiseReport:
    """Run, group by group, the steps of these enrollments that are due at ``now`` and run in
    SQL, until every one of them has left, waits, or is due at a step only ``steps`` runs."""
    report = SetwiseReport()
    if not enrollment_ids:
        return report
    batch = and_(among(session, e.id, enrollment_ids), e.state == A.ACTIVE.value, e.due_at <= now)
    definitions: dict[int, dict[str, Journey]] = {}
    segments: list[WorkspaceSegments] = []
    for round_ in range(MAX_ROUNDS):
        groups = session.execute(
            select(e.journey_key, e.version, e.step, func.count())
            .where(batch)
            .group_by(e.journey_key, e.version, e.step)
            .order_by(e.journey_key, e.version, e.step)
        ).all()
        ran = False
        for key, version, step_id, size in groups:
            if version not in definitions:
                found = journeys_of(session, workspace_id, version)
                definitions[version] = found[1] if found else {}
            journey = definitions[version].get(key)
            if journey is None or step_id not in journey.steps:
                continue
            step = journey.steps[step_id]
            if not runs_in_sql(step):
                continue
            if not segments:
                segments.append(load_segments(session, workspace_id))
            # Who was merged away leaves at the first step of the batch's first round: everyone
            # at a step in a later round got there from a step that found them live, and
            # nobody is merged inside a step run.
            group = _Group(
                session, workspace_id, journey, version, step, now, segments[0], batch, round_ == 0
            )
            if group.run(report):
                report.steps += size
                ran = True
        if not ran:
            break
    report.rest = list(session.scalars(select(e.id).where(batch).order_by(e.id)))
    return report


@dataclass
class _Group:
    """One step of one journey version, run for the batch's enrollments due at it."""

    session: Session
    workspace_id: uuid.UUID
    journey: Journey
    version: int
    step: Step
    now: datetime
    segments: WorkspaceSegments
    batch: ColumnElement[bool]
    # Ask whether the people are still live (``person_gone``).
    check_live: bool = True

    @property
    def here(self) -> ColumnElement[bool]:
        """The batch's enrollments due at this step (fewer after each move). On PostgreSQL
        with the workspace: a join from people (a condition the planner thinks rare) then
        probes the active enrollments' index (workspace, journey, person) once a person, where
        without it each probe read the journey's whole index. Not on SQLite: there it would
        walk that index instead of the batch's ids (``engine._load``)."""
        return and_(
            self.batch,
            e.journey_key == self.journey.key,
            e.version == self.version,
            e.step == self.step.id,
            *([e.workspace_id == self.workspace_id] if is_postgres(self.session) else []),
        )

    def run(self, report: SetwiseReport) -> bool:
        """Run the step (False: its template is missing or for another channel, and
        ``steps`` runs the group, logging why; or a wait's group is due at too many times)."""
        step = self.step
        if step.kind in ("send", "webhook") and not self._template_ok():
            return False
        ends: dict[datetime, datetime] = {}
        if step.kind in ("wait", "wait_until"):
            dues = self.session.scalars(
                select(e.due_at).where(self.here).distinct().limit(MAX_DUE_TIMES + 1)
            ).all()
            if len(dues) > MAX_DUE_TIMES:
                return False
            ends = {due: wait_end(self.journey, step, due) for due in dues}
        self._leave_early(report)
        if step.kind == "exit":
            self._go(self.here, EXIT, report)
        elif step.kind == "branch":
            self._branch(report)
        elif step.kind == "split":
            self._split(report)
        elif step.kind == "tags":
            self._tags(report)
        elif step.kind in ("wait", "wait_until"):
            self._wait(ends, report)
        else:
            self._send(report)
        return True

    def _template_ok(self) -> bool:
        assert self.step.channel is not None and self.step.template is not None
        try:
            template_for(self.session, self.workspace_id, self.step.template, self.step.channel)
        except LeadpondError:
            return False
        return True

    def _holds(self, condition: Condition) -> ColumnElement[bool]:
        """The condition, asked of each enrollment's person (``matching``'s question)."""
        return exists().where(
            Person.id == e.person_id,
            *person_filter(self.session, self.segments, condition, self.now),
        )

    def _leave_early(self, report: SetwiseReport) -> None:
        """``steps.leave_early``: the goal met, ``exit_when`` holding, the person gone."""
        before = {"before": self.step.id}
        if self.journey.goal is not None:
            who = and_(self.here, self._holds(self.journey.goal))
            self._end(who, A.GOAL, "goal", before, report)
        if self.journey.exit_when is not None:
            who = and_(self.here, self._holds(self.journey.exit_when))
            self._end(who, A.EXITED, "exited", {"exit_when": True, **before}, report)
        live = exists().where(
            Person.id == e.person_id,
            Person.workspace_id == self.workspace_id,
            Person.merged_into_id.is_(None),
        )
        if self.check_live:
            gone = and_(self.here, ~live)
            self._end(gone, A.EXITED, self.step.id, {"error": "person_gone"}, report)

    def _send(self, report: SetwiseReport) -> None:
        """``steps._send`` for people: one message each, keyed as ``steps.message_key``."""
        step, journey = self.step, self.journey
        key = _message_key(journey, step)
        plain = {"journey": journey.key, "step": step.id}
        variables = case(
            (func.coalesce(e.variant, "") == "", self._json(plain)),
            else_=self._json({**plain, "variant": e.variant}),
        )
        origin = literal(f"journey:{journey.key}:", String) + sql_cast(e.version, String)
        rows = select(
            e.person_id.label("person_id"),
            key.label("idempotency_key"),
            (origin + literal(f":{step.id}", String)).label("origin"),
            variables.label("variables"),
        ).where(self.here)
        assert step.channel is not None and step.template is not None
        enqueue_select(self.session, self.workspace_id, step.channel, step.template, rows)
        m = _messages.c
        sent = select(
            e.workspace_id, e.id, literal(step.id), literal("send"), self._detail(), m.id, e.due_at
        ).select_from(
            _enrollments.outerjoin(
                _messages, and_(m.workspace_id == e.workspace_id, m.idempotency_key == key)
            )
        )
        report.messages += self._log(sent.where(self.here))
        self._go(self.here, step.next, report)

    def _branch(self, report: SetwiseReport) -> None:
        """``steps._branch``: the first arm whose condition holds, arm by arm (after an arm
        without a condition nobody is left: no more statements)."""
        for index, arm in enumerate(self.step.arms):
            if arm.condition is None:
                self._log(self._entry(self.here, "branch", {"arm": index, "goto": arm.goto}))
                self._go(self.here, arm.goto, report)
                return
            who = and_(self.here, self._holds(arm.condition))
            self._log(self._entry(who, "branch", {"arm": index, "goto": arm.goto}))
            self._go(who, arm.goto, report)
        rest = self.here
        self._log(self._entry(rest, "branch", {"arm": None, "goto": self.step.next}))
        self._go(rest, self.step.next, report)

    def _split(self, report: SetwiseReport) -> None:
        """``steps._split``: each person's arm (``Journey.variant_of``, worked out here once a
        person), then an arm at a time: its variant noted, on to its step."""
        step = self.step
        by_arm: dict[int, list[int]] = defaultdict(list)
        for person_id in self.session.scalars(select(e.person_id).where(self.here).distinct()):
            arm = self.journey.variant_of(step, person_id)
            by_arm[next(i for i, a in enumerate(step.arms) if a is arm)].append(person_id)
        for index, arm in enumerate(step.arms):
            if index not in by_arm:
                continue
            who = and_(self.here, among(self.session, e.person_id, by_arm[index]))
            self._log(self._entry(who, "split", {"variant": arm.variant, "goto": arm.goto}))
            self._go(who, arm.goto, report, variant=arm.variant)

    def _tags(self, report: SetwiseReport) -> None:
        """``steps._tags``: manual tags (actor ``journey:<key>``) added, then those to remove
        taken off, for everyone at the step."""
        step = self.step
        people = select(e.person_id).where(self.here)
        if step.add_tags:
            actor = f"journey:{self.journey.key}"
            add_manual_tags_to(self.session, self.workspace_id, people, step.add_tags, actor)
        remove_tags_of(self.session, self.workspace_id, people, list(step.remove_tags))
        detail = {"added": list(step.add_tags), "removed": list(step.remove_tags)}
        self._log(self._entry(self.here, "tags", detail))
        self._go(self.here, step.next, report)

    def _wait(self, ends: dict[datetime, datetime], report: SetwiseReport) -> None:
        """``steps._wait``: each enrollment due again at its wait's end (worked out per due
        time of the group), logged at the time it was due; on to the next step."""
        detail_type = _step_log.c.detail.type
        until = case(
            *(
                (e.due_at == due, literal({"until": isoformat(end)}, detail_type))
                for due, end in ends.items()
            )
        )
        end_at = case(
            *((e.due_at == due, literal(end, e.due_at.type)) for due, end in ends.items())
        )
        self._log(self._entry(self.here, "wait", until))
        self._go(self.here, self.step.next, report, due_at=end_at)

    def _go(
        self, who: ColumnElement[bool], target: str | None, report: SetwiseReport, **moved: Any
    ) -> None:
        """``StepRun.go``: on to ``target``, or out (past the last step, or ``exit``); with the
        columns ``moved`` set as well (a new due time, a variant)."""
        if target is None:
            self._end(who, A.COMPLETED, "completed", {}, report, **moved)
        elif target == EXIT:
            self._end(who, A.EXITED, "exited", {}, report, **moved)
        else:
            self.session.execute(_enrollments.update().where(who).values(step=target, **moved))

    def _end(
        self,
        who: ColumnElement[bool],
        state: EnrollmentState,
        name: str,
        detail: dict[str, Any],
        report: SetwiseReport,
        **moved: Any,
    ) -> None:
        """``StepRun.end``: logged at the time the step was due (or the new due time in
        ``moved``: a wait's end), then out of the journey."""
        kind = "goal" if state == A.GOAL else "end"
        at = moved.get("due_at", e.due_at)
        if not self._log(self._entry(who, kind, detail, name=name, at=at)):
            return
        ended = self.session.execute(
            _enrollments.update()
            .where(who)
            .values(
                state=state.value,
                step=None,
                ended_at=self.now,
                waiting_since=None,
                awaited_event_id=None,
                **moved,
            )
        )
        report.ended += int(ended.rowcount)  # type: ignore[attr-defined]

    def _entry(
        self,
        who: ColumnElement[bool],
        kind: str,
        detail: dict[str, Any] | ColumnElement[Any],
        name: str | None = None,
        at: Any = None,
    ) -> Any:
        """The step-log rows of one thing that happened to these enrollments (at the time
        their step was due, unless ``at`` says otherwise)."""
        g = _step_log.c
        return select(
            e.workspace_id,
            e.id,
            literal(name or self.step.id, g.step.type),
            literal(kind, g.kind.type),
            detail if isinstance(detail, ColumnElement) else literal(detail, g.detail.type),
            literal(None, g.message_id.type),
            e.due_at if at is None else at,
        ).where(who)

    def _detail(self) -> Any:
        detail = {"channel": self.step.channel, "template": self.step.template}
        return literal(detail, _step_log.c.detail.type)

    def _log(self, rows: Any) -> int:
        """Append step-log rows (in enrollment order); how many. Counted in the database: a
        RETURNING would fetch every new id only to count them; psycopg gives an ``INSERT …
        SELECT`` no rowcount here, so on PostgreSQL the INSERT is a CTE that a count reads."""
        insert = _step_log.insert().from_select(
            ["workspace_id", "enrollment_id", "step", "kind", "detail", "message_id", "at"],
            rows.order_by(e.id),
        )
        if is_postgres(self.session):
            written = insert.returning(_step_log.c.id).cte("written")
            return int(self.session.scalar(select(func.count()).select_from(written)) or 0)
        return int(self.session.execute(insert).rowcount)  # type: ignore[attr-defined]

    def _json(self, values: dict[str, Any]) -> Any:
        """A JSON object built in SQL (the message's variables)."""
        # Typed: PostgreSQL cannot tell a bare parameter's type in a variadic function.
        pairs = [
            part
            for name, value in values.items()
            for part in (
                literal(name, String),
                value if isinstance(value, ColumnElement) else literal(value, String),
            )
        ]
        if is_postgres(self.session):
            return func.jsonb_build_object(*pairs)
        return func.json_object(*pairs)


def _message_key(journey: Journey, step: Step) -> Any:
    """``steps.message_key`` in SQL: ``journey:<key>:v<version>:<step>:<person>:<enrollment>``."""
    return (
        literal(f"journey:{journey.key}:v", String)
        + sql_cast(e.version, String)
        + literal(f":{step.id}:", String)
        + sql_cast(e.person_id, String)
        + literal(":", String)
        + sql_cast(e.id, String)
    )
