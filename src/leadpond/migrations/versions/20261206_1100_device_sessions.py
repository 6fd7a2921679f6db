"""Device sessions in event time: every moment someone identified on a weak identifier.

Replaces the one-slot ``identifier.session_person_id``/``session_at`` (overwritten in arrival
order) with a row per moment; the slots held are kept as rows. An index on anonymous events
lets a late identify find the events it now explains.

Revision ID: 20261206_1100
Revises: 20261203_1000
"""

import warnings
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261206_1100"
down_revision: str | Sequence[str] | None = "20261203_1000"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "device_session",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=512), nullable=False),
        sa.Column("person_id", _ID, nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("message_id", sa.String(length=255), nullable=False),
        sa.Column("event_id", _ID, nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_device_session_person_id_person")
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_device_session_workspace_id_workspace"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_session")),
    )
    with op.batch_alter_table("device_session", schema=None) as batch_op:
        batch_op.create_index(
            "ix_device_session_key_at", ["workspace_id", "type", "value", "at"], unique=False
        )
    op.execute(
        "INSERT INTO device_session (workspace_id, type, value, person_id, at, message_id) "
        "SELECT workspace_id, type, value, session_person_id, session_at, '' FROM identifier "
        "WHERE session_person_id IS NOT NULL AND session_at IS NOT NULL"
    )
    # SQLite copies the table; reflecting it meets person's expression index, which it keeps.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection", sa.exc.SAWarning)
        with op.batch_alter_table("identifier", schema=None) as batch_op:
            batch_op.drop_column("session_at")
            batch_op.drop_column("session_person_id")
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.create_index(
            "ix_event_anonymous",
            ["workspace_id", "anonymous_id", "timestamp"],
            unique=False,
            sqlite_where=sa.text("user_id IS NULL"),
            postgresql_where=sa.text("user_id IS NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_index("ix_event_anonymous")
    with op.batch_alter_table("identifier", schema=None) as batch_op:
        batch_op.add_column(sa.Column("session_person_id", _ID, nullable=True))
        batch_op.add_column(sa.Column("session_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("device_session", schema=None) as batch_op:
        batch_op.drop_index("ix_device_session_key_at")
    op.drop_table("device_session")
