"""``column IN (ids)`` for long id lists, bound as one parameter."""

import json
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import BigInteger, ColumnElement, String, any_, func, literal, select
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from leadpond.db.engine import is_postgres


def among(session: Session, column: Any, ids: Sequence[int]) -> ColumnElement[bool]:
    """``column IN ids`` as one parameter — an array on PostgreSQL, a JSON list read by
    ``json_each`` on SQLite: ten thousand ids are one value to bind, where an expanded ``IN``
    renders (and SQLAlchemy processes) ten thousand parameters in every statement."""
    if is_postgres(session):
        # An array literal in text, cast by the server: psycopg dumping a list of ints tests
        # each with a regular expression (0.1 s for seven lists of 16,000 ids).
        written = "{" + ",".join(str(int(i)) for i in ids) + "}"
        array = sql_cast(literal(written, String), ARRAY(BigInteger))
        return cast(ColumnElement[bool], column == any_(array))
    listed = func.json_each(literal(json.dumps(list(ids)), String)).table_valued("value")
    return cast(ColumnElement[bool], column.in_(select(listed.c.value)))
