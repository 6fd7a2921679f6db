"""The job layer (``job``) and the event quarantine (``event.failed_at``, stage and error).

The partial index of the pending now leaves quarantined events out, so the pipeline's claim
never walks them; a second partial index finds the quarantined per workspace.

Revision ID: 20261206_1200
Revises: 20261206_1100
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "20261206_1200"
down_revision: str | Sequence[str] | None = "20261206_1100"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PENDING = "processed_at IS NULL AND failed_at IS NULL"
_QUARANTINED = "failed_at IS NOT NULL"


def upgrade() -> None:
    json_doc = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
    big_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    op.create_table(
        "job",
        sa.Column("id", big_id, autoincrement=True, nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("payload", json_doc, nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("run_at", sa.DateTime(), nullable=False),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.Column("locked_by", sa.String(length=64), nullable=True),
        sa.Column("progress_done", sa.BigInteger(), nullable=True),
        sa.Column("progress_total", sa.BigInteger(), nullable=True),
        sa.Column("progress_message", sa.String(length=255), nullable=True),
        sa.Column("result", json_doc, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspace.id"], name=op.f("fk_job_workspace_id_workspace")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job")),
        sa.UniqueConstraint(
            "workspace_id", "kind", "key", name=op.f("uq_job_workspace_id_kind_key")
        ),
    )
    op.create_index("ix_job_state_run_at", "job", ["state", "run_at"], unique=False)
    op.create_index("ix_job_workspace_id_id", "job", ["workspace_id", "id"], unique=False)

    # Plain ADD COLUMNs (no table copy on SQLite: the log may hold millions of rows).
    with op.batch_alter_table("event") as batch_op:
        batch_op.add_column(sa.Column("failed_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("failed_stage", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("failed_error", sa.Text(), nullable=True))
    op.drop_index("ix_event_pending", table_name="event")
    op.create_index(
        "ix_event_pending",
        "event",
        ["id"],
        unique=False,
        sqlite_where=sa.text(_PENDING),
        postgresql_where=sa.text(_PENDING),
    )
    op.create_index(
        "ix_event_quarantined",
        "event",
        ["workspace_id"],
        unique=False,
        sqlite_where=sa.text(_QUARANTINED),
        postgresql_where=sa.text(_QUARANTINED),
    )


def downgrade() -> None:
    op.drop_index("ix_event_quarantined", table_name="event")
    op.drop_index("ix_event_pending", table_name="event")
    # Quarantined events wait for the pipeline again under the old schema.
    op.create_index(
        "ix_event_pending",
        "event",
        ["id"],
        unique=False,
        sqlite_where=sa.text("processed_at IS NULL"),
        postgresql_where=sa.text("processed_at IS NULL"),
    )
    with op.batch_alter_table("event") as batch_op:
        batch_op.drop_column("failed_error")
        batch_op.drop_column("failed_stage")
        batch_op.drop_column("failed_at")
    op.drop_index("ix_job_workspace_id_id", table_name="job")
    op.drop_index("ix_job_state_run_at", table_name="job")
    op.drop_table("job")
