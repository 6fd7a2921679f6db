"""Invalid conditions are rejected with the path (and, from text, the line) of the error."""

from datetime import timedelta

import pytest

from leadpond.conditions.ast import AllOf, Behaviour, NotOf, Trait
from leadpond.conditions.durations import format_duration, parse_duration
from leadpond.conditions.parse import ConditionError, parse_condition


def test_behaviour_atom_from_the_issue() -> None:
    cond = parse_condition(
        "{event: Page Viewed, where: {path: {starts_with: /pricing}}, count: {gte: 3}, within: 7d}"
    )
    assert isinstance(cond, Behaviour)
    assert cond.within == timedelta(days=7)
    assert (cond.count.op, cond.count.value) == ("gte", 3)
    assert cond.where[0].path == ("path",)


def test_combinators_and_shorthands() -> None:
    cond = parse_condition(
        "all: [{trait: title, matches: 'CIO|首席信息官'}, {not: {trait: company.size, lt: 50}}]"
    )
    assert isinstance(cond, AllOf)
    trait, negated = cond.items
    assert isinstance(trait, Trait) and trait.field.tests[0].op == "matches"
    assert isinstance(negated, NotOf)
    assert parse_condition({"trait": "tier", "in": ["a", "b"]}) == parse_condition(
        "{trait: tier, in: [a, b]}"
    )


@pytest.mark.parametrize(
    ("text", "path", "line"),
    [
        ("all:\n  - tag: vip\n  - trait: title\n    between: 3\n", "all[1].between", 4),
        ("any:\n  - event: Page Viewed\n    within: soon\n", "any[0].within", 3),
        ("not:\n  score:\n    engagement: {gte: lots}\n", "not.score.engagement.gte", 3),
        ("all:\n  - {trait: title, matches: '(['}\n", "all[0].matches", 2),
        (
            "all:\n  - {account_people: {any: {event: Page Viewed}}}\n",
            "all[0].account_people.any",
            2,
        ),
        ("all:\n  - {stage: {in: []}}\n", "all[0].stage.in", 2),
        ("wat: 1\n", "(top)", 1),
    ],
)
def test_errors_name_the_path_and_line(text: str, path: str, line: int) -> None:
    with pytest.raises(ConditionError) as caught:
        parse_condition(text)
    body = caught.value.to_body()
    assert body["code"] == "invalid_condition"
    assert (body["path"], body["line"]) == (path, line), body
    assert body["message"].startswith(f"line {line}, {path}: ")


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        (r"(a)\1", "escape \\1"),
        ("(?=CTO)", "(?:"),
        ("CTO(?i)", "(?:"),
        (r"\pL", "escape \\p"),
        ("[[:alpha:]]", "[:alpha:]"),
        ("[[.a.]]", "[:alpha:]"),
        ("a{300}", "at most 255"),
        ("(", "missing )"),
    ],
)
def test_patterns_re2_or_postgresql_would_read_otherwise_are_refused_at_their_line(
    pattern: str, reason: str
) -> None:
    text = f"all:\n  - tag: vip\n  - trait: title\n    matches: '{pattern}'\n"
    with pytest.raises(ConditionError) as caught:
        parse_condition(text)
    body = caught.value.to_body()
    assert (body["path"], body["line"]) == ("all[1].matches", 4), body
    assert reason in body["message"], body


def test_patterns_with_flags_classes_and_nested_repeats_are_accepted() -> None:
    for pattern in ("(?i)CIO|CTO", "^(a+)+$", r"\bCTO\b", r"^[\w.-]+@\d+", "(?:a|b){1,255}"):
        parse_condition(f"trait: title\nmatches: '{pattern}'\n")


def test_yaml_syntax_errors_carry_the_line() -> None:
    with pytest.raises(Exception) as caught:
        parse_condition("all:\n  - tag: [unclosed\n")
    assert caught.value.to_body()["code"] == "invalid_yaml"  # type: ignore[attr-defined]


def test_durations_round_trip() -> None:
    assert parse_duration("12h") == timedelta(hours=12)
    assert format_duration(parse_duration("14d")) == "2w"
    with pytest.raises(ValueError):
        parse_duration("0d")
