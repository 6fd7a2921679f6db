"""``dashboard_tallies``: live people per first-seen day and channel, tag and score holders,
kept by triggers (see ``reports.tallies``) and counted from the rows once here.

Revision ID: 20261208_0300_dashboard_tallies
Revises: 20261208_0200_stage_funnel
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "20261208_0300_dashboard_tallies"
down_revision: str | Sequence[str] | None = "20261208_0200_stage_funnel"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


@dataclass(frozen=True)
class _Tally:
    """A tally table, the table whose rows it counts, and how a row ``R`` is keyed."""

    name: str
    source: str
    columns: tuple[str, ...]  # the tally's key columns
    sqlite_keys: tuple[str, ...]  # their values from a source row R, per dialect
    pg_keys: tuple[str, ...]
    watched: tuple[str, ...]  # the source columns an update must touch to move a row
    counted: str = ""  # which source rows count ("" = all)


_TALLIES = (
    _Tally(
        "people_day",
        "person",
        ("workspace_id", "day", "channel"),
        (
            "R.workspace_id",
            "coalesce(date(R.first_seen_at), '0001-01-01')",
            "coalesce(R.first_channel, '')",
        ),
        (
            "R.workspace_id",
            "coalesce(R.first_seen_at::date, DATE '0001-01-01')",
            "coalesce(R.first_channel, '')",
        ),
        ("workspace_id", "first_seen_at", "first_channel", "merged_into_id"),
        "R.merged_into_id IS NULL",
    ),
    _Tally(
        "tag_holders",
        "person_tag",
        ("workspace_id", "tag"),
        ("R.workspace_id", "R.tag"),
        ("R.workspace_id", "R.tag"),
        ("workspace_id", "tag"),
    ),
    _Tally(
        "score_holders",
        "person_score",
        ("workspace_id", "model", "points"),
        ("R.workspace_id", "R.model", "R.points"),
        ("R.workspace_id", "R.model", "R.points"),
        ("workspace_id", "model", "points"),
    ),
)


def _row(exprs: Sequence[str], alias: str) -> list[str]:
    return [e.replace("R.", f"{alias}.") for e in exprs]


def _changed(tally: _Tally, keys: tuple[str, ...], differ: str) -> str:
    moved = [
        f"{old} {differ} {new}"
        for old, new in zip(_row(keys, "OLD"), _row(keys, "NEW"), strict=True)
    ]
    if tally.counted:
        old, new = _row([tally.counted], "OLD")[0], _row([tally.counted], "NEW")[0]
        moved.append(f"({old}) <> ({new})")
    return " OR ".join(moved)


def _add(tally: _Tally, keys: list[str], slot: str, people: int) -> str:
    columns = ", ".join(tally.columns)
    insert = (
        f"INSERT INTO {tally.name} ({columns}, slot, people) "
        f"SELECT {', '.join(keys)}, {slot}, {people}"
    )
    # SQLite needs a WHERE between an INSERT's SELECT and its ON CONFLICT.
    return (
        f"{insert} WHERE true ON CONFLICT ({columns}, slot) "
        f"DO UPDATE SET people = {tally.name}.people + excluded.people;"
    )


def _sqlite_triggers(tally: _Tally) -> list[str]:
    def add(alias: str, people: int) -> str:
        keys = _row(tally.sqlite_keys, alias)
        statement = _add(tally, keys, "0", people)
        if people < 0:  # a key nobody holds any more leaves no row behind
            match = " AND ".join(f"{c} = {k}" for c, k in zip(tally.columns, keys, strict=True))
            statement += f" DELETE FROM {tally.name} WHERE {match} AND slot = 0 AND people = 0;"
        if tally.counted:
            counted = _row([tally.counted], alias)[0]
            statement = statement.replace(" WHERE true ", f" WHERE {counted} ", 1)
        return statement

    prefix = f"CREATE TRIGGER {tally.source}_{tally.name}"
    on = f"ON {tally.source} FOR EACH ROW"
    return [
        f"{prefix}_insert AFTER INSERT {on} BEGIN {add('NEW', 1)} END",
        f"{prefix}_delete AFTER DELETE {on} BEGIN {add('OLD', -1)} END",
        f"{prefix}_update AFTER UPDATE OF {', '.join(tally.watched)} {on} "
        f"WHEN {_changed(tally, tally.sqlite_keys, 'IS NOT')} "
        f"BEGIN {add('OLD', -1)} {add('NEW', 1)} END",
    ]


def _pg_triggers(tally: _Tally) -> list[str]:
    def add(alias: str, people: int) -> str:
        statement = _add(tally, _row(tally.pg_keys, alias), "txid_current()", people)
        if tally.counted:
            return f"IF {_row([tally.counted], alias)[0]} THEN {statement} END IF;"
        return statement

    function = f"{tally.name}_keep"
    on = f"ON {tally.source} FOR EACH ROW EXECUTE FUNCTION {function}()"
    return [
        f"CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF TG_OP <> 'INSERT' THEN {add('OLD', -1)} END IF; "
        f"IF TG_OP <> 'DELETE' THEN {add('NEW', 1)} END IF; "
        "RETURN NULL; END $$",
        f"CREATE TRIGGER {tally.source}_{tally.name}_rows AFTER INSERT OR DELETE {on}",
        f"CREATE TRIGGER {tally.source}_{tally.name}_update "
        f"AFTER UPDATE OF {', '.join(tally.watched)} ON {tally.source} FOR EACH ROW "
        f"WHEN ({_changed(tally, tally.pg_keys, 'IS DISTINCT FROM')}) "
        f"EXECUTE FUNCTION {function}()",
    ]


def _count(tally: _Tally, postgres: bool) -> str:
    keys = _row(tally.pg_keys if postgres else tally.sqlite_keys, "R")
    where = f"WHERE {tally.counted}" if tally.counted else ""
    return (
        f"INSERT INTO {tally.name} ({', '.join(tally.columns)}, slot, people) "
        f"SELECT {', '.join(keys)}, 0, count(*) FROM {tally.source} AS R {where} "
        f"GROUP BY {', '.join(keys)}"
    )


def _tables() -> None:
    key_columns: dict[str, list[sa.Column[Any]]] = {
        "people_day": [
            sa.Column("day", sa.Date(), nullable=False),
            sa.Column("channel", sa.String(length=64), nullable=False),
        ],
        "tag_holders": [sa.Column("tag", sa.String(length=200), nullable=False)],
        "score_holders": [
            sa.Column("model", sa.String(length=64), nullable=False),
            sa.Column("points", sa.Float(), nullable=False),
        ],
    }
    for tally in _TALLIES:
        op.create_table(
            tally.name,
            sa.Column("workspace_id", sa.Uuid(), nullable=False),
            *key_columns[tally.name],
            sa.Column("slot", sa.BigInteger(), nullable=False),
            sa.Column("people", sa.BigInteger(), nullable=False),
            sa.ForeignKeyConstraint(
                ["workspace_id"],
                ["workspace.id"],
                name=op.f(f"fk_{tally.name}_workspace_id_workspace"),
            ),
            sa.PrimaryKeyConstraint(*tally.columns, "slot", name=op.f(f"pk_{tally.name}")),
        )
        op.create_index(
            f"ix_{tally.name}_unfolded",
            tally.name,
            ["slot"],
            postgresql_where=sa.text("slot <> 0"),
            sqlite_where=sa.text("slot <> 0"),
        )


def upgrade() -> None:
    _tables()
    postgres = op.get_bind().dialect.name == "postgresql"
    for tally in _TALLIES:
        op.execute(_count(tally, postgres))
        for statement in _pg_triggers(tally) if postgres else _sqlite_triggers(tally):
            op.execute(statement)


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for tally in reversed(_TALLIES):
        if postgres:
            op.execute(f"DROP FUNCTION {tally.name}_keep() CASCADE")
        else:
            for event in ("insert", "delete", "update"):
                op.execute(f"DROP TRIGGER {tally.source}_{tally.name}_{event}")
        op.drop_table(tally.name)
