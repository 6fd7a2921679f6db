"""``tracking_link``: short tracking links (and QR codes) per channel and campaign.

Revision ID: 20261206_1900
Revises: 20261206_1800
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261206_1900"
down_revision: str | Sequence[str] | None = "20261206_1800"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "tracking_link",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("target", sa.String(length=2048), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=128), nullable=False),
        sa.Column("medium", sa.String(length=128), nullable=False),
        sa.Column("campaign", sa.String(length=128), nullable=True),
        sa.Column("content", sa.String(length=128), nullable=True),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspace.id"], name=op.f("fk_tracking_link_workspace_id_workspace")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracking_link")),
        sa.UniqueConstraint("code", name=op.f("uq_tracking_link_code")),
    )
    with op.batch_alter_table("tracking_link", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_tracking_link_workspace_id"), ["workspace_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("tracking_link", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tracking_link_workspace_id"))
    op.drop_table("tracking_link")
