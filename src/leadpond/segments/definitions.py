"""What a workspace's segments mean: parsed conditions and the context they are evaluated in."""

import dataclasses
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy.orm import Session

from leadpond.conditions.ast import (
    AccountMatch,
    AccountPeople,
    Behaviour,
    Condition,
    Grade,
    Persona,
    Score,
    walk,
)
from leadpond.conditions.ast import (
    Segment as SegmentAtom,
)
from leadpond.conditions.evaluate import ConditionContext
from leadpond.conditions.parse import ConditionError, parse_condition, with_stage_keys
from leadpond.db.engine import is_postgres
from leadpond.kit import yaml
from leadpond.kit.errors import Conflict, InvalidInput, NotFound
from leadpond.rules.active import current_ruleset
from leadpond.rules.vocabulary import stage_names
from leadpond.segments.models import Segment
from leadpond.segments.scope import segments
from leadpond.segments.sql import SqlContext, to_sql

DYNAMIC, STATIC = "dynamic", "static"
PERSON, ACCOUNT = "person", "account"
ACCOUNT_MATCHES = ("any", "all", "none")

_conditions: TypeAdapter[Condition] = TypeAdapter(Condition)


class SegmentNotFound(NotFound):
    code = "segment_not_found"


class SegmentExists(Conflict):
    code = "segment_exists"


class InvalidSegment(InvalidInput):
    code = "invalid_segment"


def parse_segment_condition(source: str | dict[str, Any]) -> tuple[Condition, str]:
    """The condition (YAML/JSON text or loaded data) and the text to keep as its source."""
    condition = parse_condition(source)
    if isinstance(source, str):
        return condition, source
    return condition, yaml.dump(source)


def condition_of(segment: Segment) -> Condition | None:
    """The stored (compiled) condition of a dynamic segment."""
    if segment.condition is None:
        return None
    return _conditions.validate_python(segment.condition)


def dump_condition(condition: Condition) -> dict[str, Any]:
    """The AST as JSON, as stored in ``segment.condition``."""
    dumped: dict[str, Any] = _conditions.dump_python(condition, mode="json")
    return dumped


@dataclass
class WorkspaceSegments:
    """Every segment of a workspace, compiled, and the context their conditions need."""

    workspace_id: uuid.UUID
    context: ConditionContext
    segments: list[Segment]
    conditions: dict[int, Condition] = field(default_factory=dict)
    # The playbook's stages as (key, name), a pair for each language's name, in its order.
    stages: list[tuple[str, str]] = field(default_factory=list)

    def with_stage_keys(self, condition: Condition) -> Condition:
        """The condition with stages typed by their display name (商机) named by their key, as
        people's stages are stored; an unknown stage is an error listing the stages."""
        return with_stage_keys(condition, self.stages)

    def dynamic(self, level: str = PERSON) -> list[Segment]:
        """Dynamic segments of one level, in id order."""
        return [s for s in self.segments if s.kind == DYNAMIC and s.level == level]

    def by_key(self, key: str) -> Segment | None:
        """The segment with this key."""
        return next((s for s in self.segments if s.key == key), None)

    def sql_context(self, session: Session, now: datetime) -> SqlContext:
        """The context ``to_sql`` needs, at ``now``."""
        dialect = "postgresql" if is_postgres(session) else "sqlite"
        return SqlContext(self.workspace_id, now, dialect, self.context)

    def expanded(self, condition: Condition) -> list[Condition]:
        """Every node of the condition, with referenced dynamic segments and personas inlined."""
        found: list[Condition] = []
        pending, seen = [condition], set[str]()
        while pending:
            for node in walk(pending.pop()):
                found.append(node)
                if (
                    isinstance(node, SegmentAtom | Persona)
                    and f"{node.kind}:{node.key}" not in seen
                ):
                    seen.add(f"{node.kind}:{node.key}")
                    table = (
                        self.context.segments if node.kind == "segment" else self.context.personas
                    )
                    if node.key in table:
                        pending.append(table[node.key])
        return found

    def time_dependent(self, segment: Segment) -> bool:
        """True when membership can change with time alone (windows, decaying scores)."""
        condition = self.conditions.get(segment.id)
        return condition is not None and self.changes_with_time(condition)

    def changes_with_time(self, condition: Condition) -> bool:
        """True when the condition's answer can change with time alone."""
        return any(
            (isinstance(n, Behaviour) and n.within is not None)
            or (isinstance(n, Score | Grade) and n.model in self.context.half_lives)
            for n in self.expanded(condition)
        )

    def uses_accounts(self, segment: Segment) -> bool:
        """True when the condition looks at accounts or colleagues."""
        condition = self.conditions.get(segment.id)
        return condition is not None and any(
            isinstance(n, AccountMatch | AccountPeople) for n in self.expanded(condition)
        )

    def static_dependents(self, static_key: str) -> list[Segment]:
        """Dynamic segments whose condition reads the static segment ``static_key``."""
        return [
            s
            for s in self.segments
            if s.id in self.conditions
            and any(
                isinstance(n, SegmentAtom) and n.key == static_key
                for n in self.expanded(self.conditions[s.id])
            )
        ]


def load_segments(session: Session, workspace_id: uuid.UUID) -> WorkspaceSegments:
    """The workspace's segments and the playbook context (stages, personas, score decay)."""
    rows = list(session.scalars(segments(workspace_id).order_by(Segment.id)))
    ruleset = current_ruleset(session, workspace_id)
    base = ruleset.context if ruleset is not None else ConditionContext()
    conditions = {s.id: c for s in rows if (c := condition_of(s)) is not None}
    context = dataclasses.replace(
        base,
        segments={
            s.key: conditions[s.id] for s in rows if s.level == PERSON and s.id in conditions
        },
        static_segments={s.key: s.id for s in rows if s.kind == STATIC and s.level == PERSON},
    )
    return WorkspaceSegments(
        workspace_id, context, rows, conditions, stage_names(session, workspace_id)
    )


def check_condition(
    session: Session, loaded: WorkspaceSegments, key: str, condition: Condition, now: datetime
) -> None:
    """Reject references to unknown segments or personas, and segments that refer to themselves."""
    trial = dataclasses.replace(
        loaded.context,
        segments={**loaded.context.segments, key: condition},
        static_segments={k: v for k, v in loaded.context.static_segments.items() if k != key},
    )
    _acyclic(trial, key, ())
    try:
        to_sql(condition, SqlContext(loaded.workspace_id, now, "sqlite", trial))
    except ConditionError:
        raise
    except InvalidInput as exc:
        raise InvalidSegment(exc.message) from exc


def _acyclic(context: ConditionContext, key: str, trail: tuple[str, ...]) -> None:
    if key in trail:
        raise InvalidSegment(f"segments refer to each other in a loop: {' -> '.join(trail)}")
    condition = context.segments.get(key)
    if condition is None:
        return
    for node in walk(condition):
        if isinstance(node, SegmentAtom):
            _acyclic(context, node.key, (*trail, key))
