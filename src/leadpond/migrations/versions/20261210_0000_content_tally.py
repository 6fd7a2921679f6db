"""``content_tally``: views, downloads and reads per content item and person, kept by triggers
on ``event`` (see ``reports.content_tally``) and counted from the log once here; and
``ix_event_content_views``, one item's views in the log (its stats page's channels, links and
readers).

Revision ID: 20261210_0000_content_tally
Revises: 20261209_0500_known_stage
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261210_0000_content_tally"
down_revision: str | Sequence[str] | None = "20261209_0500_known_stage"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_VIEWED, _READ, _DOWNLOADED = "Content Viewed", "Content Read", "Whitepaper Downloaded"
_NAMES = f"'{_VIEWED}', '{_READ}', '{_DOWNLOADED}'"
_COLUMNS = ("views", "downloads", "reads", "read_seconds", "scrolls", "scroll_depth")
_KEY = ("workspace_id", "content_key", "person_id", "slot")
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


def _sql(postgres: bool) -> dict[str, str]:
    return _POSTGRES if postgres else _SQLITE


def _counted(postgres: bool) -> str:
    sql = _sql(postgres)
    return f"R.event IN ({_NAMES}) AND {sql['is_key']} AND length({sql['key']}) <= 64"


def _keys(postgres: bool) -> list[str]:
    return ["R.workspace_id", _sql(postgres)["key"], "coalesce(R.person_id, 0)"]


def _amounts(postgres: bool) -> list[str]:
    sql = _sql(postgres)
    found = [
        f"CASE WHEN R.event = '{_VIEWED}' AND {sql['bot']} NOT IN ('true', '1') THEN 1 ELSE 0 END",
        f"CASE WHEN R.event = '{_DOWNLOADED}' THEN 1 ELSE 0 END",
    ]
    for name in ("read_seconds", "scroll_depth"):
        has = f"R.event = '{_READ}' AND {sql['is_number'].format(name)}"
        found.append(f"CASE WHEN {has} THEN 1 ELSE 0 END")
        found.append(f"CASE WHEN {has} THEN {sql['prop'].format(name)} ELSE 0 END")
    return found


def _as(sql: str, alias: str) -> str:
    return sql.replace("R.", f"{alias}.")


def _add(postgres: bool, alias: str, sign: int, slot: str) -> str:
    """Add (sign 1) or take back (-1) event row ``alias``'s counts, when it counts."""
    values = [*_keys(postgres), slot, *(f"{sign} * ({a})" for a in _amounts(postgres))]
    updates = ", ".join(f"{c} = content_tally.{c} + excluded.{c}" for c in _COLUMNS)
    return _as(
        f"INSERT INTO content_tally ({', '.join(_KEY)}, {', '.join(_COLUMNS)}) "
        f"SELECT {', '.join(values)} WHERE {_counted(postgres)} "
        f"ON CONFLICT ({', '.join(_KEY)}) DO UPDATE SET {updates};",
        alias,
    )


def _sqlite_triggers() -> list[str]:
    def take_back(alias: str) -> str:
        key = " AND ".join(f"{c} = {k}" for c, k in zip(_KEY, [*_keys(False), "0"], strict=True))
        empty = " AND ".join(f"{c} = 0" for c in ("views", "downloads", "reads", "scrolls"))
        delete = f"DELETE FROM content_tally WHERE {key} AND {empty};"
        return _add(False, alias, -1, "0") + " " + _as(delete, alias)

    on = "ON event FOR EACH ROW"
    moved = " OR ".join(
        f"OLD.{c} IS NOT NEW.{c}" for c in ("workspace_id", "event", "payload", "person_id")
    )
    return [
        f"CREATE TRIGGER event_content_tally_insert AFTER INSERT {on} "
        f"WHEN NEW.event IN ({_NAMES}) BEGIN {_add(False, 'NEW', 1, '0')} END",
        f"CREATE TRIGGER event_content_tally_delete AFTER DELETE {on} "
        f"WHEN OLD.event IN ({_NAMES}) BEGIN {take_back('OLD')} END",
        "CREATE TRIGGER event_content_tally_update "
        f"AFTER UPDATE OF workspace_id, event, payload, person_id {on} "
        f"WHEN (OLD.event IN ({_NAMES}) OR NEW.event IN ({_NAMES})) AND ({moved}) "
        f"BEGIN {take_back('OLD')} {_add(False, 'NEW', 1, '0')} END",
    ]


def _pg_triggers() -> list[str]:
    moved = " OR ".join(
        f"OLD.{c} IS DISTINCT FROM NEW.{c}"
        for c in ("workspace_id", "event", "payload", "person_id")
    )
    return [
        "CREATE FUNCTION content_tally_keep() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF TG_OP <> 'INSERT' THEN {_add(True, 'OLD', -1, 'txid_current()')} END IF; "
        f"IF TG_OP <> 'DELETE' THEN {_add(True, 'NEW', 1, 'txid_current()')} END IF; "
        "RETURN NULL; END $$",
        "CREATE TRIGGER event_content_tally_insert AFTER INSERT ON event "
        f"FOR EACH ROW WHEN (NEW.event IN ({_NAMES})) EXECUTE FUNCTION content_tally_keep()",
        "CREATE TRIGGER event_content_tally_delete AFTER DELETE ON event "
        f"FOR EACH ROW WHEN (OLD.event IN ({_NAMES})) EXECUTE FUNCTION content_tally_keep()",
        "CREATE TRIGGER event_content_tally_update "
        "AFTER UPDATE OF workspace_id, event, payload, person_id ON event "
        f"FOR EACH ROW WHEN ((OLD.event IN ({_NAMES}) OR NEW.event IN ({_NAMES})) "
        f"AND ({moved})) EXECUTE FUNCTION content_tally_keep()",
    ]


def _recount(postgres: bool) -> str:
    keys = _keys(postgres)
    sums = ", ".join(f"sum({a})" for a in _amounts(postgres))
    return (
        f"INSERT INTO content_tally ({', '.join(_KEY)}, {', '.join(_COLUMNS)}) "
        f"SELECT {', '.join(keys)}, 0, {sums} FROM event AS R WHERE {_counted(postgres)} "
        f"GROUP BY {', '.join(keys)}"
    )


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.create_table(
        "content_tally",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("content_key", sa.String(length=64), nullable=False),
        sa.Column("person_id", sa.BigInteger(), nullable=False),
        sa.Column("slot", sa.BigInteger(), nullable=False),
        sa.Column("views", sa.BigInteger(), nullable=False),
        sa.Column("downloads", sa.BigInteger(), nullable=False),
        sa.Column("reads", sa.BigInteger(), nullable=False),
        sa.Column("read_seconds", sa.Float(), nullable=False),
        sa.Column("scrolls", sa.BigInteger(), nullable=False),
        sa.Column("scroll_depth", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_content_tally_workspace_id_workspace"),
        ),
        sa.PrimaryKeyConstraint(*_KEY, name=op.f("pk_content_tally")),
        sqlite_with_rowid=False,
    )
    op.create_index(
        "ix_content_tally_unfolded",
        "content_tally",
        ["slot"],
        postgresql_where=sa.text("slot <> 0"),
        sqlite_where=sa.text("slot <> 0"),
    )
    op.execute(_recount(postgres))
    for statement in _pg_triggers() if postgres else _sqlite_triggers():
        op.execute(statement)
    key = _sql(postgres)["key"].replace("R.", "")
    op.execute(
        f'CREATE INDEX ix_event_content_views ON event (workspace_id, {key}, "timestamp") '
        f"WHERE event = '{_VIEWED}'"
    )


def downgrade() -> None:
    op.execute("DROP INDEX ix_event_content_views")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION content_tally_keep() CASCADE")
    else:
        for event in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER event_content_tally_{event}")
    op.drop_table("content_tally")
