"""Rollups and indexes for counts at a million people: processed events per day
(``event_day``), derived events (partial index), stage moves and new people by date.

Revision ID: 20261203_0950
Revises: 20261123_0820
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261203_0950"
down_revision: str | Sequence[str] | None = "20261123_0820"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "event_day",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("events", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspace.id"], name=op.f("fk_event_day_workspace_id_workspace")
        ),
        sa.PrimaryKeyConstraint("workspace_id", "day", name=op.f("pk_event_day")),
    )
    # What the pipeline processed before this revision, counted once here.
    day = (
        "CAST(timestamp AS DATE)"
        if op.get_bind().dialect.name == "postgresql"
        else "date(timestamp)"
    )
    op.execute(
        f"INSERT INTO event_day (workspace_id, day, events) "
        f"SELECT workspace_id, {day}, count(*) FROM event "
        f"WHERE processed_at IS NOT NULL AND source != 'derived' "
        f"GROUP BY workspace_id, {day}"
    )
    op.create_index(
        "ix_event_derived",
        "event",
        ["workspace_id"],
        unique=False,
        sqlite_where=sa.text("source = 'derived'"),
        postgresql_where=sa.text("source = 'derived'"),
    )
    op.create_index(
        "ix_stage_change_workspace_at", "stage_change", ["workspace_id", "at"], unique=False
    )
    op.create_index(
        "ix_person_first_seen", "person", ["workspace_id", "first_seen_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_person_first_seen", table_name="person")
    op.drop_index("ix_stage_change_workspace_at", table_name="stage_change")
    op.drop_index(
        "ix_event_derived",
        table_name="event",
        sqlite_where=sa.text("source = 'derived'"),
        postgresql_where=sa.text("source = 'derived'"),
    )
    op.drop_table("event_day")
