"""Profile-only answers shared between people agree with evaluating each person on their own."""

from datetime import datetime
from typing import Any

from leadpond.conditions.evaluate import ConditionContext, ProfileSnapshot, matches
from leadpond.conditions.parse import condition_from_data
from leadpond.rules.profile_cache import ProfileAnswers, trait_paths

CONTEXT = ConditionContext(
    personas={"cio": condition_from_data({"trait": "title", "matches": "(?i)cio"})},
)


def _snap(traits: dict[str, Any]) -> ProfileSnapshot:
    return ProfileSnapshot(now=datetime(2026, 1, 1), context=CONTEXT, traits=traits)


def test_shared_answers_equal_per_person_answers() -> None:
    conditions = [
        condition_from_data({"trait": "vip", "eq": True}),
        condition_from_data({"trait": "level", "eq": 1}),
        condition_from_data(
            {"any": [{"persona": "cio"}, {"not": {"trait": "company.size", "gt": 100}}]}
        ),
        condition_from_data({"tag": "vip"}),
    ]
    people = [
        {"vip": True, "level": 1},
        {"vip": 1, "level": True},
        {"vip": 1.0, "level": 1.0},
        {"title": "CIO", "company": {"size": 500}},
        {"title": "engineer", "company": {"size": 500}},
        {"title": "engineer", "company": {"size": 50}},
        {"title": ["CIO"], "company": [1]},
        {},
    ]
    answers = ProfileAnswers(CONTEXT)
    for _ in range(2):  # the second round is answered from the cache
        for traits in people:
            for condition in conditions:
                snap = _snap(traits)
                assert answers.matches(condition, snap) == matches(condition, snap)


def test_only_trait_conditions_are_shared() -> None:
    assert trait_paths(condition_from_data({"persona": "cio"}), CONTEXT) == (("title",),)
    assert trait_paths(condition_from_data({"tag": "vip"}), CONTEXT) is None
    assert trait_paths(condition_from_data({"persona": "nobody"}), CONTEXT) is None
