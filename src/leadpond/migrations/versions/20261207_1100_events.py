"""``marketing_event``, ``event_registration``, ``event_checkin``: events with their
registrations and check-ins (engage).

Revision ID: 20261207_1100_events
Revises: 20261207_1300_acq
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "20261207_1100_events"
down_revision: str | Sequence[str] | None = "20261207_1300_acq"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "marketing_event",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("name_zh", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("starts_at", sa.DateTime(), nullable=False),
        sa.Column("ends_at", sa.DateTime(), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("city", sa.String(length=100), nullable=False),
        sa.Column("venue", sa.String(length=300), nullable=False),
        sa.Column("topic", sa.String(length=100), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("approval_required", sa.Boolean(), nullable=False),
        sa.Column("live_url", sa.String(length=1024), nullable=True),
        sa.Column(
            "sessions",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "booths",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "site",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("registration_form", sa.String(length=64), nullable=True),
        sa.Column(
            "messages",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("reminder_hours", sa.Integer(), nullable=False),
        sa.Column("no_shows_marked_at", sa.DateTime(), nullable=True),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_marketing_event_workspace_id_workspace"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_marketing_event")),
        sa.UniqueConstraint("key", name=op.f("uq_marketing_event_key")),
    )
    with op.batch_alter_table("marketing_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_marketing_event_workspace_id"), ["workspace_id"], unique=False
        )

    op.create_table(
        "event_registration",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("attendee_key", sa.String(length=330), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("company", sa.String(length=300), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attendance", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("anonymous_id", sa.String(length=64), nullable=False),
        sa.Column("checked_in_at", sa.DateTime(), nullable=True),
        sa.Column("watch_minutes", sa.Integer(), nullable=True),
        sa.Column(
            "answers",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["marketing_event.id"],
            name=op.f("fk_event_registration_event_id_marketing_event"),
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_event_registration_workspace_id_workspace"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_registration")),
        sa.UniqueConstraint(
            "event_id", "attendee_key", name=op.f("uq_event_registration_event_id_attendee_key")
        ),
    )
    with op.batch_alter_table("event_registration", schema=None) as batch_op:
        batch_op.create_index(
            "ix_event_registration_event_status", ["event_id", "status"], unique=False
        )

    op.create_table(
        "event_checkin",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "registration_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("point", sa.String(length=80), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["marketing_event.id"],
            name=op.f("fk_event_checkin_event_id_marketing_event"),
        ),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["event_registration.id"],
            name=op.f("fk_event_checkin_registration_id_event_registration"),
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspace.id"], name=op.f("fk_event_checkin_workspace_id_workspace")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_checkin")),
        sa.UniqueConstraint(
            "registration_id", "point", name=op.f("uq_event_checkin_registration_id_point")
        ),
    )
    with op.batch_alter_table("event_checkin", schema=None) as batch_op:
        batch_op.create_index("ix_event_checkin_event_point", ["event_id", "point"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("event_checkin", schema=None) as batch_op:
        batch_op.drop_index("ix_event_checkin_event_point")

    op.drop_table("event_checkin")
    with op.batch_alter_table("event_registration", schema=None) as batch_op:
        batch_op.drop_index("ix_event_registration_event_status")

    op.drop_table("event_registration")
    with op.batch_alter_table("marketing_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_marketing_event_workspace_id"))

    op.drop_table("marketing_event")
