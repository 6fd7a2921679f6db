"""Indexes the dashboard reads alone at a million people: a range's stage moves (funnel), who
entered their stage in a range ("here now"), a score model's points (histogram).

The first and last replace the narrower indexes they extend.

Revision ID: 20261207_2100_dashboard_indexes
Revises: 20261207_1700_qr_logo
"""

from collections.abc import Sequence

from alembic import op

revision: str = "20261207_2100_dashboard_indexes"
down_revision: str | Sequence[str] | None = "20261207_1700_qr_logo"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_stage_change_workspace_at_moves",
        "stage_change",
        ["workspace_id", "at", "to_stage", "person_id"],
        unique=False,
    )
    op.drop_index("ix_stage_change_workspace_at", table_name="stage_change")
    op.create_index(
        "ix_person_stage_workspace_entered",
        "person_stage",
        ["workspace_id", "entered_at", "stage"],
        unique=False,
    )
    op.create_index(
        "ix_person_score_workspace_model_points",
        "person_score",
        ["workspace_id", "model", "points"],
        unique=False,
    )
    op.drop_index("ix_person_score_workspace_model", table_name="person_score")


def downgrade() -> None:
    op.create_index(
        "ix_person_score_workspace_model", "person_score", ["workspace_id", "model"], unique=False
    )
    op.drop_index("ix_person_score_workspace_model_points", table_name="person_score")
    op.drop_index("ix_person_stage_workspace_entered", table_name="person_stage")
    op.create_index(
        "ix_stage_change_workspace_at", "stage_change", ["workspace_id", "at"], unique=False
    )
    op.drop_index("ix_stage_change_workspace_at_moves", table_name="stage_change")
