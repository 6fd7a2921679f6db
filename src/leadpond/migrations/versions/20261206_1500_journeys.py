"""Journeys: enrollments (one active per journey and person) and their step log.

Revision ID: 20261206_1500
Revises: 20261206_1410
Create Date: 2026-12-06 15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "20261206_1500"
down_revision: str | Sequence[str] | None = "20261206_1410"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
ACTIVE_ONLY = "state = 'active'"


def upgrade() -> None:
    op.create_table(
        "journey_enrollment",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("journey_key", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("person_id", BIG_ID, nullable=False),
        sa.Column("step", sa.String(length=64), nullable=True),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("variant", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("trigger_event_id", BIG_ID, nullable=True),
        sa.Column("entered_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_journey_enrollment_person_id_person")
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_journey_enrollment_workspace_id_workspace"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journey_enrollment")),
    )
    with op.batch_alter_table("journey_enrollment", schema=None) as batch_op:
        batch_op.create_index(
            "ux_journey_enrollment_active",
            ["workspace_id", "journey_key", "person_id"],
            unique=True,
            sqlite_where=sa.text(ACTIVE_ONLY),
            postgresql_where=sa.text(ACTIVE_ONLY),
        )
        batch_op.create_index(
            "ix_journey_enrollment_due",
            ["due_at"],
            unique=False,
            sqlite_where=sa.text(ACTIVE_ONLY),
            postgresql_where=sa.text(ACTIVE_ONLY),
        )
        batch_op.create_index(
            "ix_journey_enrollment_person",
            ["workspace_id", "person_id", "journey_key"],
            unique=False,
        )
    op.create_table(
        "journey_step_log",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("enrollment_id", BIG_ID, nullable=False),
        sa.Column("step", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column(
            "detail",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("message_id", BIG_ID, nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["enrollment_id"],
            ["journey_enrollment.id"],
            name=op.f("fk_journey_step_log_enrollment_id_journey_enrollment"),
        ),
        sa.ForeignKeyConstraint(
            ["message_id"], ["message.id"], name=op.f("fk_journey_step_log_message_id_message")
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_journey_step_log_workspace_id_workspace"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journey_step_log")),
    )
    with op.batch_alter_table("journey_step_log", schema=None) as batch_op:
        batch_op.create_index(
            "ix_journey_step_log_enrollment", ["enrollment_id", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("journey_step_log", schema=None) as batch_op:
        batch_op.drop_index("ix_journey_step_log_enrollment")
    op.drop_table("journey_step_log")
    with op.batch_alter_table("journey_enrollment", schema=None) as batch_op:
        batch_op.drop_index("ix_journey_enrollment_person")
        batch_op.drop_index("ix_journey_enrollment_due")
        batch_op.drop_index("ux_journey_enrollment_active")
    op.drop_table("journey_enrollment")
