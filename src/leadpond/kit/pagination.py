"""Paging, one way for every list: bounded query parameters in, ``Page[T]`` out."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

# Bounded on both sides: an offset past 64 bits would overflow the database driver.
MAX_LIMIT = 1000
MAX_OFFSET = 10_000_000
DEFAULT_LIMIT = 50

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a list: how many there are in all, and this page's items."""

    total: int
    items: list[T]


@dataclass(frozen=True)
class PageQuery:
    """Which page: at most ``limit`` rows after skipping ``offset``."""

    limit: int = DEFAULT_LIMIT
    offset: int = 0

    def apply(self, statement: Select[Any]) -> Select[Any]:
        """The statement limited to this page (order it first: pages of an unordered query
        overlap)."""
        return statement.limit(self.limit).offset(self.offset)


def _page_query(default_limit: int) -> Callable[..., PageQuery]:
    def page_query(
        limit: Annotated[
            int, Query(ge=1, le=MAX_LIMIT, description=f"rows per page, 1-{MAX_LIMIT}")
        ] = default_limit,
        offset: Annotated[
            int, Query(ge=0, le=MAX_OFFSET, description=f"rows to skip, 0-{MAX_OFFSET:,}")
        ] = 0,
    ) -> PageQuery:
        """The ``limit`` and ``offset`` query parameters every list endpoint takes."""
        return PageQuery(limit=limit, offset=offset)

    return page_query


# Lists of things: 50 a page. Histories (a timeline, a segment's changes): 100 a page.
Paging = Annotated[PageQuery, Depends(_page_query(DEFAULT_LIMIT))]
HistoryPaging = Annotated[PageQuery, Depends(_page_query(100))]


def count(session: Session, statement: Select[Any]) -> int:
    """How many rows the (unpaged) statement returns."""
    return (
        session.scalar(select(func.count()).select_from(statement.order_by(None).subquery())) or 0
    )
