"""``stage_funnel_rollups``: the dashboard's stage funnel and "here now" as per-day rollups.

``stage_reach_day`` and ``stage_entry_day`` are counted here from the rows, per workspace,
with the line of its newest playbook (``stage_funnel``); the rules keep them from then on.

Revision ID: 20261208_0200_stage_funnel
Revises: 20261207_2100_console_at_scale
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

revision: str = "20261208_0200_stage_funnel"
down_revision: str | Sequence[str] | None = "20261207_2100_console_at_scale"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _workspace_key() -> list[sa.Column[object]]:
    return [sa.Column("workspace_id", sa.Uuid(), nullable=False)]


def upgrade() -> None:
    op.create_table(
        "stage_funnel",
        *_workspace_key(),
        sa.Column(
            "line",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=False,
        ),
        sa.Column("counted_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspace.id"], name=op.f("fk_stage_funnel_workspace_id_workspace")
        ),
        sa.PrimaryKeyConstraint("workspace_id", name=op.f("pk_stage_funnel")),
    )
    op.create_table(
        "stage_reach_day",
        *_workspace_key(),
        sa.Column("stage", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("previous_day", sa.Date(), nullable=False),
        sa.Column("people", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_stage_reach_day_workspace_id_workspace"),
        ),
        sa.PrimaryKeyConstraint(
            "workspace_id", "stage", "day", "previous_day", name=op.f("pk_stage_reach_day")
        ),
    )
    op.create_table(
        "stage_entry_day",
        *_workspace_key(),
        sa.Column("stage", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("people", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_stage_entry_day_workspace_id_workspace"),
        ),
        sa.PrimaryKeyConstraint("workspace_id", "stage", "day", name=op.f("pk_stage_entry_day")),
    )
    # What the rules moved before this revision, counted once here by the product's own code.
    from leadpond.rules.stage_days import rebuild

    workspace = sa.table("workspace", sa.column("id", sa.Uuid()))
    bind = op.get_bind()
    # The session joins the migration's transaction (it neither commits nor rolls it back).
    with Session(bind=bind) as session:
        for workspace_id in list(session.scalars(sa.select(workspace.c.id))):
            rebuild(session, workspace_id)


def downgrade() -> None:
    op.drop_table("stage_entry_day")
    op.drop_table("stage_reach_day")
    op.drop_table("stage_funnel")
