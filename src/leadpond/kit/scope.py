"""Every read and write of a workspace's rows is scoped here: the one place the workspace filter
is written (STYLE §3).

``owned(Model, workspace_id)`` is the filter for any model, alias or table with a
``workspace_id`` column; ``in_workspace(Model, workspace_id)`` starts a select of the model's
rows. Domains build their own statements on these (``profiles.scope.people`` adds "not merged
away", ``accounts.scope.accounts``…), so a query that forgets its workspace stands out in review:
it is the one that does not start from a scope.
"""

import uuid
from typing import Any, Protocol, TypeVar

from sqlalchemy import ColumnElement, FromClause, Select, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import InternalTraversal


class WorkspaceOwned(Protocol):
    """A mapped class (or an alias of one) whose rows belong to one workspace."""

    workspace_id: InstrumentedAttribute[uuid.UUID]


Owner = WorkspaceOwned | FromClause
M = TypeVar("M")


def _column(owner: Any) -> Any:
    if isinstance(owner, FromClause):
        return owner.c.workspace_id
    return owner.workspace_id


class _NotIndexed(ColumnElement[Any]):
    """A column SQLite's planner may not look up through an index: ``+column`` (SQLite's
    documented way to keep a term off the index choice); the column itself elsewhere."""

    inherit_cache = True
    # SQLAlchemy's cache key: the column (an instance variable on SQLAlchemy's base class).
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement)]  # noqa: RUF012

    def __init__(self, column: Any) -> None:
        self.column = column
        self.type = column.type


@compiles(_NotIndexed)
def _as_is(element: _NotIndexed, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.column, **kw)


@compiles(_NotIndexed, "sqlite")
def _unary_plus(element: _NotIndexed, compiler: SQLCompiler, **kw: Any) -> str:
    return "+" + compiler.process(element.column, **kw)


def owned(
    owner: Owner | type[Any],
    workspace_id: uuid.UUID | ColumnElement[Any],
    *,
    by_index: bool = True,
) -> Any:
    """The row belongs to the workspace: ``owner.workspace_id = :workspace_id``.

    ``workspace_id`` may be a bound parameter for statements run with many workspaces.
    ``by_index=False`` is for reads that find their rows by person (or another key) and only
    check the workspace: it keeps SQLite from walking a ``(workspace_id, …)`` index over the
    whole workspace instead of probing the key (PostgreSQL's planner weighs both itself).
    """
    column = _column(owner)
    return (column if by_index else _NotIndexed(column)) == workspace_id


def same_workspace(left: Owner | type[Any], right: Owner | type[Any]) -> Any:
    """A join condition: both rows belong to the same workspace."""
    return _column(left) == _column(right)


def in_workspace(model: type[M], workspace_id: uuid.UUID) -> Select[M]:
    """``SELECT model WHERE model.workspace_id = :workspace_id``: the start of a scoped read."""
    return select(model).where(owned(model, workspace_id))
