"""``content_item``, ``content_facet``, ``content_taxonomy``: the content pool (issue #19).

Revision ID: 20261207_1200_content
Revises: 20261207_1000_forms
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "20261207_1200_content"
down_revision: str | Sequence[str] | None = "20261207_1000_forms"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "content_item",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("public_code", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("body_format", sa.String(length=16), nullable=False),
        sa.Column("format", sa.String(length=16), nullable=False),
        sa.Column("video_url", sa.String(length=2048), nullable=True),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("author", sa.String(length=128), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("gate_form", sa.String(length=64), nullable=True),
        sa.Column("file_name", sa.String(length=255), nullable=True),
        sa.Column("file_type", sa.String(length=128), nullable=True),
        sa.Column("file_size", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("file_ref", sa.String(length=255), nullable=True),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("published_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspace.id"], name=op.f("fk_content_item_workspace_id_workspace")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_item")),
        sa.UniqueConstraint("public_code", name=op.f("uq_content_item_public_code")),
        sa.UniqueConstraint("workspace_id", "key", name=op.f("uq_content_item_workspace_id_key")),
    )
    with op.batch_alter_table("content_item", schema=None) as batch_op:
        batch_op.create_index(
            "ix_content_item_workspace_type", ["workspace_id", "type"], unique=False
        )

    op.create_table(
        "content_taxonomy",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column(
            "document",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_content_taxonomy_workspace_id_workspace"),
        ),
        sa.PrimaryKeyConstraint("workspace_id", name=op.f("pk_content_taxonomy")),
    )
    op.create_table(
        "content_facet",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("item_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["content_item.id"],
            name=op.f("fk_content_facet_item_id_content_item"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspace.id"], name=op.f("fk_content_facet_workspace_id_workspace")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_facet")),
        sa.UniqueConstraint(
            "item_id", "kind", "value", name=op.f("uq_content_facet_item_id_kind_value")
        ),
    )
    with op.batch_alter_table("content_facet", schema=None) as batch_op:
        batch_op.create_index(
            "ix_content_facet_workspace_kind_value", ["workspace_id", "kind", "value"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("content_facet", schema=None) as batch_op:
        batch_op.drop_index("ix_content_facet_workspace_kind_value")

    op.drop_table("content_facet")
    op.drop_table("content_taxonomy")
    with op.batch_alter_table("content_item", schema=None) as batch_op:
        batch_op.drop_index("ix_content_item_workspace_type")

    op.drop_table("content_item")
