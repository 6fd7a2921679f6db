"""The ``journeys`` section of a playbook, compiled: conditions parsed, references and jumps
checked (errors name the path, which the playbook validator turns into a line).

A journey's steps run in list order; ``goto`` (branch and split arms) and ``next`` jump, always
to a later step or to ``exit``, so no enrollment can loop and one run over a person ends.
"""

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from leadpond.conditions.ast import Condition, FieldTest, Persona, Stage, walk
from leadpond.conditions.durations import parse_duration
from leadpond.conditions.evaluate import field_holds
from leadpond.conditions.parse import ConditionError, condition_from_data
from leadpond.conditions.source import Path
from leadpond.kit.names import name_in
from leadpond.rules.playbook import JourneyDef, JourneyStep, Playbook

EXIT = "exit"
# Arms and ``next`` that name no step: the following step in the list.
SEGMENT_ENTERED, SEGMENT_EXITED = "Segment Entered", "Segment Exited"
# A form trigger is this event with ``properties.form_id`` = the form's key.
FORM_SUBMITTED = "Form Submitted"


@dataclass(frozen=True)
class Arm:
    """A branch arm (``condition`` None: the fallback) or a split arm (``weight``)."""

    goto: str
    condition: Condition | None = None
    variant: str | None = None
    weight: float = 0.0


@dataclass(frozen=True)
class Step:
    id: str
    # send | send_winner | wait | wait_for | wait_until | wait_condition | branch | split | tags |
    # points | stage | trait | webhook | notify | assign_owner | enroll | exit
    kind: str
    # Where to go after it (a step id, ``EXIT``, or None: the journey is complete).
    next: str | None
    channel: str | None = None
    template: str | None = None
    # ``owner``: a WeCom note to the person's owner (``on_duty`` when they have none).
    to: str = "person"
    on_duty: str | None = None
    wait: timedelta | None = None
    wait_until: time | None = None
    arms: tuple[Arm, ...] = ()
    add_tags: tuple[str, ...] = ()
    remove_tags: tuple[str, ...] = ()
    points: tuple[tuple[str, float], ...] = ()
    stage: str | None = None
    traits: tuple[tuple[str, Any], ...] = ()
    # send_winner: the split whose test decides, by what, and how long after its first person.
    split: str | None = None
    by: str | None = None
    after: timedelta | None = None
    # wait_for: the event awaited (with ``where``; the timeout is ``wait``) and where a timeout
    # goes (None: ``next``).
    event: str | None = None
    where: tuple[FieldTest, ...] = ()
    timeout_goto: str | None = None
    # wait_condition: what is waited for (the timeout is ``wait``, where it goes ``timeout_goto``).
    condition: Condition | None = None
    # notify: the users a note goes to (``to`` "owner", else a role or one user's email).
    notify_role: str | None = None
    notify_user: str | None = None
    # assign_owner: a round robin's users (email, WeCom userid) or the account's owner.
    owners: tuple[tuple[str, str | None], ...] = ()
    from_account: bool = False
    keep_existing: bool = True
    # enroll: the journey the person is enrolled in.
    target: str | None = None
    # send_content: items per message, the facet filters (kind, value) and where people go
    # when nothing is left to recommend (None: ``next``).
    limit: int = 1
    filters: tuple[tuple[str, str], ...] = ()
    fallback: str | None = None
    # The step's display names by language ("" is a name for every language).
    names: tuple[tuple[str, str], ...] = ()

    def label(self, language: str = "") -> str:
        """What the console and the report call the step: its name in ``language`` (zh/en),
        its one name, or its id."""
        return name_in(dict(self.names), language) or self.id

    def awaits(self, name: str | None, properties: dict[str, Any]) -> bool:
        """True when this is a wait_for step and the event is the one it waits for."""
        return (
            self.kind == "wait_for"
            and name == self.event
            and all(field_holds(f, properties) for f in self.where)
        )


@dataclass(frozen=True)
class Journey:
    key: str
    name: str
    # event | form | tag | tag_removed | stage | segment | segment_exited | score | schedule | api
    trigger: str
    event_names: frozenset[str]
    where: tuple[FieldTest, ...]
    # The tag, stage or segment of the trigger; for ``score``, the threshold's rule id
    # (``model@N``, the ``rule_id`` of the event it emits).
    trigger_value: str | None
    entry: Condition | None
    reentry: str  # never | after_exit | after
    reentry_after: timedelta | None
    max_age: timedelta
    zone: ZoneInfo
    goal: Condition | None
    steps: dict[str, Step]
    first: str
    # ``schedule``: the cron expression (in ``zone``); its segment is ``trigger_value``.
    cron: str | None = None
    limit_per_second: int | None = None
    limit_total: int | None = None
    # Leave (``exited``) as soon as this holds: before every step and when the person changes.
    exit_when: Condition | None = None

    def fires_on(self, name: str | None, properties: dict[str, Any]) -> bool:
        """True when an event of this name and properties triggers the journey (a form
        trigger: the form's Form Submitted)."""
        if self.trigger == "form":
            return name == FORM_SUBMITTED and properties.get("form_id") == self.trigger_value
        return (
            name is not None
            and name in self.event_names
            and all(field_holds(f, properties) for f in self.where)
        )

    def variant_of(self, step: Step, person_id: int) -> Arm:
        """The split arm a person falls in: a hash of journey, step and person, so the same
        person always gets the same variant, whatever batch or run they are in."""
        digest = hashlib.sha256(f"{self.key}:{step.id}:{person_id}".encode()).digest()
        point = int.from_bytes(digest[:8], "big") / 2**64 * sum(a.weight for a in step.arms)
        for arm in step.arms:
            if point < arm.weight:
                return arm
            point -= arm.weight
        return step.arms[-1]


def wait_end(journey: Journey, step: Step, started: datetime) -> datetime:
    """When a ``wait`` (a duration) or ``wait_until`` (a local time of day, in the journey's
    time zone) step that was due at ``started`` ends: counted from when it was due, not from
    when a run got to it, so a late catch-up run gives the times an on-time one would have."""
    if step.wait is not None:
        return started + step.wait
    assert step.wait_until is not None
    return next_local_time(started, step.wait_until, journey.zone)


def next_local_time(after: datetime, at: time, zone: ZoneInfo) -> datetime:
    """The first moment at or after ``after`` (naive UTC) when the clock in ``zone`` reads
    ``at``; naive UTC too."""
    local = after.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone)
    candidate = local.replace(hour=at.hour, minute=at.minute, second=0, microsecond=0)
    if candidate < local:
        candidate = (candidate + timedelta(days=1)).replace(hour=at.hour, minute=at.minute)
    return candidate.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


def compile_journeys(
    playbook: Playbook, stages: set[str] | None = None, personas: set[str] | None = None
) -> list[Journey]:
    """Every journey of the playbook, checked; a ``ConditionError`` names the path."""
    stages = {s.key for s in playbook.stages} if stages is None else stages
    personas = {p.key for p in playbook.personas} if personas is None else personas
    thresholds = {m.key: [(t.at, t.emit) for t in m.thresholds] for m in playbook.score_models}
    seen: set[str] = set()
    keys = {j.key for j in playbook.journeys}
    journeys = []
    for i, definition in enumerate(playbook.journeys):
        path: Path = ("journeys", i)
        if definition.key in seen:
            raise ConditionError("{key!r} is defined twice", (*path, "key"), key=definition.key)
        seen.add(definition.key)
        journeys.append(_journey(definition, path, stages, personas, thresholds, keys))
    return journeys


def _condition(data: Any, path: Path, stages: set[str], personas: set[str]) -> Condition | None:
    if data is None:
        return None
    parsed = condition_from_data(data, path)
    for node in walk(parsed):
        if isinstance(node, Persona) and node.key not in personas:
            raise ConditionError("no such persona: {key!r}", path, key=node.key)
        if isinstance(node, Stage):
            for test in node.tests:
                named = test.value if isinstance(test.value, tuple) else (test.value,)
                for key in named:
                    if isinstance(key, str) and key not in stages:
                        raise ConditionError("no such stage: {key!r}", path, key=key)
    return parsed


def _journey(
    definition: JourneyDef,
    path: Path,
    stages: set[str],
    personas: set[str],
    thresholds: dict[str, list[tuple[float, str]]],
    journey_keys: set[str],
) -> Journey:
    trigger = definition.trigger
    names: frozenset[str] = frozenset()
    where: tuple[FieldTest, ...] = ()
    value: str | None = None
    cron: str | None = None
    if trigger.event is not None:
        kind = "event"
        listed = [trigger.event] if isinstance(trigger.event, str) else trigger.event
        if not listed or not all(isinstance(n, str) and n.strip() for n in listed):
            raise ConditionError(
                "trigger.event takes an event name or a list of names", (*path, "trigger")
            )
        names = frozenset(n.strip() for n in listed)
        parsed = condition_from_data(
            {"event": listed[0], "where": trigger.where}, (*path, "trigger")
        )
        where = getattr(parsed, "where", ())
    elif trigger.segment is not None:
        kind, value = "segment", trigger.segment
        names = frozenset({SEGMENT_ENTERED})
    elif trigger.segment_exited is not None:
        kind, value = "segment_exited", trigger.segment_exited
        names = frozenset({SEGMENT_EXITED})
    elif trigger.score is not None:
        kind = "score"
        value, emit = _threshold(trigger.score.model, trigger.score.gte, thresholds, path)
        names = frozenset({emit})
    elif trigger.schedule is not None:
        kind, value, cron = "schedule", trigger.schedule.segment, trigger.schedule.cron
    elif trigger.form is not None:
        kind, value = "form", trigger.form
        names = frozenset({FORM_SUBMITTED})
    elif trigger.tag is not None:
        kind, value = "tag", trigger.tag
    elif trigger.tag_removed is not None:
        kind, value = "tag_removed", trigger.tag_removed
    elif trigger.stage is not None:
        kind, value = "stage", trigger.stage
        if value not in stages:
            raise ConditionError("no such stage: {key!r}", (*path, "trigger", "stage"), key=value)
    else:
        kind = "api"
    reentry, after = definition.reentry.strip(), None
    if reentry not in ("never", "after_exit"):
        reentry, after = "after", parse_duration(reentry)
    steps = _steps(definition.steps, (*path, "steps"), stages, personas, set(thresholds))
    for i, step in enumerate(steps):
        if step.kind == "enroll" and step.target not in journey_keys:
            raise ConditionError(
                "no such journey: {key!r}",
                (*path, "steps", i, "enroll", "journey"),
                key=step.target,
            )
        if step.kind == "enroll" and step.target == definition.key:
            raise ConditionError(
                "a journey cannot enroll in itself (jumps go forward)",
                (*path, "steps", i, "enroll", "journey"),
            )
    return Journey(
        key=definition.key,
        name=definition.name or definition.key,
        trigger=kind,
        event_names=names,
        where=where,
        trigger_value=value,
        entry=_condition(definition.if_, (*path, "if"), stages, personas),
        reentry=reentry,
        reentry_after=after,
        max_age=parse_duration(definition.max_age),
        zone=ZoneInfo(definition.time_zone),
        goal=_condition(definition.goal, (*path, "goal"), stages, personas),
        exit_when=_condition(definition.exit_when, (*path, "exit_when"), stages, personas),
        steps={s.id: s for s in steps},
        first=steps[0].id,
        cron=cron,
        limit_per_second=definition.limits.per_second if definition.limits else None,
        limit_total=definition.limits.total if definition.limits else None,
    )


def _threshold(
    model: str, at: float, thresholds: dict[str, list[tuple[float, str]]], path: Path
) -> tuple[str, str]:
    """A score trigger is one of the model's thresholds: the rules engine already emits its
    event when a person crosses it (once_per as the threshold says), so the journey reuses that
    event rather than computing scores again. Returns the threshold's rule id and event."""
    where: Path = (*path, "trigger", "score")
    if model not in thresholds:
        raise ConditionError("no such score model: {key!r}", (*where, "model"), key=model)
    for threshold_at, emit in thresholds[model]:
        if threshold_at == at:
            return f"{model}@{at:g}", emit
    listed = ", ".join(f"{t:g}" for t, _ in thresholds[model]) or "none"
    raise ConditionError(
        "score model {model!r} has no threshold at {at:g} (its thresholds: {listed}); "
        "add one to its `thresholds`",
        (*where, "gte"),
        model=model,
        at=at,
        listed=listed,
    )


def _steps(
    defined: list[JourneyStep],
    path: Path,
    stages: set[str],
    personas: set[str],
    models: set[str],
) -> list[Step]:
    position: dict[str, int] = {}
    for i, step in enumerate(defined):
        if step.id == EXIT:
            raise ConditionError(
                "{exit!r} is where jumps leave: name the step otherwise",
                (*path, i, "id"),
                exit=EXIT,
            )
        if step.id in position:
            raise ConditionError("step {id!r} is defined twice", (*path, i, "id"), id=step.id)
        position[step.id] = i

    def target(name: str, i: int, where: Path) -> str:
        if name != EXIT and position.get(name, -1) <= i:
            raise ConditionError(
                "{id!r} is not a later step of this journey (jumps go forward, or to exit)",
                where,
                id=name,
            )
        return name

    steps = []
    for i, step in enumerate(defined):
        here: Path = (*path, i)
        following = defined[i + 1].id if i + 1 < len(defined) else None
        after = target(step.next, i, (*here, "next")) if step.next is not None else following
        if step.send is not None:
            steps.append(
                Step(
                    step.id,
                    "send",
                    after,
                    channel=step.send.channel,
                    template=step.send.template,
                    to=step.send.to,
                    on_duty=step.send.on_duty,
                )
            )
        elif step.send_content is not None:
            pick = step.send_content
            steps.append(
                Step(
                    step.id,
                    "send_content",
                    after,
                    channel=pick.channel,
                    template=pick.template,
                    limit=pick.limit,
                    filters=tuple(
                        (kind, value.strip())
                        for kind, value in (
                            ("stage", pick.stage),
                            ("type", pick.type),
                            ("topic", pick.topic),
                        )
                        if value is not None
                    ),
                    fallback=target(pick.fallback, i, (*here, "send_content", "fallback"))
                    if pick.fallback is not None
                    else after,
                )
            )
        elif step.send_winner is not None:
            winner = step.send_winner
            steps.append(
                Step(
                    step.id,
                    "send_winner",
                    after,
                    split=winner.split,
                    by=winner.by,
                    after=parse_duration(winner.after),
                )
            )
        elif step.wait is not None:
            steps.append(Step(step.id, "wait", after, wait=parse_duration(step.wait)))
        elif step.wait_for is not None:
            awaited = step.wait_for
            parsed = condition_from_data(
                {"event": awaited.event, "where": awaited.where}, (*here, "wait_for")
            )
            timeout_goto = (
                target(awaited.goto_timeout, i, (*here, "wait_for", "goto_timeout"))
                if awaited.goto_timeout is not None
                else after
            )
            steps.append(
                Step(
                    step.id,
                    "wait_for",
                    after,
                    wait=parse_duration(awaited.timeout),
                    event=awaited.event.strip(),
                    where=getattr(parsed, "where", ()),
                    timeout_goto=timeout_goto,
                )
            )
        elif isinstance(step.wait_until, str):
            hour, minute = (int(p) for p in step.wait_until.split(":"))
            steps.append(Step(step.id, "wait_until", after, wait_until=time(hour, minute)))
        elif step.wait_until is not None:
            until = step.wait_until
            where: Path = (*here, "wait_until")
            condition = _condition(until.if_, (*where, "if"), stages, personas)
            if condition is None:
                raise ConditionError("wait_until needs the condition it waits for", where)
            steps.append(
                Step(
                    step.id,
                    "wait_condition",
                    after,
                    wait=parse_duration(until.timeout),
                    condition=condition,
                    timeout_goto=target(until.goto_timeout, i, (*where, "goto_timeout"))
                    if until.goto_timeout is not None
                    else after,
                )
            )
        elif step.webhook is not None:
            steps.append(
                Step(step.id, "webhook", after, channel="webhook", template=step.webhook.template)
            )
        elif step.notify is not None:
            note = step.notify
            steps.append(
                Step(
                    step.id,
                    "notify",
                    after,
                    channel=note.channel,
                    template=note.template,
                    to="owner" if note.to == "owner" else "users",
                    notify_role=None if isinstance(note.to, str) else note.to.role,
                    notify_user=None
                    if isinstance(note.to, str) or note.to.user is None
                    else note.to.user.strip().lower(),
                )
            )
        elif step.assign_owner is not None:
            assign = step.assign_owner
            owners = tuple(
                (o.strip().lower(), None)
                if isinstance(o, str)
                else (o.user.strip().lower(), o.wecom_userid)
                for o in assign.round_robin or ()
            )
            steps.append(
                Step(
                    step.id,
                    "assign_owner",
                    after,
                    owners=owners,
                    from_account=assign.from_ == "account",
                    keep_existing=assign.keep_existing,
                )
            )
        elif step.enroll is not None:
            steps.append(Step(step.id, "enroll", after, target=step.enroll.journey))
        elif step.branch is not None:
            arms = []
            for j, arm in enumerate(step.branch):
                at: Path = (*here, "branch", j)
                if arm.if_ is None and j != len(step.branch) - 1:
                    raise ConditionError("the arm without `if` is the fallback: put it last", at)
                arms.append(
                    Arm(
                        target(arm.goto, i, (*at, "goto")),
                        _condition(arm.if_, (*at, "if"), stages, personas),
                    )
                )
            steps.append(Step(step.id, "branch", following, arms=tuple(arms)))
        elif step.split is not None:
            variants = [arm.variant for arm in step.split]
            if len(set(variants)) != len(variants):
                raise ConditionError("each variant is named once", (*here, "split"))
            arms = [
                Arm(target(arm.goto, i, (*here, "split", j, "goto")), None, arm.variant, arm.weight)
                for j, arm in enumerate(step.split)
            ]
            steps.append(Step(step.id, "split", following, arms=tuple(arms)))
        elif step.add_tags is not None or step.remove_tags is not None:
            for action in ("add_tags", "remove_tags"):
                for j, tag in enumerate(getattr(step, action) or ()):
                    if not tag.strip() or len(tag) > 200:
                        raise ConditionError("a tag is 1 to 200 characters", (*here, action, j))
            steps.append(
                Step(
                    step.id,
                    "tags",
                    after,
                    add_tags=tuple(t.strip() for t in step.add_tags or ()),
                    remove_tags=tuple(t.strip() for t in step.remove_tags or ()),
                )
            )
        elif step.add_points is not None:
            for model in step.add_points:
                if model not in models:
                    raise ConditionError(
                        "no such score model: {key!r}", (*here, "add_points", model), key=model
                    )
            steps.append(Step(step.id, "points", after, points=tuple(step.add_points.items())))
        elif step.set_stage is not None:
            if step.set_stage not in stages:
                raise ConditionError(
                    "no such stage: {key!r}", (*here, "set_stage"), key=step.set_stage
                )
            steps.append(Step(step.id, "stage", after, stage=step.set_stage))
        elif step.set_trait is not None:
            if not step.set_trait:
                raise ConditionError("set_trait names at least one trait", (*here, "set_trait"))
            steps.append(Step(step.id, "trait", after, traits=tuple(step.set_trait.items())))
        else:
            steps.append(Step(step.id, "exit", EXIT))
        if step.name is not None:
            named = {"": step.name} if isinstance(step.name, str) else dict(step.name)
            steps[-1] = replace(steps[-1], names=tuple(sorted(named.items())))
    _check_winners(steps, path)
    return steps


def tested_arms(split: Step, winner_step: str) -> tuple[Arm, ...]:
    """The variants of an A/B test: the split's arms that do not wait for its winner."""
    return tuple(arm for arm in split.arms if arm.goto != winner_step)


def _check_winners(steps: list[Step], path: Path) -> None:
    """A send_winner names an earlier split, one of whose arms leads to it; the split's other
    arms (the variants tested) each go straight to a send step, whose message is the one the
    winner's rest receives."""
    by_id = {s.id: (i, s) for i, s in enumerate(steps)}
    for i, step in enumerate(steps):
        if step.kind != "send_winner":
            continue
        where: Path = (*path, i, "send_winner", "split")
        found = by_id.get(step.split or "")
        if found is None or found[1].kind != "split" or found[0] >= i:
            raise ConditionError(
                "{id!r} is not an earlier split of this journey", where, id=step.split
            )
        split = found[1]
        if not any(arm.goto == step.id for arm in split.arms):
            raise ConditionError(
                "no arm of split {split!r} goes to {id!r} to wait for the winner",
                where,
                split=split.id,
                id=step.id,
            )
        tested = tested_arms(split, step.id)
        if len(tested) < 2:
            raise ConditionError(
                "split {split!r} tests fewer than two variants", where, split=split.id
            )
        for arm in tested:
            target = by_id.get(arm.goto)
            if target is None or target[1].kind != "send":
                raise ConditionError(
                    "variant {variant!r} of split {split!r} must go to a send step "
                    "(its message is what the winner's rest gets)",
                    where,
                    variant=arm.variant,
                    split=split.id,
                )
