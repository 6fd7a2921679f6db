"""Channel attribution and the WeChat/WeCom acquisition codes.

``person.first_touch`` / ``last_touch`` (and ``first_channel`` becomes the first touch's channel
group), ``channel_grouping`` (a workspace's own grouping), ``wechat_qr_code`` (parameterised QR
codes: scene → channel, campaign) and ``wecom_contact_way`` (contact-me codes: state → channel).
The data step computes every person's touches from their history, as the pipeline would.

Revision ID: 20261207_1300_acq
Revises: 20261207_1200_content
"""

from collections.abc import Iterator, Sequence
from itertools import chain
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "20261207_1300_acq"
down_revision: str | Sequence[str] | None = "20261207_1200_content"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON_DOC = sa.JSON().with_variant(JSONB(), "postgresql")
# Not activity: derived events, messages sent to them, journeys' actions (as the pipeline).
NOT_ACTIVITY = ("derived", "message", "journey")
BATCH = 500


def upgrade() -> None:
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.add_column(sa.Column("first_touch", JSON_DOC, nullable=True))
        batch_op.add_column(sa.Column("last_touch", JSON_DOC, nullable=True))
    op.create_table(
        "channel_grouping",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("groups", JSON_DOC, nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_channel_grouping_workspace_id_workspace"),
        ),
        sa.PrimaryKeyConstraint("workspace_id", name=op.f("pk_channel_grouping")),
    )
    op.create_table(
        "wechat_qr_code",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("scene", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("campaign", sa.String(length=128), nullable=True),
        sa.Column("permanent", sa.Boolean(), nullable=False),
        sa.Column("ticket", sa.String(length=512), nullable=False),
        sa.Column("url", sa.String(length=512), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=True),
        sa.Column("scans", sa.Integer(), nullable=False),
        sa.Column("follows", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_wechat_qr_code_workspace_id_workspace"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wechat_qr_code")),
        sa.UniqueConstraint(
            "workspace_id", "scene", name=op.f("uq_wechat_qr_code_workspace_id_scene")
        ),
    )
    op.create_table(
        "wecom_contact_way",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("state", sa.String(length=30), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("campaign", sa.String(length=128), nullable=True),
        sa.Column("user_ids", JSON_DOC, nullable=False),
        sa.Column("config_id", sa.String(length=128), nullable=False),
        sa.Column("qr_code", sa.String(length=1024), nullable=False),
        sa.Column("adds", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_wecom_contact_way_workspace_id_workspace"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wecom_contact_way")),
        sa.UniqueConstraint(
            "workspace_id", "state", name=op.f("uq_wecom_contact_way_workspace_id_state")
        ),
    )
    for table in ("wechat_qr_code", "wecom_contact_way"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(
                batch_op.f(f"ix_{table}_workspace_id"), ["workspace_id"], unique=False
            )
    _backfill_touches()


def _events(bind: sa.Connection) -> Iterator[tuple[Any, ...]]:
    event = sa.table(
        "event",
        sa.column("person_id", sa.BigInteger()),
        sa.column("type", sa.String()),
        sa.column("timestamp", sa.DateTime()),
        sa.column("source", sa.String()),
        sa.column("message_id", sa.String()),
        sa.column("payload", JSON_DOC),
    )
    query = (
        sa.select(
            event.c.person_id,
            event.c.type,
            event.c.timestamp,
            event.c.source,
            event.c.message_id,
            event.c.payload,
        )
        .where(event.c.person_id.is_not(None), event.c.source.not_in(NOT_ACTIVITY))
        .order_by(event.c.person_id)
        .execution_options(stream_results=True, yield_per=5000)
    )
    yield from bind.execute(query)


def _backfill_touches() -> None:
    """Every person's first and last touch from their history (the default grouping: no
    workspace has its own yet)."""
    from leadpond.profiles.touches import DEFAULT_GROUPING, first_of, last_of, touch_of

    bind = op.get_bind()
    person = sa.table(
        "person",
        sa.column("id", sa.BigInteger()),
        sa.column("first_channel", sa.String()),
        sa.column("first_touch", JSON_DOC),
        sa.column("last_touch", JSON_DOC),
    )
    update = (
        sa.update(person)
        .where(person.c.id == sa.bindparam("pid"))
        .values(
            first_channel=sa.bindparam("group"),
            first_touch=sa.bindparam("first"),
            last_touch=sa.bindparam("last"),
        )
    )
    pending: list[dict[str, Any]] = []
    current: int | None = None
    first: dict[str, Any] | None = None
    last: dict[str, Any] | None = None
    for pid, kind, at, source, message_id, payload in chain(_events(bind), [(None,) * 6]):
        if pid != current and current is not None:
            group = first["group"] if first else None
            pending.append({"pid": current, "group": group, "first": first, "last": last})
            first = last = None
        current = pid
        if pid is None:
            break
        stamp = at.isoformat(timespec="milliseconds") + "Z"
        touch = touch_of(kind, payload or {}, source, stamp, message_id, DEFAULT_GROUPING)
        first, last = first_of(first, touch), last_of(last, touch)
        if len(pending) >= BATCH:
            bind.execute(update, pending)
            pending = []
    if pending:
        bind.execute(update, pending)


def downgrade() -> None:
    for table in ("wechat_qr_code", "wecom_contact_way"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{table}_workspace_id"))
        op.drop_table(table)
    op.drop_table("channel_grouping")
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_column("last_touch")
        batch_op.drop_column("first_touch")
