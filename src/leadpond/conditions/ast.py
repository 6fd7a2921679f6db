"""The condition AST: frozen pydantic models, one discriminated union.

Every atom is a ``kind``-tagged model; ``all``/``any``/``not`` combine them. Both evaluators
(``evaluate.matches`` per profile, ``sql.to_sql`` per set) walk this tree, so they read the same
meaning from one definition.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr

if TYPE_CHECKING:
    from leadpond.conditions.evaluate import ProfileSnapshot

Scalar = StrictBool | StrictInt | StrictFloat | StrictStr

VALUE_OPS = ("eq", "ne", "gt", "gte", "lt", "lte", "contains", "starts_with", "matches")
LIST_OPS = ("in", "not_in")
Op = Literal[
    "eq",
    "ne",
    "in",
    "not_in",
    "gt",
    "gte",
    "lt",
    "lte",
    "contains",
    "starts_with",
    "matches",
    "exists",
]
OPERATORS: tuple[str, ...] = (*VALUE_OPS, *LIST_OPS, "exists")
COUNT_OPS = ("eq", "ne", "gt", "gte", "lt", "lte")


# What a behaviour atom calls the calls that are not ``track``: ``did: Page Viewed``.
TYPE_NAMES = {
    "page": "Page Viewed",
    "screen": "Screen Viewed",
    "identify": "Identify",
    "group": "Group",
    "alias": "Alias",
}


class Node(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    def matches(self, snapshot: ProfileSnapshot) -> bool:
        """True when the profile snapshot satisfies this condition (the real-time evaluator)."""
        from leadpond.conditions.evaluate import matches  # evaluate imports this module

        return matches(self, snapshot)  # type: ignore[arg-type]


class Test(Node):
    """One operator and its operand: ``{gte: 3}``, ``{in: [a, b]}``, ``{exists: true}``."""

    op: Op
    value: Scalar | tuple[Scalar, ...] | None = None


class FieldTest(Node):
    """Tests on one (possibly dotted) JSON path; all of them must hold."""

    path: tuple[str, ...]
    tests: tuple[Test, ...]


class Behaviour(Node):
    """How many events of a name (and matching properties) the person has, maybe in a window."""

    kind: Literal["event"] = "event"
    event: str
    where: tuple[FieldTest, ...] = ()
    count: Test = Test(op="gte", value=1)
    within: timedelta | None = None


class Trait(Node):
    kind: Literal["trait"] = "trait"
    field: FieldTest


class Tag(Node):
    kind: Literal["tag"] = "tag"
    tag: str


class Score(Node):
    kind: Literal["score"] = "score"
    model: str
    tests: tuple[Test, ...]


class Grade(Node):
    """A score model's grade letter (A best); tests compare letters, ``gte: B`` = B or better."""

    kind: Literal["grade"] = "grade"
    model: str
    tests: tuple[Test, ...]


class Stage(Node):
    kind: Literal["stage"] = "stage"
    tests: tuple[Test, ...]


class Persona(Node):
    kind: Literal["persona"] = "persona"
    key: str


class Segment(Node):
    kind: Literal["segment"] = "segment"
    key: str


class AccountMatch(Node):
    """One of the person's accounts satisfies every field test."""

    kind: Literal["account"] = "account"
    fields: tuple[FieldTest, ...]


class AccountPeople(Node):
    """Someone (the person included) at one of the person's accounts satisfies ``any``."""

    kind: Literal["account_people"] = "account_people"
    any: Condition


class AllOf(Node):
    kind: Literal["all"] = "all"
    items: tuple[Condition, ...]


class AnyOf(Node):
    kind: Literal["any"] = "any"
    items: tuple[Condition, ...]


class NotOf(Node):
    kind: Literal["not"] = "not"
    item: Condition


Condition = Annotated[
    Behaviour
    | Trait
    | Tag
    | Score
    | Grade
    | Stage
    | Persona
    | Segment
    | AccountMatch
    | AccountPeople
    | AllOf
    | AnyOf
    | NotOf,
    Field(discriminator="kind"),
]

for _model in (AccountPeople, AllOf, AnyOf, NotOf):
    _model.model_rebuild()


def walk(cond: Condition) -> list[Condition]:
    """The condition and every condition nested in it, parents first."""
    found: list[Condition] = [cond]
    if isinstance(cond, AllOf | AnyOf):
        for item in cond.items:
            found.extend(walk(item))
    elif isinstance(cond, NotOf):
        found.extend(walk(cond.item))
    elif isinstance(cond, AccountPeople):
        found.extend(walk(cond.any))
    return found
