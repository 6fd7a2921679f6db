"""Compiling a validated playbook into a ``Ruleset``: parse every condition, check every
reference (stages, score models, personas, segments, tag categories), index rules by event."""

from dataclasses import replace
from datetime import timedelta
from typing import Any

from leadpond.conditions.ast import (
    AccountMatch,
    AccountPeople,
    AllOf,
    AnyOf,
    Behaviour,
    Condition,
    Grade,
    NotOf,
    Persona,
    Score,
    Segment,
    Stage,
    Trait,
    walk,
)
from leadpond.conditions.durations import parse_duration
from leadpond.conditions.evaluate import FALLBACK_GRADE, ConditionContext
from leadpond.conditions.parse import PLACEHOLDER, ConditionError, condition_from_data
from leadpond.conditions.source import Path
from leadpond.rules.playbook import Playbook, Trigger
from leadpond.rules.ruleset import (
    CompiledTrigger,
    Guard,
    KeyEventRule,
    Ruleset,
    ScoreRule,
    StageRule,
    TagRule,
    Threshold,
    placeholders,
)


def compile_playbook(playbook: Playbook, version_id: int = 0) -> Ruleset:
    """Parse and cross-check every condition and reference; errors name the path."""
    return _Compiler(playbook).build(version_id)


class _Compiler:
    def __init__(self, playbook: Playbook) -> None:
        self.pb = playbook
        self.rule_ids: set[str] = set()
        self.conditions: list[tuple[Condition, Path]] = []
        self.segment_only_keys: set[str] = set()

    def unique(self, key: str, seen: set[str], path: Path) -> None:
        if key in seen:
            raise ConditionError(f"{key!r} is defined twice", path)
        seen.add(key)

    def condition(self, data: Any, path: Path, *, templated: bool = False) -> Guard:
        if data is None:
            return Guard(None)
        if placeholders(data):
            if not templated:
                raise ConditionError("{placeholders} need a rule with an `on` event", path)
            condition_from_data(_strip_placeholders(data), path)
            return Guard(None, template=data)
        parsed = condition_from_data(data, path)
        self.conditions.append((parsed, path))
        # Not memoisable until ``_settle`` proves it reads only the profile (it needs every
        # persona and segment definition, so it runs once all are parsed).
        return Guard(parsed)

    def trigger(self, trigger: Trigger | None, path: Path) -> CompiledTrigger | None:
        if trigger is None:
            return None
        names = [trigger.event] if isinstance(trigger.event, str) else trigger.event
        if not names or not all(isinstance(n, str) and n.strip() for n in names):
            raise ConditionError(
                "on.event takes an event name or a list of names", (*path, "event")
            )
        where = condition_from_data({"event": names[0], "where": trigger.where}, path)
        assert isinstance(where, Behaviour)
        return CompiledTrigger(frozenset(n.strip() for n in names), where.where)

    def build(self, version_id: int) -> Ruleset:
        pb = self.pb
        stage_keys: set[str] = set()
        for i, stage in enumerate(pb.stages):
            self.unique(stage.key, stage_keys, ("stages", i, "key"))
        categories: set[str] = set()
        for i, category in enumerate(pb.tag_categories):
            self.unique(category.key, categories, ("tag_categories", i, "key"))
        personas = {
            p.key: self.condition(p.if_, ("personas", i, "if")) for i, p in enumerate(pb.personas)
        }
        segments = {
            s.key: self.condition(s.if_, ("segments", i, "if"))
            for i, s in enumerate(pb.segments)
            if s.if_ is not None and s.level == "person"
        }
        # Lists and account segments: segment definitions may read them, rules may not.
        self.segment_only_keys = {s.key for s in pb.segments if s.key not in segments}
        for i, s in enumerate(pb.segments):
            if s.if_ is not None and s.level == "account":
                self.condition(s.if_, ("segments", i, "if"))
        for section, keys in (
            ("personas", [p.key for p in pb.personas]),
            ("segments", [s.key for s in pb.segments]),
        ):
            seen: set[str] = set()
            for i, key in enumerate(keys):
                self.unique(key, seen, (section, i, "key"))
        tag_rules = []
        for i, tag_rule in enumerate(pb.tag_rules):
            path: Path = ("tag_rules", i)
            self.unique(tag_rule.id, self.rule_ids, (*path, "id"))
            on = tag_rule.on is not None
            for action in ("add_tags", "remove_tags"):
                for j, tag in enumerate(getattr(tag_rule.then, action)):
                    self.check_tag(tag, categories, (*path, "then", action, j), on)
            tag_rules.append(
                TagRule(
                    tag_rule.id,
                    self.trigger(tag_rule.on, (*path, "on")),
                    self.condition(tag_rule.if_, (*path, "if"), templated=on),
                    tuple(tag_rule.then.add_tags),
                    tuple(tag_rule.then.remove_tags),
                )
            )
        score_rules: list[ScoreRule] = []
        thresholds: dict[str, list[Threshold]] = {}
        half_lives: dict[str, timedelta] = {}
        grades: dict[str, list[tuple[str, float]]] = {}
        models: set[str] = set()
        for i, model in enumerate(pb.score_models):
            self.unique(model.key, models, ("score_models", i, "key"))
            if model.half_life:
                half_lives[model.key] = parse_duration(model.half_life)
            if model.grades:
                grades[model.key] = sorted(model.grades.items(), key=lambda g: -g[1])
            thresholds[model.key] = [
                Threshold(f"{model.key}@{t.at:g}", model.key, t.at, t.emit, _maybe(t.once_per))
                for t in model.thresholds
            ]
            for j, rule in enumerate(model.rules):
                path = ("score_models", i, "rules", j)
                self.unique(rule.id, self.rule_ids, (*path, "id"))
                score_rules.append(
                    ScoreRule(
                        rule.id,
                        model.key,
                        self.trigger(rule.on, (*path, "on")),
                        self.condition(rule.if_, (*path, "if"), templated=rule.on is not None),
                        rule.points,
                        rule.once,
                        rule.cap.points if rule.cap else None,
                        _maybe(rule.cap.per) if rule.cap else None,
                        rule.reason or rule.id,
                    )
                )
        key_events = []
        for i, key_event in enumerate(pb.key_events):
            path = ("key_events", i)
            self.unique(key_event.id, self.rule_ids, (*path, "id"))
            guard = self.condition(key_event.if_, (*path, "if"), templated=key_event.on is not None)
            key_events.append(
                KeyEventRule(
                    key_event.id,
                    key_event.emit,
                    self.trigger(key_event.on, (*path, "on")),
                    guard,
                    _maybe(key_event.once_per),
                    _wakes_on(guard.condition) if guard.template is None else None,
                )
            )
        stage_rules = []
        for i, stage_rule in enumerate(pb.stage_rules):
            path = ("stage_rules", i)
            if stage_rule.to not in stage_keys:
                raise ConditionError(f"no such stage: {stage_rule.to!r}", (*path, "to"))
            rule_id = stage_rule.id or f"stage:{stage_rule.to}:{i}"
            self.unique(rule_id, self.rule_ids, (*path, "id"))
            guard = self.condition(stage_rule.if_, (*path, "if"))
            stage_rules.append(
                StageRule(
                    rule_id,
                    stage_rule.to,
                    guard.condition,
                    stage_rule.allow_regress,
                    idle=_maybe(stage_rule.idle),
                )
            )
        context = ConditionContext(
            stages=tuple(s.key for s in pb.stages if not s.detour),
            personas={k: g.condition for k, g in personas.items() if g.condition is not None},
            segments={k: g.condition for k, g in segments.items() if g.condition is not None},
            half_lives=half_lives,
            grades={model: tuple(table) for model, table in grades.items()},
        )
        self.check_references(context, stage_keys, models)
        tag_rules = [replace(r, guard=_settle(r.guard, context)) for r in tag_rules]
        score_rules = [replace(r, guard=_settle(r.guard, context)) for r in score_rules]
        key_events = [replace(r, guard=_settle(r.guard, context)) for r in key_events]
        stage_rules = [_split(r, context) for r in stage_rules]
        # What the rules need loaded: persona and segment definitions count only where used.
        atoms = [
            node
            for cond, path in self.conditions
            if path[0] not in ("personas", "segments")
            for node in _expand(cond, context)
        ]
        behaviours = [a for a in atoms if isinstance(a, Behaviour)]
        templated = [r.if_ for r in pb.tag_rules] + [k.if_ for k in pb.key_events]
        templated += [r.if_ for m in pb.score_models for r in m.rules]
        for data in templated:
            if placeholders(data):
                behaviours += [_template_atom(d) for d in _behaviour_data(data)]
        return Ruleset(
            version_id=version_id,
            stages=list(pb.stages),
            context=context,
            tag_rules=tag_rules,
            score_rules=score_rules,
            models=[m.key for m in pb.score_models],
            half_lives=half_lives,
            grades=grades,
            thresholds=thresholds,
            key_events=key_events,
            stage_rules=stage_rules,
            personas=[(p.key, p.name) for p in pb.personas],
            history=_history(behaviours),
            needs_accounts=any(a.kind in ("account", "account_people") for a in atoms),
        )

    def check_tag(self, tag: str, categories: set[str], path: Path, templated: bool) -> None:
        if not tag.strip():
            raise ConditionError("a tag must not be empty", path)
        if PLACEHOLDER.search(tag) and not templated:
            raise ConditionError("{placeholders} need a rule with an `on` event", path)
        category, sep, _ = tag.partition(":")
        if sep and categories and category not in categories:
            raise ConditionError(f"no such tag category: {category!r}", path)

    def check_references(
        self, context: ConditionContext, stages: set[str], models: set[str]
    ) -> None:
        for cond, path in self.conditions:
            for node in walk(cond):
                problem = None
                if isinstance(node, Score | Grade) and node.model not in models:
                    problem = f"no such score model: {node.model!r}"
                elif isinstance(node, Grade):
                    problem = _grade_problem(node, context)
                elif isinstance(node, Stage):
                    for test in node.tests:
                        values = test.value if isinstance(test.value, tuple) else (test.value,)
                        unknown = [v for v in values if test.op != "exists" and v not in stages]
                        problem = f"no such stage: {unknown[0]!r}" if unknown else problem
                elif isinstance(node, Persona) and node.key not in context.personas:
                    problem = f"no such persona: {node.key!r}"
                elif isinstance(node, Segment) and node.key not in context.segments:
                    if node.key not in self.segment_only_keys:
                        problem = f"no such segment: {node.key!r}"
                    elif path[0] != "segments":
                        problem = (
                            f"segment {node.key!r} is a static list or an account segment: "
                            "only segments can use it"
                        )
                if problem:
                    raise ConditionError(problem, path)
        for section, table in (("personas", context.personas), ("segments", context.segments)):
            for key in table:
                _acyclic(section, key, context, ())


def _acyclic(section: str, key: str, context: ConditionContext, trail: tuple[str, ...]) -> None:
    if f"{section}:{key}" in trail:
        raise ConditionError(
            f"{section} refer to each other in a loop: {' -> '.join(trail)}", (section,)
        )
    table = context.personas if section == "personas" else context.segments
    if key not in table:  # a static list or an account segment: it refers to nothing
        return
    for node in walk(table[key]):
        if isinstance(node, Persona | Segment):
            nested = "personas" if isinstance(node, Persona) else "segments"
            _acyclic(nested, node.key, context, (*trail, f"{section}:{key}"))


_STATIC = (Trait, AccountMatch, AccountPeople, AllOf, AnyOf, NotOf, Persona, Segment)


def _grade_problem(node: Grade, context: ConditionContext) -> str | None:
    table = context.grades.get(node.model)
    if not table:
        return f"score model {node.model!r} has no grades"
    letters = {letter for letter, _ in table} | {FALLBACK_GRADE}
    for test in node.tests:
        values = test.value if isinstance(test.value, tuple) else (test.value,)
        unknown = [v for v in values if v not in letters]
        if unknown:
            return f"no such grade of {node.model!r}: {unknown[0]!r} (grades: {sorted(letters)})"
    return None


def _static(cond: Condition, context: ConditionContext) -> bool:
    return all(isinstance(node, _STATIC) for node in _expand(cond, context))


def _settle(guard: Guard, context: ConditionContext) -> Guard:
    """Mark a parsed guard static when it reads only the profile (not events, scores, tags)."""
    static = guard.condition is not None and _static(guard.condition, context)
    return replace(guard, static=static)


def _split(rule: StageRule, context: ConditionContext) -> StageRule:
    """Separate a stage rule's profile-only alternatives from those that follow events."""
    cond = rule.condition
    if cond is None or rule.idle is not None:
        return rule
    if _static(cond, context):
        return replace(rule, static_part=cond)
    items = list(cond.items) if isinstance(cond, AnyOf) else [cond]
    static = [c for c in items if _static(c, context)]
    dynamic = [c for c in items if not _static(c, context)]
    dynamic_part = dynamic[0] if len(dynamic) == 1 else AnyOf(items=tuple(dynamic))
    return replace(
        rule,
        static_part=(static[0] if len(static) == 1 else AnyOf(items=tuple(static)))
        if static
        else None,
        dynamic_part=dynamic_part,
        wakes_on=_wakes_on(dynamic_part),
    )


def _expand(cond: Condition, context: ConditionContext) -> list[Condition]:
    """Every node of a condition, following persona and segment references into theirs."""
    found = []
    for node in walk(cond):
        found.append(node)
        if isinstance(node, Persona):
            found += _expand(context.persona(node.key), context)
        elif isinstance(node, Segment):
            found += _expand(context.segment(node.key), context)
    return found


def _maybe(text: str | None) -> timedelta | None:
    return parse_duration(text) if text else None


def _strip_placeholders(data: Any) -> Any:
    if isinstance(data, str):
        return PLACEHOLDER.sub("x", data)
    if isinstance(data, dict):
        return {k: _strip_placeholders(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_strip_placeholders(v) for v in data]
    return data


def _behaviour_data(data: Any) -> list[dict[str, Any]]:
    """Behaviour atoms inside raw (templated) condition data."""
    if isinstance(data, dict):
        found = [data] if "event" in data else []
        return found + [d for v in data.values() for d in _behaviour_data(v)]
    if isinstance(data, list):
        return [d for v in data for d in _behaviour_data(v)]
    return []


def _template_atom(data: dict[str, Any]) -> Behaviour:
    """The name and window of a templated behaviour atom (its values are filled per event)."""
    within = data.get("within")
    return Behaviour(
        event=str(data.get("event")), within=parse_duration(within) if within else None
    )


def _history(behaviours: list[Behaviour]) -> dict[str, timedelta | None]:
    windows: dict[str, timedelta | None] = {}
    for atom in behaviours:
        if atom.event in windows and windows[atom.event] is None:
            continue
        known = windows.get(atom.event, timedelta(0))
        windows[atom.event] = (
            None if atom.within is None else max(known or atom.within, atom.within)
        )
    return windows


def _wakes_on(condition: Condition | None) -> frozenset[str] | None:
    if condition is None:
        return None
    nodes = walk(condition)
    if all(n.kind in ("event", "all", "any") for n in nodes):
        return frozenset(n.event for n in nodes if isinstance(n, Behaviour))
    return None
