"""A playbook compiled for the engine: parsed conditions, rules indexed by event name."""

import re
from dataclasses import dataclass, field
from datetime import timedelta
from functools import lru_cache
from typing import Any

from leadpond.conditions.ast import (
    Condition,
    FieldTest,
)
from leadpond.conditions.evaluate import ConditionContext, grade_of
from leadpond.conditions.parse import PLACEHOLDER, ConditionError, condition_from_data
from leadpond.rules.playbook import StageDef

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
    # Only profile atoms (traits, accounts): constant during one run, so evaluated once per person.
    static: bool = False

    def bind(self, properties: dict[str, Any]) -> tuple[bool, Condition | None]:
        """(usable, condition) for this event; unusable when a placeholder has no value."""
        if self.template is None:
            return True, self.condition
        values: dict[str, Any] = {}
        for name in sorted(placeholders(self.template)):
            value = lookup(properties, name)
            if value is MISSING_VALUE or value is None or isinstance(value, dict | list):
                return False, None
            values[name] = value
        try:
            return True, _bound(self.template_key, tuple(sorted(values.items())))
        except ConditionError:  # an event's value made the condition invalid (say, its pattern)
            return False, None

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
    # The profile-only alternatives (checked once per person per run) and the rest, which is
    # checked when an event it names happens (``wakes_on``; None: on every event).
    static_part: Condition | None = None
    dynamic_part: Condition | None = None
    wakes_on: frozenset[str] | None = None
    # Idle rules fire on time alone: this long after a person's last event.
    idle: timedelta | None = None


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
    personas: list[tuple[str, str | dict[str, str] | None]]
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
        return grade_of(tuple(table), points) if table else None


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


def placeholders(data: Any) -> set[str]:
    """The ``{property}`` names used anywhere in condition data."""
    if isinstance(data, str):
        return set(PLACEHOLDER.findall(data))
    if isinstance(data, dict):
        return set().union(*(placeholders(v) for v in data.values())) if data else set()
    if isinstance(data, list):
        return set().union(*(placeholders(v) for v in data)) if data else set()
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
