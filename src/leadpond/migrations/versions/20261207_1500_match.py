"""Probabilistic duplicates: suggestion evidence and method, the review-queue index, duplicate
scan state; account merges (reversible) and account suggestions.

Revision ID: 20261207_1500_match
Revises: 20261207_1100_events
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "20261207_1500_match"
down_revision: str | Sequence[str] | None = "20261207_1100_events"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("merge_suggestion", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("method", sa.String(length=16), nullable=False, server_default="exact")
        )
        batch_op.add_column(sa.Column("evidence", JSON_DOC, nullable=False, server_default="[]"))
        batch_op.create_index(
            "ix_merge_suggestion_queue", ["workspace_id", "status", "score", "id"], unique=False
        )
    with op.batch_alter_table("merge_suggestion", schema=None) as batch_op:
        batch_op.alter_column("method", server_default=None)
        batch_op.alter_column("evidence", server_default=None)
    # Pending suggestions naming a merged-away person are stale (the list no longer joins).
    op.execute(
        "UPDATE merge_suggestion SET status = 'stale' WHERE status = 'pending' AND ("
        "person_a_id IN (SELECT id FROM person WHERE merged_into_id IS NOT NULL) OR "
        "person_b_id IN (SELECT id FROM person WHERE merged_into_id IS NOT NULL))"
    )
    op.create_table(
        "duplicate_scan",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("scanned_through", sa.DateTime(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_duplicate_scan_workspace_id_workspace"),
        ),
        sa.PrimaryKeyConstraint("workspace_id", name=op.f("pk_duplicate_scan")),
    )
    op.create_table(
        "account_merge",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("survivor_id", BIG_ID, nullable=False),
        sa.Column("merged_id", BIG_ID, nullable=False),
        sa.Column("snapshot", JSON_DOC, nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("undone_at", sa.DateTime(), nullable=True),
        sa.Column("undone_by", sa.String(length=128), nullable=True),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspace.id"], name=op.f("fk_account_merge_workspace_id_workspace")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_merge")),
    )
    with op.batch_alter_table("account_merge", schema=None) as batch_op:
        batch_op.create_index(
            "ix_account_merge_survivor", ["workspace_id", "survivor_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_account_merge_merged_id"), ["merged_id"], unique=False)
    op.create_table(
        "account_suggestion",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("account_a_id", BIG_ID, nullable=False),
        sa.Column("account_b_id", BIG_ID, nullable=False),
        sa.Column("score", sa.Double(), nullable=False),
        sa.Column("evidence", JSON_DOC, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("decided_by", sa.String(length=128), nullable=True),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_account_suggestion_workspace_id_workspace"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_suggestion")),
        sa.UniqueConstraint(
            "workspace_id",
            "account_a_id",
            "account_b_id",
            name=op.f("uq_account_suggestion_workspace_id_account_a_id_account_b_id"),
        ),
    )
    with op.batch_alter_table("account_suggestion", schema=None) as batch_op:
        batch_op.create_index(
            "ix_account_suggestion_queue", ["workspace_id", "status", "score", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("account_suggestion", schema=None) as batch_op:
        batch_op.drop_index("ix_account_suggestion_queue")
    op.drop_table("account_suggestion")
    with op.batch_alter_table("account_merge", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_account_merge_merged_id"))
        batch_op.drop_index("ix_account_merge_survivor")
    op.drop_table("account_merge")
    op.drop_table("duplicate_scan")
    with op.batch_alter_table("merge_suggestion", schema=None) as batch_op:
        batch_op.drop_index("ix_merge_suggestion_queue")
        batch_op.drop_column("evidence")
        batch_op.drop_column("method")
