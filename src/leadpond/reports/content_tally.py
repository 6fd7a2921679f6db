"""The content tally (``reports.models.ContentTally``): which events it counts, and how.

The H5 viewer's events (``content.viewing``) name the item in ``properties.content_id``. An event
counts when its name is one of the three below and its content id is a string or a whole
number of at most 64 characters (an item key's length: a longer id names no item):

- ``Content Viewed``: a view, unless the viewer flagged a link scanner (``properties.bot``);
- ``Whitepaper Downloaded``: a download;
- ``Content Read``: a read, with ``read_seconds`` and ``scroll_depth`` when they are numbers.

The triggers that keep the tally (migration ``20261210_0000_content_tally``) and
:func:`recount` below write the same expressions, per database.
"""

import uuid

from sqlalchemy import Uuid, bindparam, delete, text
from sqlalchemy.orm import Session

from leadpond.db.engine import is_postgres
from leadpond.kit.scope import owned
from leadpond.reports.models import ContentTally

VIEWED, READ, DOWNLOADED = "Content Viewed", "Content Read", "Whitepaper Downloaded"
COUNTED = (VIEWED, READ, DOWNLOADED)
KEY_LENGTH = 64

_NAMES = ", ".join(f"'{name}'" for name in COUNTED)
# Per database: a property of row R as text, a property's JSON type test, a number property.
_SQLITE = {
    "prop": "json_extract(R.payload, '$.properties.{}')",
    "is_key": "json_type(R.payload, '$.properties.content_id') IN ('text', 'integer')",
    "is_number": "json_type(R.payload, '$.properties.{}') IN ('integer', 'real')",
    "key": "CAST(json_extract(R.payload, '$.properties.content_id') AS TEXT)",
    "bot": "coalesce(CAST(json_extract(R.payload, '$.properties.bot') AS TEXT), 'false')",
}
_POSTGRES = {
    "prop": "(R.payload #>> '{{properties,{}}}')::float8",
    "is_key": (
        "(jsonb_typeof(R.payload #> '{properties,content_id}') = 'string' OR "
        "(R.payload #>> '{properties,content_id}') ~ '^-?[0-9]+$')"
    ),
    "is_number": "jsonb_typeof(R.payload #> '{{properties,{}}}') = 'number'",
    "key": "(R.payload #>> '{properties,content_id}')",
    "bot": "coalesce(R.payload #>> '{properties,bot}', 'false')",
}
COLUMNS = ("views", "downloads", "reads", "read_seconds", "scrolls", "scroll_depth")


def counted(postgres: bool) -> str:
    """Whether event row ``R`` counts."""
    sql = _POSTGRES if postgres else _SQLITE
    return f"R.event IN ({_NAMES}) AND {sql['is_key']} AND length({sql['key']}) <= {KEY_LENGTH}"


def key_values(postgres: bool) -> tuple[str, str, str]:
    """The tally key of event row ``R``: workspace, content key, person (0: nobody)."""
    sql = _POSTGRES if postgres else _SQLITE
    return "R.workspace_id", sql["key"], "coalesce(R.person_id, 0)"


def amounts(postgres: bool) -> tuple[str, ...]:
    """What event row ``R`` adds to each of :data:`COLUMNS`."""
    sql = _POSTGRES if postgres else _SQLITE

    def number(name: str) -> tuple[str, str]:
        has = f"R.event = '{READ}' AND {sql['is_number'].format(name)}"
        return (
            f"CASE WHEN {has} THEN 1 ELSE 0 END",
            f"CASE WHEN {has} THEN {sql['prop'].format(name)} ELSE 0 END",
        )

    return (
        f"CASE WHEN R.event = '{VIEWED}' AND {sql['bot']} NOT IN ('true', '1') THEN 1 ELSE 0 END",
        f"CASE WHEN R.event = '{DOWNLOADED}' THEN 1 ELSE 0 END",
        *number("read_seconds"),
        *number("scroll_depth"),
    )


def recount(session: Session, workspace_id: uuid.UUID) -> None:
    """Count the workspace's tally from its event log again (after a bulk load or copy)."""
    postgres = is_postgres(session)
    session.execute(delete(ContentTally).where(owned(ContentTally, workspace_id)))
    keys = key_values(postgres)
    sums = ", ".join(f"sum({amount})" for amount in amounts(postgres))
    session.execute(
        text(
            f"INSERT INTO content_tally (workspace_id, content_key, person_id, slot, "
            f"{', '.join(COLUMNS)}) "
            f"SELECT {', '.join(keys)}, 0, {sums} FROM event AS R "
            f"WHERE R.workspace_id = :workspace AND {counted(postgres)} "
            f"GROUP BY {', '.join(keys)}"
        ).bindparams(bindparam("workspace", workspace_id, type_=Uuid))
    )
