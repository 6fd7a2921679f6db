"""``person_stage``: each person's current stage key on the person row, and the
directory's index of a stage by last activity (``ix_person_stage_last_seen``).

The column is filled from ``person_stage`` in one statement, before the index is built.

Revision ID: 20261209_0100_person_stage
Revises: 20261208_0300_dashboard_tallies
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261209_0100_person_stage"
down_revision: str | Sequence[str] | None = "20261208_0300_dashboard_tallies"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("person", sa.Column("stage", sa.String(length=64), nullable=True))
    # UPDATE … FROM (SQLite 3.33+, PostgreSQL): one join, not a subquery per person. Only
    # ``stage`` is set, so the dashboard's trigger on person (other columns) stays quiet.
    op.execute(
        "UPDATE person SET stage = person_stage.stage FROM person_stage "
        "WHERE person_stage.person_id = person.id"
    )
    op.create_index(
        "ix_person_stage_last_seen",
        "person",
        ["workspace_id", "stage", "last_seen_at", "id"],
    )


def downgrade() -> None:
    op.drop_index("ix_person_stage_last_seen", table_name="person")
    op.drop_column("person", "stage")
