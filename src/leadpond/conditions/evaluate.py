"""The real-time evaluator: one profile snapshot, one answer, no database.

Value semantics (the SQL compiler implements exactly these):
- a missing field and a JSON ``null`` are *absent*; ``exists: true`` means present and not null;
- ``eq``/``in`` compare by JSON type: a string target matches only strings, a number target only
  numbers (``1`` equals ``1.0``; ``true`` is not a number), a boolean target only booleans;
- ``gt``/``gte``/``lt``/``lte`` compare numbers with numbers and strings with strings (by code
  point); any other pairing is false;
- ``contains``, ``starts_with`` and ``matches`` (a regular-expression search, on RE2: see
  ``conditions.regex``) apply to strings;
- ``ne`` and ``not_in`` are the negations of ``eq`` and ``in``, so an absent field satisfies them.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from leadpond.conditions.ast import (
    AccountMatch,
    AccountPeople,
    AllOf,
    AnyOf,
    Behaviour,
    Condition,
    FieldTest,
    Grade,
    NotOf,
    Persona,
    Score,
    Segment,
    Stage,
    Tag,
    Test,
    Trait,
)
from leadpond.db import regex
from leadpond.kit.errors import InvalidInput

MISSING: Any = object()
ACCOUNT_COLUMNS = ("name", "domain", "industry", "uscc")


class UnknownReference(InvalidInput):
    """A condition names a persona, segment or score model the workspace does not define;
    ``words`` and ``params`` say which (as ``ConditionError``'s do)."""

    code = "unknown_reference"
    words: str  # always given

    def __init__(self, words: str, **params: Any) -> None:
        super().__init__(words.format(**params))
        self.words, self.params = words, params


@dataclass(frozen=True)
class ConditionContext:
    """What a workspace defines that conditions refer to by name."""

    stages: tuple[str, ...] = ()
    personas: Mapping[str, Condition] = field(default_factory=dict)
    segments: Mapping[str, Condition] = field(default_factory=dict)
    half_lives: Mapping[str, timedelta] = field(default_factory=dict)
    # Score model -> its grades as (letter, lowest points), best first.
    grades: Mapping[str, tuple[tuple[str, float], ...]] = field(default_factory=dict)
    # Static segments (hand-kept lists): key -> segment id; membership is read, not computed.
    static_segments: Mapping[str, int] = field(default_factory=dict)

    def persona(self, key: str) -> Condition:
        """The persona's criteria, or a clear error."""
        if key not in self.personas:
            raise UnknownReference("no such persona: {key!r}", key=key)
        return self.personas[key]

    def grade_table(self, model: str) -> tuple[tuple[str, float], ...]:
        """The model's grades, best first, or a clear error."""
        table = self.grades.get(model)
        if not table:
            raise UnknownReference("score model {model!r} has no grades", model=model)
        return table

    def segment(self, key: str) -> Condition:
        """The segment's criteria, or a clear error."""
        if key not in self.segments:
            raise UnknownReference("no such segment: {key!r}", key=key)
        return self.segments[key]


@dataclass(slots=True)
class EventRecord:
    name: str
    timestamp: datetime
    properties: dict[str, Any]
    event_id: int | None = None
    rule_id: str | None = None


@dataclass
class ProfileSnapshot:
    """A person as conditions see them at ``now``."""

    now: datetime
    context: ConditionContext
    traits: dict[str, Any] = field(default_factory=dict)
    tags: set[str] = field(default_factory=set)
    # model -> (points as of ``as_of``, as_of): decay is applied when read.
    scores: dict[str, tuple[float, datetime]] = field(default_factory=dict)
    stage: str | None = None
    events: dict[str, list[EventRecord]] = field(default_factory=dict)
    accounts: list[dict[str, Any]] = field(default_factory=list)
    account_people: list["ProfileSnapshot"] = field(default_factory=list)
    # Keys of the static segments the person is a member of.
    static_segments: set[str] = field(default_factory=set)

    def score(self, model: str) -> float:
        """The model's value at ``now`` (0 without points), decayed by its half-life."""
        held = self.scores.get(model)
        if held is None:
            return 0.0
        return decayed(held[0], held[1], self.now, self.context.half_lives.get(model))


FALLBACK_GRADE = "F"


def grade_of(table: tuple[tuple[str, float], ...], points: float) -> str:
    """The letter for a value: the best grade whose lowest points it reaches, else F."""
    return next((letter for letter, floor in table if points >= floor), FALLBACK_GRADE)


def grade_as_scores(cond: Grade, context: ConditionContext) -> Condition:
    """A grade condition as the score ranges of the letters it admits (both evaluators use it,
    so a grade means in SQL exactly what it means per event)."""
    table = context.grade_table(cond.model)
    letters = [letter for letter, _ in table]
    if FALLBACK_GRADE not in letters:
        letters.append(FALLBACK_GRADE)
    rank = {letter: i for i, letter in enumerate(letters)}  # 0 = best
    ceilings: dict[str, float | None] = {}
    floors: dict[str, float | None] = {}
    previous: float | None = None
    for letter, floor in table:
        ceilings[letter], floors[letter], previous = previous, floor, floor
    if FALLBACK_GRADE not in floors:
        ceilings[FALLBACK_GRADE], floors[FALLBACK_GRADE] = previous, None
    ranges: list[Condition] = []
    for letter in letters:
        if all(_letter_holds(letter, test, rank) for test in cond.tests):
            bounds = []
            if floors[letter] is not None:
                bounds.append(Test(op="gte", value=floors[letter]))
            if ceilings[letter] is not None:
                bounds.append(Test(op="lt", value=ceilings[letter]))
            ranges.append(Score(model=cond.model, tests=tuple(bounds)))
    return AnyOf(items=tuple(ranges))


def _letter_holds(letter: str, test: Test, rank: Mapping[str, int]) -> bool:
    values = test.value if isinstance(test.value, tuple) else (test.value,)
    if test.op == "in":
        return letter in values
    if test.op == "not_in":
        return letter not in values
    if test.op == "eq":
        return letter == test.value
    if test.op == "ne":
        return letter != test.value
    other = rank.get(str(test.value))
    if other is None:
        return False
    mine = rank[letter]
    # Better grades rank lower: "gte: B" admits A and B.
    return {"gt": mine < other, "gte": mine <= other, "lt": mine > other, "lte": mine >= other}[
        test.op
    ]


def decayed(points: float, as_of: datetime, now: datetime, half_life: timedelta | None) -> float:
    """Points held at ``as_of`` as worth at ``now`` under exponential decay."""
    if half_life is None:
        return points
    return float(points * 0.5 ** ((now - as_of).total_seconds() / half_life.total_seconds()))


def matches(cond: Condition, snap: ProfileSnapshot) -> bool:
    """True when the snapshot satisfies the condition."""
    if isinstance(cond, AllOf):
        return all(matches(item, snap) for item in cond.items)
    if isinstance(cond, AnyOf):
        return any(matches(item, snap) for item in cond.items)
    if isinstance(cond, NotOf):
        return not matches(cond.item, snap)
    if isinstance(cond, Trait):
        return field_holds(cond.field, snap.traits)
    if isinstance(cond, Tag):
        return cond.tag in snap.tags
    if isinstance(cond, Score):
        value = snap.score(cond.model)
        return all(value_holds(value, test) for test in cond.tests)
    if isinstance(cond, Grade):
        return matches(grade_as_scores(cond, snap.context), snap)
    if isinstance(cond, Stage):
        return all(_stage_holds(snap.stage, test, snap.context.stages) for test in cond.tests)
    if isinstance(cond, Behaviour):
        return value_holds(count_events(cond, snap), cond.count)
    if isinstance(cond, Persona):
        return matches(snap.context.persona(cond.key), snap)
    if isinstance(cond, Segment):
        if cond.key in snap.context.static_segments:
            return cond.key in snap.static_segments
        return matches(snap.context.segment(cond.key), snap)
    if isinstance(cond, AccountMatch):
        return any(
            all(field_holds(f, account, account=True) for f in cond.fields)
            for account in snap.accounts
        )
    if isinstance(cond, AccountPeople):
        return any(matches(cond.any, person) for person in snap.account_people)
    raise TypeError(f"unknown condition {cond!r}")


def count_events(cond: Behaviour, snap: ProfileSnapshot) -> int:
    """How many of the person's events up to ``now`` (and in the window) the atom counts."""
    since = snap.now - cond.within if cond.within is not None else None
    count = 0
    for record in snap.events.get(cond.event, ()):
        if record.timestamp > snap.now or (since is not None and record.timestamp <= since):
            continue
        if all(field_holds(f, record.properties) for f in cond.where):
            count += 1
    return count


def resolve(document: Mapping[str, Any], path: tuple[str, ...], *, account: bool = False) -> Any:
    """The value at a dotted path; account columns first, then the account's traits."""
    if account:
        if len(path) == 1 and path[0] in ACCOUNT_COLUMNS:
            column = document.get(path[0])
            return MISSING if column is None else column
        document = document.get("traits") or {}
    value: Any = document
    for part in path:
        if not isinstance(value, Mapping) or part not in value:
            return MISSING
        value = value[part]
    return value


def field_holds(test: FieldTest, document: Mapping[str, Any], *, account: bool = False) -> bool:
    """Every test of the field holds on the document's value."""
    value = resolve(document, test.path, account=account)
    return all(value_holds(value, t) for t in test.tests)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _equal(value: Any, target: Any) -> bool:
    if isinstance(target, bool):
        return isinstance(value, bool) and value is target
    if _is_number(target):
        return _is_number(value) and float(value) == float(target)
    return isinstance(value, str) and value == target


def value_holds(value: Any, test: Test) -> bool:
    """One operator applied to one value (``MISSING`` or None when absent)."""
    op, target = test.op, test.value
    if op == "exists":
        return (value is not MISSING and value is not None) is target
    if op == "eq":
        return _equal(value, target)
    if op == "ne":
        return not _equal(value, target)
    if op in ("in", "not_in"):
        found = any(_equal(value, t) for t in target)  # type: ignore[union-attr]
        return found if op == "in" else not found
    if op in ("gt", "gte", "lt", "lte"):
        if _is_number(target) and _is_number(value):
            left, right = float(value), float(target)  # type: ignore[arg-type]
        elif isinstance(target, str) and isinstance(value, str):
            left, right = value, target  # type: ignore[assignment]
        else:
            return False
        return {"gt": left > right, "gte": left >= right, "lt": left < right, "lte": left <= right}[
            op
        ]
    if not isinstance(value, str):
        return False
    if op == "contains":
        return str(target) in value
    if op == "starts_with":
        return value.startswith(str(target))
    return regex.search(str(target), value)


def _stage_holds(stage: str | None, test: Test, order: tuple[str, ...]) -> bool:
    if test.op in ("gt", "gte", "lt", "lte"):
        if stage not in order or test.value not in order:
            return False
        return value_holds(order.index(stage), Test(op=test.op, value=order.index(test.value)))
    return value_holds(MISSING if stage is None else stage, test)
