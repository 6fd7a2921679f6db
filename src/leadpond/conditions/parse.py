"""YAML/JSON → condition AST, rejecting anything invalid with the path (and line) of the error."""

import re
from collections.abc import Sequence
from typing import Any

from leadpond.conditions.ast import (
    COUNT_OPS,
    LIST_OPS,
    OPERATORS,
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
    Scalar,
    Score,
    Segment,
    Stage,
    Tag,
    Test,
    Trait,
    walk,
)
from leadpond.conditions.durations import DurationError, parse_duration
from leadpond.conditions.source import Located, Path, format_path, load_located
from leadpond.db import regex
from leadpond.kit.errors import InvalidInput

# ``{name}`` in a rule's strings stands for a property of the event that triggered the rule.
PLACEHOLDER = re.compile(r"\{([A-Za-z_][\w.]*)\}")
_KEY = re.compile(r'^[^"\\\x00-\x1f]+$')
ATOM_KEYS = {
    "all": {"all"},
    "any": {"any"},
    "not": {"not"},
    "event": {"event", "where", "count", "within"},
    "tag": {"tag"},
    "score": {"score"},
    "grade": {"grade"},
    "stage": {"stage"},
    "persona": {"persona"},
    "segment": {"segment"},
    "account": {"account"},
    "account_people": {"account_people"},
    "trait": {"trait", *OPERATORS},
}
# What may be asked of colleagues: their profile, not their event history.
PEOPLE_ATOMS = (Trait, Tag, Score, Grade, Stage, AllOf, AnyOf, NotOf)


class ConditionError(InvalidInput):
    """An invalid condition; ``path`` says where, ``line`` too when it came from text.
    ``words`` is the reason as a message id of the console catalogs whose ``{named}`` fields
    ``params`` fill in; ``reason`` (and the message) is it filled in, in English."""

    code = "invalid_condition"
    words: str  # always given

    def __init__(self, words: str, path: Path = (), line: int | None = None, **params: Any) -> None:
        reason = words.format(**params)
        where = format_path(path)
        prefix = f"line {line}, {where}" if line is not None else where
        super().__init__(f"{prefix}: {reason}", path=where, line=line)
        self.path, self.line, self.reason = path, line, reason
        self.words, self.params = words, params


def parse_condition(source: str | Any, path: Path = ()) -> Condition:
    """A condition from YAML/JSON text or from already-loaded data."""
    if isinstance(source, str):
        located = load_located(source)
        try:
            return condition_from_data(located.data, path)
        except ConditionError as exc:
            line = located.line_of(exc.path[len(path) :])
            raise ConditionError(exc.words, exc.path, line, **exc.params) from None
    return condition_from_data(source, path)


def condition_from_data(data: Any, path: Path = ()) -> Condition:
    """A condition from loaded YAML/JSON data; errors carry the path below ``path``."""
    if not isinstance(data, dict) or not data:
        raise ConditionError(
            "a condition is a mapping such as {example}", path, example="{tag: vip}"
        )
    head = next((key for key in ATOM_KEYS if key in data), None)
    if head is None:
        raise ConditionError(
            "unknown condition {given}; expected one of {known}",
            path,
            given=sorted(map(str, data)),
            known=sorted(ATOM_KEYS),
        )
    extra = sorted(str(key) for key in data if key not in ATOM_KEYS[head])
    if extra:
        raise ConditionError(
            "{head!r} conditions do not take {extra}", (*path, extra[0]), head=head, extra=extra
        )
    return _PARSERS[head](data, path)


def _combine(data: dict[str, Any], path: Path) -> Condition:
    head = "all" if "all" in data else "any"
    items = data[head]
    if not isinstance(items, list):
        raise ConditionError("{head} takes a list of conditions", (*path, head), head=head)
    parsed = tuple(condition_from_data(item, (*path, head, i)) for i, item in enumerate(items))
    return AllOf(items=parsed) if head == "all" else AnyOf(items=parsed)


def _not(data: dict[str, Any], path: Path) -> Condition:
    return NotOf(item=condition_from_data(data["not"], (*path, "not")))


def _event(data: dict[str, Any], path: Path) -> Condition:
    name = _text(data["event"], (*path, "event"), "expected an event name")
    where = _fields(data.get("where", {}), (*path, "where"))
    count = Test(op="gte", value=1)
    if "count" in data:
        tests = parse_tests(data["count"], (*path, "count"), COUNT_OPS, numeric=True)
        if len(tests) != 1:
            raise ConditionError(
                "count takes one comparison, e.g. {example}", (*path, "count"), example="{gte: 3}"
            )
        count = tests[0]
    within = None
    if "within" in data:
        try:
            within = parse_duration(data["within"])
        except DurationError as exc:
            raise ConditionError(exc.words, (*path, "within"), **exc.params) from exc
    return Behaviour(event=name, where=where, count=count, within=within)


def _trait(data: dict[str, Any], path: Path) -> Condition:
    name = _text(data["trait"], (*path, "trait"), "expected a trait name")
    ops = {key: value for key, value in data.items() if key != "trait"}
    if not ops:
        raise ConditionError(
            "a trait condition needs an operator, e.g. {example}",
            path,
            example="{trait: title, eq: CIO}",
        )
    tests = parse_tests(ops, path, OPERATORS)
    return Trait(field=FieldTest(path=_dotted(name, (*path, "trait")), tests=tests))


def _tag(data: dict[str, Any], path: Path) -> Condition:
    return Tag(
        tag=_text(data["tag"], (*path, "tag"), "expected a tag such as product_pref:graph-db")
    )


def _score(data: dict[str, Any], path: Path) -> Condition:
    models = data["score"]
    if not isinstance(models, dict) or not models:
        raise ConditionError(
            "score takes {example}", (*path, "score"), example="{model: {gte: 50}}"
        )
    atoms: list[Condition] = [
        Score(
            model=_text(model, (*path, "score"), "expected a score model key"),
            tests=parse_tests(tests, (*path, "score", str(model)), COUNT_OPS, numeric=True),
        )
        for model, tests in models.items()
    ]
    return atoms[0] if len(atoms) == 1 else AllOf(items=tuple(atoms))


def _grade(data: dict[str, Any], path: Path) -> Condition:
    models = data["grade"]
    if not isinstance(models, dict) or not models:
        raise ConditionError(
            "grade takes {listed} or {compared}",
            (*path, "grade"),
            listed="{model: [A, B]}",
            compared="{model: {gte: B}}",
        )
    atoms: list[Condition] = []
    for model, tests in models.items():
        here = (*path, "grade", str(model))
        parsed = parse_tests(tests, here, ("eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte"))
        for test in parsed:
            values = test.value if isinstance(test.value, tuple) else (test.value,)
            if not all(isinstance(v, str) and v.strip() for v in values):
                raise ConditionError("grades are letters such as A or B", (*here, test.op))
        atoms.append(
            Grade(model=_text(model, (*path, "grade"), "expected a score model key"), tests=parsed)
        )
    return atoms[0] if len(atoms) == 1 else AllOf(items=tuple(atoms))


def _stage(data: dict[str, Any], path: Path) -> Condition:
    ops = (*COUNT_OPS, *LIST_OPS, "exists")
    tests = parse_tests(data["stage"], (*path, "stage"), ops)
    for test in tests:
        values = test.value if isinstance(test.value, tuple) else (test.value,)
        if test.op != "exists" and not all(isinstance(v, str) for v in values):
            raise ConditionError("stages are named by their key", (*path, "stage", test.op))
    return Stage(tests=tests)


def with_stage_keys(condition: Condition, stages: Sequence[tuple[str, str]]) -> Condition:
    """The condition with every stage it names by its display name (``商机``, case and spaces
    aside) named by its key (``opportunity``), as stored stages are. A value that is neither a
    stage's key nor its name is an error listing the stages, not a test that matches nobody.
    ``stages`` are the playbook's (key, display name), a pair for each of a stage's names (one
    per language); with none, nothing can be checked."""
    if not stages:
        return condition
    keys = {key for key, _name in stages}
    by_name = {_folded(name): key for key, name in stages if name} | {_folded(k): k for k in keys}

    def key_of(value: Scalar | None) -> Scalar | None:
        if not isinstance(value, str) or value in keys:
            return value
        found = by_name.get(_folded(value))
        if found is None:
            named: dict[str, list[str]] = {}
            for key, name in stages:
                named.setdefault(key, []).extend([name] if name else [])
            listed = ", ".join(f"{k} ({' / '.join(n)})" if n else k for k, n in named.items())
            raise ConditionError(
                "no such stage: {value!r}; the stages are {listed}",
                ("stage",),
                value=value,
                listed=listed,
            )
        return found

    def resolved(node: Condition) -> Condition:
        if isinstance(node, Stage):
            tests = tuple(
                test
                if test.op == "exists"
                else test.model_copy(
                    update={
                        "value": tuple(key_of(v) for v in test.value)
                        if isinstance(test.value, tuple)
                        else key_of(test.value)
                    }
                )
                for test in node.tests
            )
            return node.model_copy(update={"tests": tests})
        if isinstance(node, AllOf | AnyOf):
            return node.model_copy(update={"items": tuple(resolved(i) for i in node.items)})
        if isinstance(node, NotOf):
            return node.model_copy(update={"item": resolved(node.item)})
        if isinstance(node, AccountPeople):
            return node.model_copy(update={"any": resolved(node.any)})
        return node

    return resolved(condition)


def _folded(text: str) -> str:
    return " ".join(text.split()).casefold()


def _named(data: dict[str, Any], path: Path) -> Condition:
    head = "persona" if "persona" in data else "segment"
    expected = "expected a persona key" if head == "persona" else "expected a segment key"
    key = _text(data[head], (*path, head), expected)
    return Persona(key=key) if head == "persona" else Segment(key=key)


def _account(data: dict[str, Any], path: Path) -> Condition:
    fields = _fields(data["account"], (*path, "account"))
    if not fields:
        raise ConditionError(
            "account takes {shape}, e.g. {example}",
            path,
            shape="{field: test}",
            example="{industry: banking}",
        )
    return AccountMatch(fields=fields)


def _account_people(data: dict[str, Any], path: Path) -> Condition:
    body, here = data["account_people"], (*path, "account_people")
    if not isinstance(body, dict) or set(body) != {"any"}:
        raise ConditionError("account_people takes {shape}", here, shape="{any: condition}")
    inner = condition_from_data(body["any"], (*here, "any"))
    for node in walk(inner):
        if not isinstance(node, PEOPLE_ATOMS):
            raise ConditionError(
                "{kind} cannot be asked of an account's people "
                "(use trait, tag, score, grade, stage, all, any, not)",
                (*here, "any"),
                kind=node.kind,
            )
    return AccountPeople(any=inner)


_PARSERS = {
    "all": _combine,
    "any": _combine,
    "not": _not,
    "event": _event,
    "trait": _trait,
    "tag": _tag,
    "score": _score,
    "grade": _grade,
    "stage": _stage,
    "persona": _named,
    "segment": _named,
    "account": _account,
    "account_people": _account_people,
}


def parse_tests(
    value: Any, path: Path, allowed: tuple[str, ...], *, numeric: bool = False
) -> tuple[Test, ...]:
    """``{gte: 3, lt: 9}``; a bare scalar means ``eq`` and a bare list means ``in``."""
    if not isinstance(value, dict):
        value = {"in": value} if isinstance(value, list) else {"eq": value}
    if not value:
        raise ConditionError("expected at least one operator", path)
    tests = []
    for op, operand in value.items():
        here = (*path, str(op))
        if op not in allowed:
            raise ConditionError(
                "unknown operator {op!r}; expected one of {allowed}",
                here,
                op=op,
                allowed=list(allowed),
            )
        tests.append(_test(op, operand, here, numeric))
    return tuple(tests)


def _test(op: str, operand: Any, path: Path, numeric: bool) -> Test:
    if op == "exists":
        if not isinstance(operand, bool):
            raise ConditionError("exists takes true or false", path)
        return Test(op="exists", value=operand)
    if op in LIST_OPS:
        if not isinstance(operand, list) or not operand:
            raise ConditionError("{op} takes a non-empty list", path, op=op)
        return Test(op=op, value=tuple(_scalar(v, (*path, i)) for i, v in enumerate(operand)))
    scalar = _scalar(operand, path)
    if numeric and (isinstance(scalar, bool) or not isinstance(scalar, int | float)):
        raise ConditionError("{op} takes a number here", path, op=op)
    if op in ("contains", "starts_with", "matches") and not isinstance(scalar, str):
        raise ConditionError("{op} takes a string", path, op=op)
    if op in ("gt", "gte", "lt", "lte") and isinstance(scalar, bool):
        raise ConditionError("{op} takes a number or a string", path, op=op)
    if op == "matches" and not PLACEHOLDER.search(str(scalar)):
        try:
            regex.compile_pattern(str(scalar))
        except regex.PatternError as exc:
            raise ConditionError(
                "the pattern cannot be used: {problem}", path, problem=str(exc)
            ) from exc
    return Test(op=op, value=scalar)


def _scalar(value: Any, path: Path) -> Scalar:
    if isinstance(value, float) and value != value:
        raise ConditionError("NaN is not a value", path)
    if isinstance(value, bool | int | float | str):
        return value
    # Said in YAML's words (the reader wrote YAML or JSON, not Python).
    if isinstance(value, list):
        raise ConditionError("expected a string, number or boolean, not a list", path)
    if isinstance(value, dict):
        raise ConditionError("expected a string, number or boolean, not a mapping", path)
    if value is None:
        raise ConditionError("expected a string, number or boolean, not null", path)
    raise ConditionError("expected a string, number or boolean, not {given!r}", path, given=value)


def _fields(value: Any, path: Path) -> tuple[FieldTest, ...]:
    if not isinstance(value, dict):
        raise ConditionError(
            "expected {shape}, e.g. {example}",
            path,
            shape="{field: test}",
            example="{path: {starts_with: /pricing}}",
        )
    return tuple(
        FieldTest(
            path=_dotted(_text(key, path, "expected a field name"), (*path, str(key))),
            tests=parse_tests(tests, (*path, str(key)), OPERATORS),
        )
        for key, tests in value.items()
    )


def _dotted(name: str, path: Path) -> tuple[str, ...]:
    parts = tuple(name.split("."))
    if not all(parts) or not all(_KEY.match(part) for part in parts):
        raise ConditionError("{name!r} is not a usable field name", path, name=name)
    return parts


def _text(value: Any, path: Path, expected: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConditionError(expected, path)
    return value.strip()


__all__ = ["ConditionError", "Located", "condition_from_data", "parse_condition", "parse_tests"]
