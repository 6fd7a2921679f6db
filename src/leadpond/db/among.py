"""``column IN (ids)`` for long id lists, bound as one parameter."""

import json
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import BigInteger, ColumnElement, String, any_, func, literal, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from leadpond.db.engine import is_postgres


def among(session: Session, column: Any, ids: Sequence[int]) -> ColumnElement[bool]:
    """``column IN ids`` as one parameter — an array on PostgreSQL, a JSON list read by
    ``json_each`` on SQLite: ten thousand ids are one value to bind, where an expanded ``IN``
    renders (and SQLAlchemy processes) ten thousand parameters in every statement."""
    if is_postgres(session):
        return cast(ColumnElement[bool], column == any_(literal(list(ids), ARRAY(BigInteger))))
    listed = func.json_each(literal(json.dumps(list(ids)), String)).table_valued("value")
    return cast(ColumnElement[bool], column.in_(select(listed.c.value)))
