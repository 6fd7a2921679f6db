"""A playbook compiled for the engine: parsed conditions, rules indexed by event name."""

import re
from dataclasses import dataclass, field
from datetime import timedelta
from functools import lru_cache
from typing import Any

from leadpond.conditions.ast import (
    Behaviour,
    Condition,
    FieldTest,
    Persona,
    Score,
    Segment,
    Stage,
    walk,
)
from leadpond.conditions.durations import parse_duration
from leadpond.conditions.evaluate import ConditionContext
from leadpond.conditions.parse import PLACEHOLDER, ConditionError, condition_from_data
from leadpond.conditions.source import Path
from leadpond.playbooks.schema import Playbook, StageDef, Trigger

MISSING_VALUE = object()


@dataclass(frozen=True)
class CompiledTrigger:
    names: frozenset[str]
    where: tuple[FieldTest, ...]


@dataclass(frozen=True)
class Guard:
    """A rule's ``if``: parsed once, or re-parsed per event when it holds ``{placeholders}``."""

    condition: Condition | None
    template: Any = None

    def bind(self, properties: dict[str, Any]) -> tuple[bool, Condition | None]:
        """(usable, condition) for this event; unusable when a placeholder has no value."""
        if self.template is None:
            return True, self.condition
        values: dict[str, Any] = {}
        for name in sorted(_placeholders(self.template)):
            value = lookup(properties, name)
            if value is MISSING_VALUE or value is None or isinstance(value, dict | list):
                return False, None
            values[name] = value
        return True, _bound(self.template_key, tuple(sorted(values.items())))

    @property
    def template_key(self) -> str:
        return _remember(self.template)


@dataclass(frozen=True)
class TagRule:
    id: str
    trigger: CompiledTrigger | None
    guard: Guard
    add: tuple[str, ...]
    remove: tuple[str, ...]


@dataclass(frozen=True)
class ScoreRule:
    id: str
    model: str
    trigger: CompiledTrigger | None
    guard: Guard
    points: float
    once: bool
    cap_points: float | None
    cap_per: timedelta | None
    reason: str


@dataclass(frozen=True)
class Threshold:
    key: str
    model: str
    at: float
    emit: str
    once_per: timedelta | None


@dataclass(frozen=True)
class KeyEventRule:
    id: str
    emit: str
    trigger: CompiledTrigger | None
    guard: Guard
    once_per: timedelta | None
    # Event names that can make a purely behavioural condition true (None: any event can).
    wakes_on: frozenset[str] | None


@dataclass(frozen=True)
class StageRule:
    id: str
    to: str
    condition: Condition | None
    allow_regress: bool


@dataclass
class Ruleset:
    version_id: int
    stages: list[StageDef]
    context: ConditionContext
    tag_rules: list[TagRule]
    score_rules: list[ScoreRule]
    models: list[str]
    half_lives: dict[str, timedelta]
    grades: dict[str, list[tuple[str, float]]]
    thresholds: dict[str, list[Threshold]]
    key_events: list[KeyEventRule]
    stage_rules: list[StageRule]
    personas: list[tuple[str, str | None]]
    # Event name -> how far back conditions look (None: all time).
    history: dict[str, timedelta | None]
    needs_accounts: bool
    _by_name: dict[str, tuple[list[TagRule], list[ScoreRule]]] = field(default_factory=dict)

    @property
    def detours(self) -> set[str]:
        return {s.key for s in self.stages if s.detour}

    @property
    def sticky(self) -> set[str]:
        return {s.key for s in self.stages if s.sticky}

    def rules_for(self, name: str | None) -> tuple[list[TagRule], list[ScoreRule]]:
        """The tag and score rules an event of this name may run, in playbook order."""
        key = name or ""
        found = self._by_name.get(key)
        if found is None:
            found = (
                [r for r in self.tag_rules if r.trigger is None or key in r.trigger.names],
                [r for r in self.score_rules if r.trigger is None or key in r.trigger.names],
            )
            self._by_name[key] = found
        return found

    def grade(self, model: str, points: float) -> str | None:
        """The grade letter for a value, for models that define grades (else None)."""
        table = self.grades.get(model)
        if not table:
            return None
        return next((letter for letter, floor in table if points >= floor), "F")


def lookup(document: dict[str, Any], dotted: str) -> Any:
    """A dotted path into event properties, or ``MISSING_VALUE``."""
    value: Any = document
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return MISSING_VALUE
        value = value[part]
    return value


def fill(text: str, properties: dict[str, Any]) -> str | None:
    """A tag template with ``{property}`` filled in; None when a property is missing."""
    missing = False

    def replace(found: re.Match[str]) -> str:
        nonlocal missing
        value = lookup(properties, found.group(1))
        if value is MISSING_VALUE or value is None or isinstance(value, dict | list) or value == "":
            missing = True
            return ""
        return str(value).strip()

    filled = PLACEHOLDER.sub(replace, text)
    return None if missing else filled


def _placeholders(data: Any) -> set[str]:
    if isinstance(data, str):
        return set(PLACEHOLDER.findall(data))
    if isinstance(data, dict):
        return set().union(*(_placeholders(v) for v in data.values())) if data else set()
    if isinstance(data, list):
        return set().union(*(_placeholders(v) for v in data)) if data else set()
    return set()


_templates: dict[str, Any] = {}


def _remember(template: Any) -> str:
    key = repr(template)
    _templates.setdefault(key, template)
    return key


@lru_cache(maxsize=8192)
def _bound(template_key: str, values: tuple[tuple[str, Any], ...]) -> Condition:
    lookup_values = dict(values)

    def substitute(data: Any) -> Any:
        if isinstance(data, str):
            whole = PLACEHOLDER.fullmatch(data)
            if whole:
                return lookup_values[whole.group(1)]
            return PLACEHOLDER.sub(lambda m: str(lookup_values[m.group(1)]), data)
        if isinstance(data, dict):
            return {k: substitute(v) for k, v in data.items()}
        if isinstance(data, list):
            return [substitute(v) for v in data]
        return data

    return condition_from_data(substitute(_templates[template_key]))


def compile_playbook(playbook: Playbook, version_id: int = 0) -> Ruleset:
    """Parse and cross-check every condition and reference; errors name the path."""
    return _Compiler(playbook).build(version_id)


class _Compiler:
    def __init__(self, playbook: Playbook) -> None:
        self.pb = playbook
        self.rule_ids: set[str] = set()
        self.conditions: list[tuple[Condition, Path]] = []

    def unique(self, key: str, seen: set[str], path: Path) -> None:
        if key in seen:
            raise ConditionError(f"{key!r} is defined twice", path)
        seen.add(key)

    def condition(self, data: Any, path: Path, *, templated: bool = False) -> Guard:
        if data is None:
            return Guard(None)
        if _placeholders(data):
            if not templated:
                raise ConditionError("{placeholders} need a rule with an `on` event", path)
            condition_from_data(_strip_placeholders(data), path)
            return Guard(None, template=data)
        parsed = condition_from_data(data, path)
        self.conditions.append((parsed, path))
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
            s.key: self.condition(s.if_, ("segments", i, "if")) for i, s in enumerate(pb.segments)
        }
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
                StageRule(rule_id, stage_rule.to, guard.condition, stage_rule.allow_regress)
            )
        context = ConditionContext(
            stages=tuple(s.key for s in pb.stages if not s.detour),
            personas={k: g.condition for k, g in personas.items() if g.condition is not None},
            segments={k: g.condition for k, g in segments.items() if g.condition is not None},
            half_lives=half_lives,
        )
        self.check_references(context, stage_keys, models)
        atoms = [node for cond, _ in self.conditions for node in walk(cond)]
        atoms += (
            [node for guard in personas.values() for node in walk(guard.condition)] if False else []
        )
        behaviours = [a for a in atoms if isinstance(a, Behaviour)]
        templated = [r.if_ for r in pb.tag_rules] + [k.if_ for k in pb.key_events]
        templated += [r.if_ for m in pb.score_models for r in m.rules]
        for data in templated:
            if _placeholders(data):
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
                if isinstance(node, Score) and node.model not in models:
                    problem = f"no such score model: {node.model!r}"
                elif isinstance(node, Stage):
                    for test in node.tests:
                        values = test.value if isinstance(test.value, tuple) else (test.value,)
                        unknown = [v for v in values if test.op != "exists" and v not in stages]
                        problem = f"no such stage: {unknown[0]!r}" if unknown else problem
                elif isinstance(node, Persona) and node.key not in context.personas:
                    problem = f"no such persona: {node.key!r}"
                elif isinstance(node, Segment) and node.key not in context.segments:
                    problem = f"no such segment: {node.key!r}"
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
    for node in walk(table[key]):
        if isinstance(node, Persona | Segment):
            nested = "personas" if isinstance(node, Persona) else "segments"
            _acyclic(nested, node.key, context, (*trail, f"{section}:{key}"))


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
