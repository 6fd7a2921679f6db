"""segments

Revision ID: 20261123_0545
Revises: 20261123_0531
Create Date: 2026-11-23 05:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "20261123_0545"
down_revision: str | Sequence[str] | None = "20261123_0531"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "segment",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("account_match", sa.String(length=8), nullable=True),
        sa.Column("condition_source", sa.Text(), nullable=True),
        sa.Column("condition", _JSON, nullable=True),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("member_count", sa.Integer(), nullable=False),
        sa.Column("last_built_at", sa.DateTime(), nullable=True),
        sa.Column("last_build_seconds", sa.Float(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspace.id"], name=op.f("fk_segment_workspace_id_workspace")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_segment")),
        sa.UniqueConstraint("workspace_id", "key", name=op.f("uq_segment_workspace_id_key")),
    )
    op.create_table(
        "segment_account_member",
        sa.Column("segment_id", _ID, nullable=False),
        sa.Column("account_id", _ID, nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("since", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["segment_id"],
            ["segment.id"],
            name=op.f("fk_segment_account_member_segment_id_segment"),
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_segment_account_member_workspace_id_workspace"),
        ),
        sa.PrimaryKeyConstraint("segment_id", "account_id", name=op.f("pk_segment_account_member")),
    )
    op.create_index(
        "ix_segment_account_member_workspace",
        "segment_account_member",
        ["workspace_id", "account_id"],
        unique=False,
    )
    op.create_table(
        "segment_change",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("segment_id", _ID, nullable=False),
        sa.Column("person_id", _ID, nullable=True),
        sa.Column("account_id", _ID, nullable=True),
        sa.Column("change", sa.String(length=8), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["segment_id"], ["segment.id"], name=op.f("fk_segment_change_segment_id_segment")
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_segment_change_workspace_id_workspace"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_segment_change")),
    )
    op.create_index("ix_segment_change_person", "segment_change", ["person_id", "at"], unique=False)
    op.create_index(
        "ix_segment_change_segment_at", "segment_change", ["segment_id", "at"], unique=False
    )
    op.create_table(
        "segment_member",
        sa.Column("segment_id", _ID, nullable=False),
        sa.Column("person_id", _ID, nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("since", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_segment_member_person_id_person")
        ),
        sa.ForeignKeyConstraint(
            ["segment_id"], ["segment.id"], name=op.f("fk_segment_member_segment_id_segment")
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_segment_member_workspace_id_workspace"),
        ),
        sa.PrimaryKeyConstraint("segment_id", "person_id", name=op.f("pk_segment_member")),
    )
    op.create_index(
        "ix_segment_member_workspace_person",
        "segment_member",
        ["workspace_id", "person_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_segment_member_workspace_person", table_name="segment_member")
    op.drop_table("segment_member")
    op.drop_index("ix_segment_change_segment_at", table_name="segment_change")
    op.drop_index("ix_segment_change_person", table_name="segment_change")
    op.drop_table("segment_change")
    op.drop_index("ix_segment_account_member_workspace", table_name="segment_account_member")
    op.drop_table("segment_account_member")
    op.drop_table("segment")
