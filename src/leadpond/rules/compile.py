"""Compiling a validated playbook into a ``Ruleset``: parse every condition, check every
reference (stages, score models, personas, segments, tag categories), index rules by event."""

from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

from leadpond.conditions.ast import (
    Behaviour,
    Condition,
    Grade,
    Persona,
    Score,
    Segment,
    Stage,
    walk,
)
from leadpond.conditions.durations import parse_duration
from leadpond.conditions.evaluate import FALLBACK_GRADE, ConditionContext
from leadpond.conditions.parse import PLACEHOLDER, ConditionError, condition_from_data
from leadpond.conditions.source import Path
from leadpond.kit.names import every_name
from leadpond.rules.guards import expand, settle, split_stage_rule, wakes_on
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

# A reference that does not resolve: a ``ConditionError``'s words and the values that fill them.
Problem = tuple[str, dict[str, Any]]


@dataclass
class _Scoring:
    """The score models, compiled: their rules, thresholds, decay and grade tables."""

    rules: list[ScoreRule] = field(default_factory=list)
    thresholds: dict[str, list[Threshold]] = field(default_factory=dict)
    half_lives: dict[str, timedelta] = field(default_factory=dict)
    grades: dict[str, list[tuple[str, float]]] = field(default_factory=dict)
    models: set[str] = field(default_factory=set)


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
            raise ConditionError("{key!r} is defined twice", path, key=key)
        seen.add(key)

    def condition(self, data: Any, path: Path, *, templated: bool = False) -> Guard:
        if data is None:
            return Guard(None)
        if placeholders(data):
            if not templated:
                raise ConditionError(
                    "{placeholders} need a rule with an `on` event",
                    path,
                    placeholders="{placeholders}",
                )
            condition_from_data(_strip_placeholders(data), path)
            return Guard(None, template=data)
        parsed = condition_from_data(data, path)
        self.conditions.append((parsed, path))
        # Not memoisable until ``settle`` proves it reads only the profile (it needs every
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
        stage_keys = self.keys("stages", [s.key for s in pb.stages])
        categories = self.keys("tag_categories", [c.key for c in pb.tag_categories])
        personas, segments = self.definitions()
        tag_rules = self.tag_rules(categories)
        scoring = self.score_models()
        key_events = self.key_events()
        stage_rules = self.stage_rules(stage_keys)
        context = ConditionContext(
            stages=tuple(s.key for s in pb.stages if not s.detour),
            personas={k: g.condition for k, g in personas.items() if g.condition is not None},
            segments={k: g.condition for k, g in segments.items() if g.condition is not None},
            half_lives=scoring.half_lives,
            grades={model: tuple(table) for model, table in scoring.grades.items()},
        )
        self.check_references(context, stage_keys, scoring.models)
        tag_rules = [replace(r, guard=settle(r.guard, context)) for r in tag_rules]
        score_rules = [replace(r, guard=settle(r.guard, context)) for r in scoring.rules]
        key_events = [replace(r, guard=settle(r.guard, context)) for r in key_events]
        stage_rules = [split_stage_rule(r, context) for r in stage_rules]
        atoms = self.atoms_read(context)
        return Ruleset(
            version_id=version_id,
            stages=list(pb.stages),
            context=context,
            tag_rules=tag_rules,
            score_rules=score_rules,
            models=[m.key for m in pb.score_models],
            half_lives=scoring.half_lives,
            grades=scoring.grades,
            thresholds=scoring.thresholds,
            key_events=key_events,
            stage_rules=stage_rules,
            personas=[(p.key, p.name) for p in pb.personas],
            history=self.event_history(atoms),
            needs_accounts=any(a.kind in ("account", "account_people") for a in atoms),
        )

    def keys(self, section: str, keys: list[str]) -> set[str]:
        """The section's keys, each defined once."""
        seen: set[str] = set()
        for i, key in enumerate(keys):
            self.unique(key, seen, (section, i, "key"))
        return seen

    def definitions(self) -> tuple[dict[str, Guard], dict[str, Guard]]:
        """The personas' and person segments' conditions by key (account segments' are
        checked too)."""
        pb = self.pb
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
        self.keys("personas", [p.key for p in pb.personas])
        self.keys("segments", [s.key for s in pb.segments])
        return personas, segments

    def tag_rules(self, categories: set[str]) -> list[TagRule]:
        """The tag rules, their tags checked against the categories."""
        rules = []
        for i, tag_rule in enumerate(self.pb.tag_rules):
            path: Path = ("tag_rules", i)
            self.unique(tag_rule.id, self.rule_ids, (*path, "id"))
            on = tag_rule.on is not None
            for action in ("add_tags", "remove_tags"):
                for j, tag in enumerate(getattr(tag_rule.then, action)):
                    self.check_tag(tag, categories, (*path, "then", action, j), on)
            rules.append(
                TagRule(
                    tag_rule.id,
                    self.trigger(tag_rule.on, (*path, "on")),
                    self.condition(tag_rule.if_, (*path, "if"), templated=on),
                    tuple(tag_rule.then.add_tags),
                    tuple(tag_rule.then.remove_tags),
                )
            )
        return rules

    def score_models(self) -> _Scoring:
        """The score models with their rules, thresholds, half-lives and grades."""
        scoring = _Scoring()
        for i, model in enumerate(self.pb.score_models):
            self.unique(model.key, scoring.models, ("score_models", i, "key"))
            if model.half_life:
                scoring.half_lives[model.key] = parse_duration(model.half_life)
            if model.grades:
                scoring.grades[model.key] = sorted(model.grades.items(), key=lambda g: -g[1])
            scoring.thresholds[model.key] = [
                Threshold(f"{model.key}@{t.at:g}", model.key, t.at, t.emit, _maybe(t.once_per))
                for t in model.thresholds
            ]
            for j, rule in enumerate(model.rules):
                path: Path = ("score_models", i, "rules", j)
                self.unique(rule.id, self.rule_ids, (*path, "id"))
                scoring.rules.append(
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
        return scoring

    def key_events(self) -> list[KeyEventRule]:
        """The key event rules, with the events that wake the event-only ones."""
        rules = []
        for i, key_event in enumerate(self.pb.key_events):
            path: Path = ("key_events", i)
            self.unique(key_event.id, self.rule_ids, (*path, "id"))
            guard = self.condition(key_event.if_, (*path, "if"), templated=key_event.on is not None)
            rules.append(
                KeyEventRule(
                    key_event.id,
                    key_event.emit,
                    self.trigger(key_event.on, (*path, "on")),
                    guard,
                    _maybe(key_event.once_per),
                    wakes_on(guard.condition) if guard.template is None else None,
                )
            )
        return rules

    def stage_rules(self, stage_keys: set[str]) -> list[StageRule]:
        """The stage rules, each moving to a defined stage."""
        rules = []
        for i, stage_rule in enumerate(self.pb.stage_rules):
            path: Path = ("stage_rules", i)
            if stage_rule.to not in stage_keys:
                raise ConditionError("no such stage: {key!r}", (*path, "to"), key=stage_rule.to)
            rule_id = stage_rule.id or f"stage:{stage_rule.to}:{i}"
            self.unique(rule_id, self.rule_ids, (*path, "id"))
            guard = self.condition(stage_rule.if_, (*path, "if"))
            rules.append(
                StageRule(
                    rule_id,
                    stage_rule.to,
                    guard.condition,
                    stage_rule.allow_regress,
                    idle=_maybe(stage_rule.idle),
                )
            )
        return rules

    def atoms_read(self, context: ConditionContext) -> list[Condition]:
        """Every node the rules read: persona and segment definitions count only where used."""
        return [
            node
            for cond, path in self.conditions
            if path[0] not in ("personas", "segments")
            for node in expand(cond, context)
        ]

    def event_history(self, atoms: list[Condition]) -> dict[str, timedelta | None]:
        """How far back the rules read each event, templated conditions included."""
        pb = self.pb
        behaviours = [a for a in atoms if isinstance(a, Behaviour)]
        templated = [r.if_ for r in pb.tag_rules] + [k.if_ for k in pb.key_events]
        templated += [r.if_ for m in pb.score_models for r in m.rules]
        for data in templated:
            if placeholders(data):
                behaviours += [_template_atom(d) for d in _behaviour_data(data)]
        return _history(behaviours)

    def check_tag(self, tag: str, categories: set[str], path: Path, templated: bool) -> None:
        if not tag.strip():
            raise ConditionError("a tag must not be empty", path)
        if PLACEHOLDER.search(tag) and not templated:
            raise ConditionError(
                "{placeholders} need a rule with an `on` event",
                path,
                placeholders="{placeholders}",
            )
        category, sep, _ = tag.partition(":")
        if sep and categories and category not in categories:
            raise ConditionError("no such tag category: {key!r}", path, key=category)

    def stage_problem(self, value: object) -> Problem:
        """An unknown stage in a playbook condition, with the key to use when it is a stage's
        display name (the playbook, a file, names stages by key; segments accept names)."""
        for stage in self.pb.stages:
            names = [name.strip() for name in every_name(stage.name)]
            if isinstance(value, str) and value.strip() in names:
                return (
                    "stages are named by their key: use {key!r} for {value!r}",
                    {"key": stage.key, "value": value},
                )
        listed = ", ".join(stage.key for stage in self.pb.stages)
        values = {"value": value, "listed": listed}
        return "no such stage: {value!r}; the stages are {listed}", values

    def check_references(
        self, context: ConditionContext, stages: set[str], models: set[str]
    ) -> None:
        for cond, path in self.conditions:
            for node in walk(cond):
                problem: Problem | None = None
                if isinstance(node, Score | Grade) and node.model not in models:
                    problem = "no such score model: {key!r}", {"key": node.model}
                elif isinstance(node, Grade):
                    problem = _grade_problem(node, context)
                elif isinstance(node, Stage):
                    for test in node.tests:
                        values = test.value if isinstance(test.value, tuple) else (test.value,)
                        unknown = [v for v in values if test.op != "exists" and v not in stages]
                        problem = self.stage_problem(unknown[0]) if unknown else problem
                elif isinstance(node, Persona) and node.key not in context.personas:
                    problem = "no such persona: {key!r}", {"key": node.key}
                elif isinstance(node, Segment) and node.key not in context.segments:
                    if node.key not in self.segment_only_keys:
                        problem = "no such segment: {key!r}", {"key": node.key}
                    elif path[0] != "segments":
                        problem = (
                            "segment {key!r} is a static list or an account segment: "
                            "only segments can use it",
                            {"key": node.key},
                        )
                if problem:
                    raise ConditionError(problem[0], path, **problem[1])
        for section, table in (("personas", context.personas), ("segments", context.segments)):
            for key in table:
                _acyclic(section, key, context, ())


def _acyclic(section: str, key: str, context: ConditionContext, trail: tuple[str, ...]) -> None:
    if f"{section}:{key}" in trail:
        raise ConditionError(
            "{section} refer to each other in a loop: {trail}",
            (section,),
            section=section,
            trail=" -> ".join(trail),
        )
    table = context.personas if section == "personas" else context.segments
    if key not in table:  # a static list or an account segment: it refers to nothing
        return
    for node in walk(table[key]):
        if isinstance(node, Persona | Segment):
            nested = "personas" if isinstance(node, Persona) else "segments"
            _acyclic(nested, node.key, context, (*trail, f"{section}:{key}"))


def _grade_problem(node: Grade, context: ConditionContext) -> Problem | None:
    table = context.grades.get(node.model)
    if not table:
        return "score model {model!r} has no grades", {"model": node.model}
    letters = {letter for letter, _ in table} | {FALLBACK_GRADE}
    for test in node.tests:
        values = test.value if isinstance(test.value, tuple) else (test.value,)
        unknown = [v for v in values if v not in letters]
        if unknown:
            return (
                "no such grade of {model!r}: {grade!r} (grades: {grades})",
                {"model": node.model, "grade": unknown[0], "grades": sorted(letters)},
            )
    return None


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
