"""The rules engine: one person's events, in time order, through tags, scores, key events and
stages. The live pipeline and backfills run the same code, so they reach the same state."""

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from leadpond.conditions.durations import format_duration
from leadpond.conditions.evaluate import EventRecord, ProfileSnapshot, field_holds, matches
from leadpond.kit.clock import isoformat
from leadpond.rules.profile_cache import ProfileAnswers
from leadpond.rules.ruleset import CompiledTrigger, Guard, Ruleset, StageRule, fill

# A derived event may cause another (MQL Reached -> a stage); this bounds any loop in a playbook.
MAX_DERIVED_PER_EVENT = 16
# Message ids of the events the rules derive; segments and others derive events of their own.
RULE_EVENT_PREFIX = "rule:"
# What a journey's points and stage steps write to the log (properties: journey, step,
# add_points {model: points}, set_stage): the rules apply it at its time, live and in replays.
JOURNEY_ACTION = "Journey Action"


def merge_traits(traits: dict[str, Any], asserted: Any) -> dict[str, Any]:
    """Traits after one identify call (non-null values win), as conditions see them."""
    if not isinstance(asserted, dict) or not asserted:
        return traits
    return {**traits, **{k: v for k, v in asserted.items() if v is not None}}


@dataclass
class TagRow:
    tag: str
    category: str | None
    source: str
    rule_id: str | None
    event_id: int | None
    actor: str
    added_at: datetime


@dataclass
class PersonState:
    """A person's rule state while events are applied; ``initial_*`` is what the database holds."""

    person_id: int
    snap: ProfileSnapshot
    tags: dict[str, TagRow] = field(default_factory=dict)
    stage_entered: datetime | None = None
    caps: dict[str, list[tuple[datetime, float]]] = field(default_factory=dict)
    fired: dict[str, list[datetime]] = field(default_factory=dict)
    # Results of profile-only conditions, which cannot change during one run.
    static: dict[object, bool] = field(default_factory=dict)
    initial_tags: dict[str, TagRow] = field(default_factory=dict)
    initial_scores: dict[str, tuple[float, datetime]] = field(default_factory=dict)
    initial_stage: tuple[str, datetime] | None = None
    # When the person's latest event happened (idle stage rules count from it).
    last_active: datetime | None = None
    # The stage an idle rule moved the person out of: activity brings them back to it.
    revive_to: str | None = None
    # Tags a rule took off in this run, and when (the event's time): journeys' tag_removed.
    removed: dict[str, datetime] = field(default_factory=dict)


@dataclass
class Output:
    ledger: list[dict[str, Any]] = field(default_factory=list)
    stage_changes: list[dict[str, Any]] = field(default_factory=list)
    derived: list[dict[str, Any]] = field(default_factory=list)


class Engine:
    def __init__(self, ruleset: Ruleset, *, shared_answers: bool = False) -> None:
        self.rs = ruleset
        self.out = Output()
        # A live batch sees many people with the same titles and industries; a replay sees few
        # people whose traits change with every identify call, where sharing does not pay.
        self.profile_answers = ProfileAnswers(ruleset.context) if shared_answers else None
        order = ruleset.context.stages
        self.position = {key: i for i, key in enumerate(order)}
        self.detours, self.sticky = ruleset.detours, ruleset.sticky
        # Detours first (explicit exits), then the furthest stage: the first match wins.
        self.stage_rules = sorted(
            (r for r in ruleset.stage_rules if r.idle is None),
            key=lambda r: (r.to not in self.detours, -self.position.get(r.to, -1)),
        )
        # Rules that time alone fires, shortest quiet period first (dormant, then lost...).
        self.idle_rules = sorted(
            (r for r in ruleset.stage_rules if r.idle is not None),
            key=lambda r: r.idle or timedelta(0),
        )
        self.idle_targets = {r.to for r in self.idle_rules}
        # Current stage -> the stage rules that may move a person on from it, in order.
        self._movable: dict[str | None, list[StageRule]] = {}

    def apply(
        self, state: PersonState, record: EventRecord, traits: dict[str, Any] | None = None
    ) -> None:
        """Apply one event (at its own time) and whatever it derives.

        Identify calls pass their ``traits``, so conditions see the traits as they were then.
        """
        snap = state.snap
        if self.idle_rules:
            self.settle(state, record.timestamp)
            if snap.stage in self.idle_targets and state.revive_to is not None:
                self._revive(state, record)
        if state.last_active is None or record.timestamp > state.last_active:
            state.last_active = record.timestamp
        if traits:
            snap.traits = merge_traits(snap.traits, traits)
            state.static.clear()
        snap.now = record.timestamp
        self._remember(snap, record)
        queue = deque([record])
        if record.name == JOURNEY_ACTION:
            queue.extend(self._journey_action(state, record))
        names = {record.name}
        derived = 0
        while queue:
            current = queue.popleft()
            emitted = self._tags_and_scores(state, current)
            emitted += self._key_events(state, current)
            derived += len(emitted)
            if derived <= MAX_DERIVED_PER_EVENT:
                queue.extend(emitted)
                names.update(e.name for e in emitted)
        self._stage(state, record, names)

    def settle(self, state: PersonState, at: datetime) -> None:
        """Apply the idle rules whose quiet period ended by ``at``, each at the moment it ended.

        The live pipeline calls this before each event and its sweep at "now"; a replay before
        each event and at its end: both record the same change at the same time.
        """
        last = state.last_active
        if last is None:
            return
        snap = state.snap
        for rule in self.idle_rules:
            assert rule.idle is not None
            moved_at = last + rule.idle
            if moved_at > at or not self.allowed(snap.stage, rule):
                continue
            if rule.condition is not None:
                was, snap.now = snap.now, moved_at
                holds = matches(rule.condition, snap)
                snap.now = was
                if not holds:
                    continue
            self.out.stage_changes.append(
                {
                    "person_id": state.person_id,
                    "from_stage": snap.stage,
                    "to_stage": rule.to,
                    "rule_id": rule.id,
                    "event_id": None,
                    "reason": f"rule {rule.id}: no activity for {format_duration(rule.idle)}",
                    "at": moved_at,
                }
            )
            if snap.stage not in self.idle_targets:
                state.revive_to = snap.stage
            snap.stage, state.stage_entered = rule.to, moved_at

    def _revive(self, state: PersonState, record: EventRecord) -> None:
        """Activity ends an idle stage: back to the stage the person was in before it."""
        snap = state.snap
        self.out.stage_changes.append(
            {
                "person_id": state.person_id,
                "from_stage": snap.stage,
                "to_stage": state.revive_to,
                "rule_id": None,
                "event_id": record.event_id,
                "reason": f"activity resumed ({record.name})"[:300],
                "at": record.timestamp,
            }
        )
        snap.stage, state.stage_entered = state.revive_to, record.timestamp
        state.revive_to = None

    def _remember(self, snap: ProfileSnapshot, record: EventRecord) -> None:
        if record.name in self.rs.history:
            snap.events.setdefault(record.name, []).append(record)

    def _fires(
        self, trigger: CompiledTrigger | None, guard: Guard, state: PersonState, record: EventRecord
    ) -> bool:
        if trigger is not None and (
            record.name not in trigger.names
            or not all(field_holds(f, record.properties) for f in trigger.where)
        ):
            return False
        if guard.static and guard.condition is not None:
            return self._once(state, id(guard), guard.condition)
        usable, condition = guard.bind(record.properties)
        return usable and (condition is None or matches(condition, state.snap))

    def _once(self, state: PersonState, key: object, condition: Any) -> bool:
        found = state.static.get(key)
        if found is None:
            answers = self.profile_answers
            found = state.static[key] = (
                matches(condition, state.snap)
                if answers is None
                else answers.matches(condition, state.snap)
            )
        return found

    def _tags_and_scores(self, state: PersonState, record: EventRecord) -> list[EventRecord]:
        tag_rules, score_rules = self.rs.rules_for(record.name)
        for tag_rule in tag_rules:
            if not self._fires(tag_rule.trigger, tag_rule.guard, state, record):
                continue
            for template in tag_rule.add:
                tag = fill(template, record.properties)
                if tag is not None and tag not in state.tags:
                    category = tag.partition(":")[0] if ":" in tag else None
                    state.tags[tag] = TagRow(
                        tag,
                        category,
                        "rule",
                        tag_rule.id,
                        record.event_id,
                        "rule",
                        record.timestamp,
                    )
                    state.snap.tags.add(tag)
                    state.removed.pop(tag, None)
            for template in tag_rule.remove:
                tag = fill(template, record.properties)
                if tag is not None and state.tags.pop(tag, None) is not None:
                    state.snap.tags.discard(tag)
                    state.removed[tag] = record.timestamp
        emitted: list[EventRecord] = []
        for rule in score_rules:
            given = state.caps.setdefault(rule.id, [])
            if rule.once and given:
                continue
            if not self._fires(rule.trigger, rule.guard, state, record):
                continue
            points = rule.points
            if rule.cap_points is not None and points > 0:
                window = [
                    p
                    for at, p in given
                    if rule.cap_per is None or at > record.timestamp - rule.cap_per
                ]
                points = min(points, rule.cap_points - sum(window))
                if points <= 0:
                    continue
            before = state.snap.score(rule.model)
            after = before + points
            state.snap.scores[rule.model] = (after, record.timestamp)
            given.append((record.timestamp, points))
            self.out.ledger.append(
                {
                    "person_id": state.person_id,
                    "model": rule.model,
                    "rule_id": rule.id,
                    "event_id": record.event_id,
                    "points": points,
                    "reason": f"{rule.reason} ({record.name})"[:300],
                    "at": record.timestamp,
                }
            )
            emitted += self._thresholds(state, rule.model, before, after, record)
        return emitted

    def _thresholds(
        self, state: PersonState, model: str, before: float, after: float, record: EventRecord
    ) -> list[EventRecord]:
        """The events of the model's thresholds crossed upward from ``before`` to ``after``."""
        emitted: list[EventRecord] = []
        for threshold in self.rs.thresholds.get(model, ()):
            if before < threshold.at <= after:
                reason = f"{model} reached {threshold.at:g}"
                emitted += self._emit(
                    state, threshold.key, threshold.emit, threshold.once_per, record, reason
                )
        return emitted

    def _journey_action(self, state: PersonState, record: EventRecord) -> list[EventRecord]:
        """A journey step's points (on the ledger, crossing thresholds like any rule's) and
        stage (set as the journey says, whatever the funnel order: the journey decided it)."""
        props = record.properties
        journey, step = props.get("journey"), props.get("step")
        rule_id = f"journey:{journey}:{step}"[:100]
        reason = f"journey {journey} step {step}"[:300]
        emitted: list[EventRecord] = []
        points = props.get("add_points")
        for model, value in points.items() if isinstance(points, dict) else ():
            if model not in self.rs.models or isinstance(value, bool):
                continue
            if not isinstance(value, int | float):
                continue
            before = state.snap.score(model)
            after = before + value
            state.snap.scores[model] = (after, record.timestamp)
            self.out.ledger.append(
                {
                    "person_id": state.person_id,
                    "model": model,
                    "rule_id": rule_id,
                    "event_id": record.event_id,
                    "points": float(value),
                    "reason": reason,
                    "at": record.timestamp,
                }
            )
            emitted += self._thresholds(state, model, before, after, record)
        stage = props.get("set_stage")
        known = {s.key for s in self.rs.stages}
        if isinstance(stage, str) and stage in known and stage != state.snap.stage:
            self.out.stage_changes.append(
                {
                    "person_id": state.person_id,
                    "from_stage": state.snap.stage,
                    "to_stage": stage,
                    "rule_id": rule_id,
                    "event_id": record.event_id,
                    "reason": reason,
                    "at": record.timestamp,
                }
            )
            state.snap.stage, state.stage_entered = stage, record.timestamp
            state.revive_to = None
        return emitted

    def _key_events(self, state: PersonState, record: EventRecord) -> list[EventRecord]:
        emitted: list[EventRecord] = []
        for rule in self.rs.key_events:
            if (
                rule.trigger is None
                and rule.wakes_on is not None
                and record.name not in rule.wakes_on
            ):
                continue
            if self._fires(rule.trigger, rule.guard, state, record):
                emitted += self._emit(
                    state, rule.id, rule.emit, rule.once_per, record, f"key event {rule.id}"
                )
        return emitted

    def _emit(
        self,
        state: PersonState,
        key: str,
        name: str,
        once_per: Any,
        cause: EventRecord,
        reason: str,
    ) -> list[EventRecord]:
        at = cause.timestamp
        fired = state.fired.setdefault(key, [])
        if any(
            once_per is None or previous > at - once_per for previous in fired if previous <= at
        ):
            return []
        fired.append(at)
        properties = {"rule_id": key, "reason": reason, "cause_event_id": cause.event_id}
        record = EventRecord(name, at, properties, None, key)
        self._remember(state.snap, record)
        self.out.derived.append(
            {
                "person_id": state.person_id,
                "message_id": f"{RULE_EVENT_PREFIX}{key}:{state.person_id}:{isoformat(at)}",
                "event": name,
                "timestamp": at,
                "properties": properties,
            }
        )
        return [record]

    def allowed(self, current: str | None, rule: StageRule) -> bool:
        """True when this rule may move a person out of ``current``."""
        if rule.to == current:
            return False
        if current in self.sticky and not rule.allow_regress:
            return False
        if (
            rule.to in self.detours
            or rule.allow_regress
            or current is None
            or current in self.detours
        ):
            return True
        return self.position[rule.to] > self.position[current]

    def _stage(self, state: PersonState, record: EventRecord, names: set[str]) -> None:
        current = state.snap.stage
        movable = self._movable.get(current)
        if movable is None:
            movable = self._movable[current] = [
                rule for rule in self.stage_rules if self.allowed(current, rule)
            ]
        for rule in movable:
            hit = rule.condition is None
            if not hit and rule.static_part is not None:
                hit = self._once(state, rule.id, rule.static_part)
            if (
                not hit
                and rule.dynamic_part is not None
                and (rule.wakes_on is None or not rule.wakes_on.isdisjoint(names))
            ):
                hit = matches(rule.dynamic_part, state.snap)
            if hit:
                state.snap.stage, state.stage_entered = rule.to, record.timestamp
                self.out.stage_changes.append(
                    {
                        "person_id": state.person_id,
                        "from_stage": current,
                        "to_stage": rule.to,
                        "rule_id": rule.id,
                        "event_id": record.event_id,
                        "reason": f"rule {rule.id} on {record.name}"[:300],
                        "at": record.timestamp,
                    }
                )
                return
