"""The batch evaluator: a condition compiled to one SQL boolean over the ``person`` table.

``session.scalars(select(Person.id).where(to_sql(cond, ctx)))`` answers for a whole workspace at
once. The value semantics are those documented in ``evaluate``; JSON is read with ``json_type``/
``json_extract`` on SQLite and ``jsonb_typeof``/``jsonb_extract_path`` on PostgreSQL, string
ordering uses the "C" collation (code points, as in Python) and ``matches`` is SQLite's
``regexp`` (RE2, registered on every connection by ``db.engine``) or PostgreSQL's ``~`` over the
pattern as ``regex.postgres_pattern`` spells it.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Select,
    and_,
    case,
    cast,
    false,
    func,
    literal,
    not_,
    or_,
    select,
    true,
)
from sqlalchemy.orm import aliased

from leadpond.accounts.models import Account, PersonAccount
from leadpond.conditions.ast import (
    TYPE_NAMES,
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
from leadpond.conditions.evaluate import (
    ACCOUNT_COLUMNS,
    MISSING,
    ConditionContext,
    grade_as_scores,
    value_holds,
)
from leadpond.db import regex
from leadpond.ingest.models import Event
from leadpond.kit.scope import owned
from leadpond.profiles.models import Person
from leadpond.profiles.scope import live
from leadpond.rules.models import PersonScore, PersonStage, PersonTag
from leadpond.segments.models import SegmentMember

# The event name a non-track call answers to in behaviour conditions.


@dataclass(frozen=True)
class SqlContext:
    workspace_id: uuid.UUID
    now: datetime
    dialect: str
    context: ConditionContext


def to_sql(cond: Condition, ctx: SqlContext, person: Any = None) -> ColumnElement[bool]:
    """The condition as a boolean over ``person`` (the ``Person`` entity or an alias of it)."""
    compiled: ColumnElement[bool] = _Compiler(ctx).compile(
        cond, person if person is not None else Person
    )
    return compiled


def groups_events(cond: Condition, ctx: SqlContext) -> bool:
    """Whether ``to_sql`` answers a behaviour atom with a whole-workspace grouped event query.

    That form only appears where nothing else narrows the candidates (see ``behaviour``); the
    caller may then want hash joins (``segments.build.set_based``).
    """
    compiler = _Compiler(ctx)
    compiler.compile(cond, Person)
    return compiler.grouped


def definite(expr: ColumnElement[bool]) -> ColumnElement[bool]:
    """NULL (unknown) becomes false, so that negating it is safe."""
    return case((expr, true()), else_=false())


class _Compiler:
    def __init__(self, ctx: SqlContext) -> None:
        self.ctx = ctx
        self.pg = ctx.dialect == "postgresql"
        # True inside an ``all`` with a non-behaviour item: other conditions narrow the people.
        self.narrowed = False
        self.grouped = False  # a grouped, whole-workspace event count was emitted

    def compile(self, cond: Condition, person: Any) -> Any:
        if isinstance(cond, AllOf):
            outer = self.narrowed
            self.narrowed = outer or any(not isinstance(i, Behaviour) for i in cond.items)
            try:
                return and_(true(), *(self.compile(i, person) for i in cond.items))
            finally:
                self.narrowed = outer
        if isinstance(cond, AnyOf):
            return or_(false(), *(self.compile(i, person) for i in cond.items))
        if isinstance(cond, NotOf):
            return not_(definite(self.compile(cond.item, person)))
        if isinstance(cond, Trait):
            return self.field(person.traits, cond.field)
        if isinstance(cond, Persona):
            return self.compile(self.ctx.context.persona(cond.key), person)
        if isinstance(cond, Segment):
            static_id = self.ctx.context.static_segments.get(cond.key)
            if static_id is not None:
                return person.id.in_(
                    select(SegmentMember.person_id).where(SegmentMember.segment_id == static_id)
                )
            return self.compile(self.ctx.context.segment(cond.key), person)
        if isinstance(cond, Tag):
            return person.id.in_(
                select(PersonTag.person_id).where(
                    owned(PersonTag, self.ctx.workspace_id), PersonTag.tag == cond.tag
                )
            )
        if isinstance(cond, Score):
            return self.score(cond, person)
        if isinstance(cond, Grade):
            return self.compile(grade_as_scores(cond, self.ctx.context), person)
        if isinstance(cond, Stage):
            return self.stage(cond, person)
        if isinstance(cond, Behaviour):
            return self.behaviour(cond, person)
        if isinstance(cond, AccountMatch):
            return self.account(cond, person)
        if isinstance(cond, AccountPeople):
            return self.account_people(cond, person)
        raise TypeError(f"unknown condition {cond!r}")

    # -- membership: "holds for people with rows where ...", or for people without rows too
    def _members(
        self, person: Any, rows: Select[Any], test: ColumnElement[bool], holds_absent: bool
    ) -> Any:
        if holds_absent:
            return person.id.not_in(rows.where(not_(definite(test))))
        return person.id.in_(rows.where(test))

    def score(self, cond: Score, person: Any) -> Any:
        value: Any = PersonScore.points
        half_life = self.ctx.context.half_lives.get(cond.model)
        if half_life is not None:
            if self.pg:
                age: Any = func.extract("epoch", literal(self.ctx.now) - PersonScore.as_of)
            else:
                age = (
                    func.julianday(literal(self.ctx.now)) - func.julianday(PersonScore.as_of)
                ) * 86400.0
            value = PersonScore.points * func.power(0.5, age / half_life.total_seconds())
        rows = select(PersonScore.person_id).where(
            owned(PersonScore, self.ctx.workspace_id), PersonScore.model == cond.model
        )
        test = and_(*(self.number(value, t) for t in cond.tests))
        absent = all(value_holds(0.0, t) for t in cond.tests)
        return self._members(person, rows, test, absent)

    def stage(self, cond: Stage, person: Any) -> Any:
        order = self.ctx.context.stages
        rows = select(PersonStage.person_id).where(owned(PersonStage, self.ctx.workspace_id))
        tests: list[ColumnElement[bool]] = []
        for t in cond.tests:
            if t.op in ("gt", "gte", "lt", "lte"):
                if t.value not in order:
                    tests.append(false())
                    continue
                position = case(
                    {key: index for index, key in enumerate(order)},
                    value=PersonStage.stage,
                    else_=None,
                )
                tests.append(self.number(position, Test(op=t.op, value=order.index(t.value))))
            else:
                tests.append(self.string_column(PersonStage.stage, t))
        absent = all(value_holds(MISSING, t) for t in cond.tests)
        return self._members(person, rows, and_(true(), *tests), absent)

    def behaviour(self, cond: Behaviour, person: Any) -> Any:
        """The event count test, in one of two equivalent shapes.

        Next to conditions that narrow the people (``all`` with a trait, tag, account, ...) it
        is a correlated ``count(*)`` per candidate over ``ix_event_person_timeline``, so only
        the candidates' events are read. Alone it is one grouped query over the workspace's
        events of that name in the window (``ix_event_workspace_name_timestamp``), cheaper than
        a probe per person when every person is a candidate.
        """
        types = [kind for kind, name in TYPE_NAMES.items() if name == cond.event]
        named = and_(Event.type == "track", Event.event == cond.event)
        where = [
            owned(Event, self.ctx.workspace_id),
            or_(named, Event.type.in_(types)) if types else named,
            Event.timestamp <= self.ctx.now,
        ]
        if cond.within is not None:
            where.append(Event.timestamp > self.ctx.now - cond.within)
        where.extend(self.field(Event.payload, f, ("properties",)) for f in cond.where)
        count = func.count()
        if self.narrowed:
            per_person = select(count).where(Event.person_id == person.id, *where)
            return self.number(per_person.correlate(person).scalar_subquery(), cond.count)
        self.grouped = True
        rows = (
            select(Event.person_id)
            .where(Event.person_id.is_not(None), *where)
            .group_by(Event.person_id)
        )
        if value_holds(0, cond.count):
            return person.id.not_in(rows.having(not_(self.number(count, cond.count))))
        return person.id.in_(rows.having(self.number(count, cond.count)))

    def account(self, cond: AccountMatch, person: Any) -> Any:
        tests: list[Any] = []
        for f in cond.fields:
            if len(f.path) == 1 and f.path[0] in ACCOUNT_COLUMNS:
                column = getattr(Account, f.path[0])
                tests.extend(self.string_column(column, t) for t in f.tests)
            else:
                tests.append(self.field(Account.traits, f))
        links = (
            select(PersonAccount.person_id)
            .join(Account, Account.id == PersonAccount.account_id)
            .where(owned(PersonAccount, self.ctx.workspace_id), *tests)
        )
        return person.id.in_(links)

    def account_people(self, cond: AccountPeople, person: Any) -> Any:
        mine, theirs, colleague = aliased(PersonAccount), aliased(PersonAccount), aliased(Person)
        outer, self.narrowed = self.narrowed, False  # colleagues are not narrowed by our siblings
        try:
            colleague_test = self.compile(cond.any, colleague)
        finally:
            self.narrowed = outer
        links = (
            select(mine.person_id)
            .join(theirs, theirs.account_id == mine.account_id)
            .join(colleague, colleague.id == theirs.person_id)
            .where(owned(mine, self.ctx.workspace_id), live(colleague), colleague_test)
        )
        return person.id.in_(links)

    # -- JSON values
    def field(self, document: Any, test: FieldTest, prefix: tuple[str, ...] = ()) -> Any:
        path = (*prefix, *test.path)
        if self.pg:
            kind = func.jsonb_typeof(func.jsonb_extract_path(document, *path))
            value = func.jsonb_extract_path_text(document, *path)
            kinds = {"string": "string", "number": ("number",), "null": "null"}
        else:
            json_path = "$" + "".join(f'."{part}"' for part in path)
            kind = func.json_type(document, json_path)
            value = func.json_extract(document, json_path)
            kinds = {"string": "text", "number": ("integer", "real"), "null": "null"}
        return and_(true(), *(self.json_test(kind, value, t, kinds) for t in test.tests))

    def json_test(self, kind: Any, value: Any, test: Test, kinds: dict[str, Any]) -> Any:
        op, target = test.op, test.value
        if op == "exists":
            present = and_(kind.is_not(None), kind != kinds["null"])
            return present if target else not_(definite(present))
        if op in ("ne", "not_in"):
            positive = Test(op="eq" if op == "ne" else "in", value=target)
            return not_(definite(self.json_test(kind, value, positive, kinds)))
        if op == "in":
            return or_(
                false(),
                *(
                    self.json_test(kind, value, Test(op="eq", value=t), kinds)
                    for t in _operands(target)
                ),
            )
        if isinstance(target, bool):
            if op != "eq":
                return false()
            if self.pg:
                return and_(kind == "boolean", value == ("true" if target else "false"))
            return kind == ("true" if target else "false")
        if isinstance(target, int | float):
            if op not in ("eq", "gt", "gte", "lt", "lte"):
                return false()
            number = case((kind.in_(kinds["number"]), cast(value, Float)), else_=None)
            return self.number(number, test)
        is_string = kind == kinds["string"]
        return and_(is_string, self.string_value(value, test))

    def string_column(self, column: Any, test: Test) -> Any:
        """A plain string column (NULL = absent) under the JSON value semantics."""
        op, target = test.op, test.value
        if op == "exists":
            return column.is_not(None) if target else column.is_(None)
        if op in ("ne", "not_in"):
            positive = Test(op="eq" if op == "ne" else "in", value=target)
            return not_(definite(self.string_column(column, positive)))
        if op == "in":
            return or_(
                false(),
                *(self.string_column(column, Test(op="eq", value=t)) for t in _operands(target)),
            )
        if not isinstance(target, str):
            return false()
        return and_(column.is_not(None), self.string_value(column, test))

    def string_value(self, value: Any, test: Test) -> Any:
        target = str(test.value)
        if test.op == "eq":
            return value == target
        if test.op in ("gt", "gte", "lt", "lte"):
            ordered = value.collate("C") if self.pg else value
            return self.number(ordered, Test(op=test.op, value=target))
        if test.op == "contains":
            position = func.strpos(value, target) if self.pg else func.instr(value, target)
            return position > 0
        if test.op == "starts_with":
            return func.substr(value, 1, len(target)) == target
        if test.op == "matches":
            return value.regexp_match(regex.postgres_pattern(target) if self.pg else target)
        return false()

    def number(self, value: Any, test: Test) -> Any:
        target = test.value
        comparisons = {
            "eq": lambda: value == target,
            "ne": lambda: value != target,
            "gt": lambda: value > target,
            "gte": lambda: value >= target,
            "lt": lambda: value < target,
            "lte": lambda: value <= target,
        }
        return comparisons[test.op]()


def _operands(target: Any) -> tuple[Any, ...]:
    return tuple(target) if isinstance(target, tuple) else (target,)


__all__ = ["SqlContext", "definite", "groups_events", "to_sql"]
