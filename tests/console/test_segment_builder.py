"""The segment builder's atoms as condition YAML and back, for people and for accounts."""

import pytest

from leadpond.conditions.parse import parse_condition
from leadpond.console.segment_builder import ACCOUNT, PERSON, Atom, from_yaml, to_data, to_yaml


def test_person_atoms_write_the_condition_language() -> None:
    assert to_yaml([Atom("tag", "need:evaluation")], "all") == "{tag: 'need:evaluation'}\n"
    atoms = [
        Atom("stage", "engaged, opportunity"),
        Atom("score", model="engagement", number=20.0),
        Atom("event", "Page Viewed", number=3.0, within="30d"),
        Atom("persona", "bank-cio"),
    ]
    assert to_data(atoms, "any") == {
        "any": [
            {"stage": {"in": ["engaged", "opportunity"]}},
            {"score": {"engagement": {"gte": 20}}},
            {"event": "Page Viewed", "count": {"gte": 3}, "within": "30d"},
            {"persona": "bank-cio"},
        ]
    }
    assert to_yaml([Atom("tag"), Atom("score")], "all") == ""  # nothing complete yet


def test_account_atoms_speak_of_the_account_or_someone_at_it() -> None:
    atoms = [
        Atom("account_field", "banking, insurance", field="industry", op="in"),
        Atom("account_field", "500", field="size"),
        Atom("account_field", "500", field="name"),
        Atom("account_field", "银行", field="name", op="contains"),
        Atom("people_tag", "need:evaluation"),
        Atom("people_stage", "opportunity"),
        Atom("people_title", "C++, 首席信息官"),
        Atom("people_score", model="fit", number=40.0),
    ]
    data = to_data(atoms, "all")
    assert data == {
        "all": [
            {"account": {"industry": {"in": ["banking", "insurance"]}}},
            {"account": {"size": 500}},
            {"account": {"name": "500"}},
            {"account": {"name": {"contains": "银行"}}},
            {"account_people": {"any": {"tag": "need:evaluation"}}},
            {"account_people": {"any": {"stage": {"in": ["opportunity"]}}}},
            {"account_people": {"any": {"trait": "title", "matches": r"(?i)C\+\+|首席信息官"}}},
            {"account_people": {"any": {"score": {"fit": {"gte": 40}}}}},
        ]
    }
    parse_condition(data)  # the condition language takes every one of them


@pytest.mark.parametrize(
    ("level", "atoms", "match"),
    [
        (PERSON, [Atom("tag", "vip")], "all"),
        (PERSON, [Atom("stage", "a, b"), Atom("event", "X", number=2.0, within="7d")], "any"),
        (PERSON, [Atom("score", model="m", number=1.5), Atom("persona", "p")], "all"),
        (ACCOUNT, [Atom("account_field", "banking", field="industry")], "all"),
        (
            ACCOUNT,
            [
                Atom("account_field", "a, b", field="tier", op="in"),
                Atom("people_title", "C++, 首席信息官"),
                Atom("people_score", model="fit", number=40.0),
            ],
            "any",
        ),
    ],
)
def test_what_the_builder_writes_it_reads_back(level: str, atoms: list[Atom], match: str) -> None:
    text = to_yaml(atoms, match)
    found = from_yaml(text, level)
    assert found is not None
    assert to_yaml(found[1], found[0]) == text


@pytest.mark.parametrize(
    ("level", "text"),
    [
        (PERSON, "{trait: title, eq: CIO}"),
        (PERSON, "{account: {industry: banking}}"),
        (ACCOUNT, "{tag: vip}"),
        (ACCOUNT, "{all: [{account: {industry: banking}}]}"),
        (ACCOUNT, "{account: {industry: banking, size: 5}}"),
        (ACCOUNT, "{account_people: {any: {all: [{tag: a}, {tag: b}]}}}"),
        (PERSON, "{not: {tag: vip}}"),
        (PERSON, "{tag: [unclosed"),
    ],
)
def test_conditions_with_parts_atoms_cannot_say_stay_yaml(level: str, text: str) -> None:
    assert from_yaml(text, level) is None


def test_an_empty_condition_is_no_atoms() -> None:
    assert from_yaml("  \n", ACCOUNT) == ("all", [])
