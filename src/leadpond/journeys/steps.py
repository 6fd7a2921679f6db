"""One step for a group of enrollments at it, as a set: one query per condition, one INSERT per
kind of row written, whatever the group's size. Each kind of step is one function here."""

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from leadpond.channels.service import QueuedSend, enqueue_many
from leadpond.db.engine import is_postgres
from leadpond.ingest.models import JOURNEY_SOURCE, Event
from leadpond.journeys.definitions import EXIT, Journey, Step, wait_end
from leadpond.journeys.models import EnrollmentState
from leadpond.journeys.service import live_people, log_entry, matching
from leadpond.journeys.winner import decide, decision_time, winner_of
from leadpond.kit.clock import isoformat
from leadpond.kit.errors import LeadpondError
from leadpond.kit.scope import owned
from leadpond.profiles.models import Person
from leadpond.rules.engine import JOURNEY_ACTION
from leadpond.rules.reads import add_manual_tags, remove_tags_of
from leadpond.rules.state import chunks

A = EnrollmentState
_events = cast(Table, Event.__table__)


@dataclass
class Position:
    """Where one enrollment is while a run moves it (written back once, at the end)."""

    id: int
    key: str
    version: int
    person_id: int
    step: str | None
    due_at: datetime
    state: str
    variant: str | None
    # At a wait_for step: when the wait began.
    waiting_since: datetime | None = None
    # The awaited event, when the pipeline saw it come (see ``triggers.wake_waiting``).
    awaited_event_id: int | None = None
    ended_at: datetime | None = None


@dataclass
class StepRun:
    """One step being run for a group: what every kind of step needs, and its step log."""

    session: Session
    workspace_id: uuid.UUID
    journey: Journey
    step: Step
    now: datetime
    entries: list[dict[str, Any]] = field(default_factory=list)
    # Enrollments an ``enroll`` step made (in other journeys): the engine runs them on.
    spawned: list[int] = field(default_factory=list)
    # People this run found live already: a run of steps due at once asks once per person.
    live: set[int] = field(default_factory=set)

    def log(
        self,
        row: Position,
        kind: str,
        detail: dict[str, Any],
        *,
        at: datetime | None = None,
        name: str | None = None,
        message_id: int | None = None,
    ) -> None:
        """Note what happened to ``row`` (at the moment its step was due, by default)."""
        self.entries.append(
            log_entry(
                self.workspace_id,
                row.id,
                name or self.step.id,
                kind,
                at or row.due_at,
                detail,
                message_id,
            )
        )

    def end(self, row: Position, state: EnrollmentState, name: str, detail: dict[str, Any]) -> None:
        """Take ``row`` out of the journey."""
        row.state, row.step, row.ended_at = state.value, None, self.now
        row.waiting_since = row.awaited_event_id = None
        self.log(row, "end" if state != A.GOAL else "goal", detail, name=name)

    def go(self, row: Position, target: str | None) -> None:
        """Move on to ``target``: a step, ``exit``, or None (past the last step)."""
        if target is None:
            self.end(row, A.COMPLETED, "completed", {})
        elif target == EXIT:
            self.end(row, A.EXITED, "exited", {})
        else:
            row.step = target


def leave_early(run: StepRun, group: list[Position]) -> list[Position]:
    """Before ``run.step`` runs: people who met the goal leave (state ``goal``), then those
    the journey's ``exit_when`` holds for (``exited``), and people merged away since
    (``person_gone``). Returns the rest, who run the step."""
    if run.journey.goal is not None:
        met = matching(
            run.session, run.workspace_id, run.journey.goal, {r.person_id for r in group}, run.now
        )
        for row in [r for r in group if r.person_id in met]:
            run.end(row, A.GOAL, "goal", {"before": run.step.id})
        group = [r for r in group if r.person_id not in met]
    if run.journey.exit_when is not None and group:
        leave = matching(
            run.session,
            run.workspace_id,
            run.journey.exit_when,
            {r.person_id for r in group},
            run.now,
        )
        for row in [r for r in group if r.person_id in leave]:
            run.end(row, A.EXITED, "exited", {"exit_when": True, "before": run.step.id})
        group = [r for r in group if r.person_id not in leave]
    live = run.live
    for ids in chunks({r.person_id for r in group} - live):
        live.update(live_people(run.session, run.workspace_id, ids))
    for row in [r for r in group if r.person_id not in live]:
        run.end(row, A.EXITED, run.step.id, {"error": "person_gone"})
    return [r for r in group if r.person_id in live]


def message_key(journey: Journey, step: Step, row: Position) -> str:
    """The outbox idempotency key of a journey message: the same step for the same enrollment
    is the same message, however often it runs."""
    return f"journey:{journey.key}:v{row.version}:{step.id}:{row.person_id}:{row.id}"


def _send(run: StepRun, group: list[Position], more: dict[str, Any] | None = None) -> int:
    """Queue the step's message for everyone in the group (a note to each one's owner, for
    ``to: owner``). Nothing here may stop the pipeline: every workspace runs the default
    playbook's journeys, most without their templates, so a missing template or owner is
    logged on the step and the journey goes on; an unconfigured channel is the deliverer's to
    skip (``not_configured``), and the step log links that message. ``more``: what the step
    log adds (the winner of an A/B test)."""
    step, journey = run.step, run.journey
    assert step.channel is not None and step.template is not None
    keys = {r.id: message_key(journey, step, r) for r in group}
    detail: dict[str, Any] = {"channel": step.channel, "template": step.template, **(more or {})}
    extra: dict[int, dict[str, Any]] = {}
    if step.to == "owner":
        extra = _owner_variables(run, {r.person_id for r in group})
        for row in [r for r in group if r.person_id not in extra]:
            run.log(row, "send", {**detail, "to": "owner", "skipped": "no_owner"})
            run.go(row, step.next)
        group = [r for r in group if r.person_id in extra]
        if not group:
            return 0
    sends = [
        QueuedSend(
            r.person_id,
            step.channel,
            step.template,
            keys[r.id],
            f"journey:{journey.key}:{r.version}:{step.id}",
            {
                "journey": journey.key,
                "step": step.id,
                **({"variant": r.variant} if r.variant else {}),
                **extra.get(r.person_id, {}),
            },
        )
        for r in group
    ]
    try:
        # It checks every template and person before it writes anything.
        message_ids = enqueue_many(run.session, run.workspace_id, sends)
    except LeadpondError as exc:
        # A template missing (a workspace that never made it), deleted, or for another
        # channel: the step is logged with why and the journey goes on (making the template
        # later does not resend what was missed).
        message_ids = {}
        detail |= {"skipped": "no_template", "error": exc.message}
    for row in group:
        mine = detail
        if step.to == "owner":
            mine = {**detail, "to": "owner", "wecom_userid": extra[row.person_id]["wecom_userid"]}
        run.log(row, "send", mine, message_id=message_ids.get(keys[row.id]))
        run.go(row, step.next)
    return len(message_ids)


def _send_winner(run: StepRun, group: list[Position]) -> int:
    """The rest of an A/B test: wait until the winner is chosen (by hand, or by the rates when
    the test's time is up), then send each of them the winning variant's message."""
    step, journey = run.step, run.journey
    assert step.split is not None
    version = group[0].version  # a group is one journey version's step
    decided = winner_of(run.session, run.workspace_id, journey.key, version, step.split)
    if decided is None:
        due = decision_time(run.session, run.workspace_id, journey, version, step)
        if due is None:  # the test's first people went through the split in this very run
            assert step.after is not None
            due = min(row.due_at for row in group) + step.after
        if due > run.now:
            for row in group:
                row.due_at = due
                run.log(row, "wait", {"until": isoformat(due), "for": "winner"}, at=run.now)
            return 0
        decided = decide(run.session, run.workspace_id, journey, version, step, run.now)
    arm = next(a for a in journey.steps[step.split].arms if a.variant == decided.variant)
    chosen = journey.steps[arm.goto]
    as_send = replace(step, kind="send", channel=chosen.channel, template=chosen.template)
    return _send(replace(run, step=as_send), group, {"winner": decided.variant})


# What a note to the owner says the lead read: these events' ``title``, newest first.
READ_EVENTS = ("Content Viewed", "Article Read", "Whitepaper Downloaded")
READ_TITLES = 5
READ_WITHIN = timedelta(days=90)


def _owner_variables(run: StepRun, people: set[int]) -> dict[int, dict[str, Any]]:
    """For each person who has an owner to note (their trait ``owner_wecom_userid``, else the
    step's ``on_duty`` userid): the WeCom userid the note goes to, the owner's name (trait
    ``owner``) and the titles the lead read lately (``read``), one query per chunk."""
    step = run.step
    found: dict[int, dict[str, Any]] = {}
    for ids in chunks(people):
        for pid, traits in run.session.execute(
            select(Person.id, Person.traits).where(Person.id.in_(ids))
        ):
            traits = traits or {}
            userid = traits.get("owner_wecom_userid") or step.on_duty
            if userid is None or not str(userid).strip():
                continue
            found[pid] = {
                "wecom_userid": str(userid).strip(),
                "owner": traits.get("owner"),
                "read": [],
            }
    since = run.now - READ_WITHIN
    for ids in chunks(set(found)):
        newest = (
            select(
                Event.person_id,
                Event.payload,
                func.row_number()
                .over(partition_by=Event.person_id, order_by=(Event.timestamp.desc(), Event.id))
                .label("n"),
            )
            .where(
                owned(Event, run.workspace_id),
                Event.person_id.in_(ids),
                Event.event.in_(READ_EVENTS),
                Event.timestamp >= since,
            )
            .subquery()
        )
        for pid, payload in run.session.execute(
            select(newest.c.person_id, newest.c.payload)
            .where(newest.c.n <= READ_TITLES)
            .order_by(newest.c.person_id, newest.c.n)
        ):
            title = ((payload or {}).get("properties") or {}).get("title")
            if isinstance(title, str) and title and title not in found[pid]["read"]:
                found[pid]["read"].append(title)
    return found


def _wait(run: StepRun, group: list[Position]) -> int:
    """Wait a duration or until a local time (``definitions.wait_end``)."""
    step = run.step
    # A group mostly shares its due time (a schedule's people): each end is worked out once.
    ends: dict[datetime, tuple[datetime, str | None]] = {}
    for row in group:
        started = row.due_at
        if started not in ends:
            end = wait_end(run.journey, step, started)
            ends[started] = (end, isoformat(end))
        row.due_at, until = ends[started]
        run.log(row, "wait", {"until": until}, at=started)
        run.go(row, step.next)
    return 0


def _wait_for(run: StepRun, group: list[Position]) -> int:
    """Wait for an event, with a timeout. The first run starts the wait (due again at the
    timeout); the pipeline that sees the person do the event makes the enrollment due at once
    and notes the event (``triggers.wake_waiting``). A later run goes on to ``next`` for those,
    and for anyone the event log shows did the event after the wait began (one query for the
    group: a run that catches up late); the others whose timeout has passed go to
    ``goto_timeout``; anyone else waits on until the timeout."""
    step = run.step
    assert step.wait is not None
    came = {r.id: r.awaited_event_id for r in group if r.awaited_event_id is not None}
    came |= _awaited(run, [r for r in group if r.waiting_since is not None and r.id not in came])
    for row in group:
        started = row.waiting_since
        if started is None:
            row.waiting_since, row.due_at = row.due_at, row.due_at + step.wait
            detail = {"for": step.event, "until": isoformat(row.due_at)}
            run.log(row, "wait", detail, at=row.waiting_since)
        elif row.id in came:
            done: dict[str, Any] = {"arm": "event", "event_id": came[row.id], "goto": step.next}
            run.log(row, "wait_for", done, at=run.now)
            row.waiting_since, row.awaited_event_id, row.due_at = None, None, run.now
            run.go(row, step.next)
        elif started + step.wait <= run.now:
            row.waiting_since, row.awaited_event_id = None, None
            row.due_at = started + step.wait
            run.log(row, "wait_for", {"arm": "timeout", "goto": step.timeout_goto})
            run.go(row, step.timeout_goto)
        else:
            row.due_at = started + step.wait
    return 0


def _awaited(run: StepRun, rows: list[Position]) -> dict[int, int]:
    """Of these waiting enrollments, the ones whose person did the awaited event after their
    wait began and before it timed out (a late run decides as an on-time one would):
    enrollment id → the first such event's id."""
    step = run.step
    assert step.wait is not None
    if not rows:
        return {}
    since = min(r.waiting_since for r in rows if r.waiting_since is not None)
    by_person: dict[int, list[Position]] = {}
    for row in rows:
        by_person.setdefault(row.person_id, []).append(row)
    found: dict[int, int] = {}
    for ids in chunks(set(by_person)):
        for eid, pid, payload, at in run.session.execute(
            select(Event.id, Event.person_id, Event.payload, Event.timestamp)
            .where(
                owned(Event, run.workspace_id),
                Event.person_id.in_(ids),
                Event.event == step.event,
                Event.timestamp > since,
                Event.timestamp <= run.now,
            )
            .order_by(Event.timestamp, Event.id)
        ):
            if not step.awaits(step.event, (payload or {}).get("properties") or {}):
                continue
            for row in by_person[pid]:
                assert row.waiting_since is not None
                ends = row.waiting_since + step.wait
                if row.waiting_since < at <= ends and row.id not in found:
                    found[row.id] = eid
    return found


def _branch(run: StepRun, group: list[Position]) -> int:
    """The first arm whose condition holds, asked of everyone left in one query per arm."""
    left = {r.person_id for r in group}
    chosen: dict[int, tuple[int, str]] = {}
    for index, arm in enumerate(run.step.arms):
        if not left:
            break
        hit = (
            left
            if arm.condition is None
            else matching(run.session, run.workspace_id, arm.condition, left, run.now)
        )
        for pid in hit:
            chosen[pid] = (index, arm.goto)
        left -= hit
    for row in group:
        arm_index, target = chosen.get(row.person_id, (None, run.step.next))
        run.log(row, "branch", {"arm": arm_index, "goto": target})
        run.go(row, target)
    return 0


def _split(run: StepRun, group: list[Position]) -> int:
    for row in group:
        arm = run.journey.variant_of(run.step, row.person_id)
        row.variant = arm.variant
        run.log(row, "split", {"variant": arm.variant, "goto": arm.goto})
        run.go(row, arm.goto)
    return 0


def _tags(run: StepRun, group: list[Position]) -> int:
    """Manual tags (actor ``journey:<key>``): a replay of history keeps them."""
    step, people = run.step, [r.person_id for r in group]
    pairs = [(p, t) for p in people for t in step.add_tags]
    add_manual_tags(run.session, run.workspace_id, pairs, f"journey:{run.journey.key}")
    remove_tags_of(run.session, run.workspace_id, people, list(step.remove_tags))
    for row in group:
        run.log(row, "tags", {"added": list(step.add_tags), "removed": list(step.remove_tags)})
        run.go(row, step.next)
    return 0


def _action(run: StepRun, group: list[Position]) -> int:
    """Points, a stage or traits go to the event log as pending events of the person (source
    ``journeys``), at the moment the step was due: the pipeline's next batch applies them
    through the rules and profiles, and a replay of history applies them again. Their message
    ids name the enrollment and step, so running the step again writes nothing more."""
    step = run.step
    if step.kind == "trait":
        detail: dict[str, Any] = {"set_trait": dict(step.traits)}
    elif step.kind == "points":
        detail = {"add_points": dict(step.points)}
    else:
        detail = {"set_stage": step.stage}
    write_action_events(run, [action_event(run, row, detail) for row in group])
    for row in group:
        run.log(row, step.kind, detail)
        run.go(row, step.next)
    return 0


def action_event(run: StepRun, row: Position, detail: dict[str, Any]) -> dict[str, Any]:
    """The event-log row of one person's action: an ``identify`` with the traits, or a
    ``Journey Action`` the rules engine reads (``add_points``, ``set_stage``)."""
    message_id = f"journey:{row.id}:{run.step.id}"
    if "set_trait" in detail:
        kind, name = "identify", None
        payload: dict[str, Any] = {"type": kind, "traits": detail["set_trait"]}
    else:
        kind, name = "track", JOURNEY_ACTION
        properties = {
            "journey": run.journey.key,
            "step": run.step.id,
            "enrollment_id": row.id,
            **detail,
        }
        payload = {"type": kind, "event": name, "properties": properties}
    payload |= {"messageId": message_id, "timestamp": isoformat(row.due_at)}
    return {
        "workspace_id": run.workspace_id,
        "message_id": message_id,
        "type": kind,
        "event": name,
        "timestamp": row.due_at,
        "received_at": run.now,
        "source": JOURNEY_SOURCE,
        "payload": payload,
        "person_id": row.person_id,
        "origin_person_id": row.person_id,
    }


def write_action_events(run: StepRun, rows: list[dict[str, Any]]) -> None:
    """Append action events (of :func:`action_event`); a message id already there is kept."""
    if rows:
        upsert = pg_insert if is_postgres(run.session) else sqlite_insert
        run.session.execute(
            upsert(_events).on_conflict_do_nothing(index_elements=["workspace_id", "message_id"]),
            rows,
        )


def _wait_condition(run: StepRun, group: list[Position]) -> int:
    """Wait until a condition holds, with a timeout. The first run asks the condition of the
    group (holding: on at once); the others wait, due again at the timeout. The pipeline asks
    it again of the waiting people its batch changed (``triggers.recheck_people``) and makes
    due at once those it now holds for; at the timeout it is asked a last time. The step log
    says which check let them through (``checked``: start, change or timeout)."""
    step = run.step
    assert step.wait is not None and step.condition is not None
    held = matching(
        run.session, run.workspace_id, step.condition, {r.person_id for r in group}, run.now
    )
    for row in group:
        started = row.waiting_since
        if row.person_id in held:
            if started is None:
                checked, at = "start", row.due_at
            else:
                checked = "timeout" if started + step.wait <= run.now else "change"
                at = min(run.now, started + step.wait)
            detail = {"arm": "condition", "checked": checked, "goto": step.next}
            run.log(row, "wait_until", detail, at=at)
            row.waiting_since, row.due_at = None, at
            run.go(row, step.next)
        elif started is None:
            row.waiting_since, row.due_at = row.due_at, row.due_at + step.wait
            detail = {"for": "condition", "until": isoformat(row.due_at)}
            run.log(row, "wait", detail, at=row.waiting_since)
        elif started + step.wait <= run.now:
            row.waiting_since, row.due_at = None, started + step.wait
            run.log(row, "wait_until", {"arm": "timeout", "goto": step.timeout_goto})
            run.go(row, step.timeout_goto)
        else:
            row.due_at = started + step.wait
    return 0


def _exit(run: StepRun, group: list[Position]) -> int:
    for row in group:
        run.go(row, EXIT)
    return 0


StepKind = Callable[[StepRun, list[Position]], int]

# What each kind of step does (the actions of ``actions`` beside them, in the engine).
STEP_KINDS: dict[str, StepKind] = {
    "send": _send,
    "send_winner": _send_winner,
    "wait": _wait,
    "wait_until": _wait,
    "wait_for": _wait_for,
    "branch": _branch,
    "split": _split,
    "tags": _tags,
    "points": _action,
    "stage": _action,
    "trait": _action,
    "wait_condition": _wait_condition,
    "webhook": _send,
    "exit": _exit,
}
