"""Journeys: ``journey_schedule`` (a cron trigger's last fired occurrence per journey version)
and ``journey_enrollment.waiting_since`` / ``awaited_event_id`` (when a wait_for step began,
and the event that ended it).

Revision ID: 20261206_1800
Revises: 20261206_1700
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261206_1800"
down_revision: str | Sequence[str] | None = "20261206_1700"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "journey_schedule",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("journey_key", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("last_fired", sa.DateTime(), nullable=True),
        sa.Column("fired_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_journey_schedule_workspace_id_workspace"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journey_schedule")),
        sa.UniqueConstraint(
            "workspace_id",
            "journey_key",
            "version",
            name=op.f("uq_journey_schedule_workspace_id_journey_key_version"),
        ),
    )
    with op.batch_alter_table("journey_enrollment") as batch:
        batch.add_column(sa.Column("waiting_since", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("awaited_event_id", BIG_ID, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("journey_enrollment") as batch:
        batch.drop_column("awaited_event_id")
        batch.drop_column("waiting_since")
    op.drop_table("journey_schedule")
