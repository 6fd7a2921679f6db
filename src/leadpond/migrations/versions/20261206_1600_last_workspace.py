"""``console_user.last_workspace_id``: a login lands in the workspace the user last worked in,
not the first by name.

Revision ID: 20261206_1600
Revises: 20261206_1500
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261206_1600"
down_revision: str | Sequence[str] | None = "20261206_1500"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("console_user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_workspace_id", sa.Uuid(), nullable=True))
    # Users keep landing where their newest session was (that session's current workspace).
    op.execute(
        """
        UPDATE console_user SET last_workspace_id = (
            SELECT s.workspace_id FROM console_session s
            WHERE s.user_id = console_user.id
            ORDER BY s.created_at DESC, s.id DESC LIMIT 1
        )
        """
    )


def downgrade() -> None:
    with op.batch_alter_table("console_user", schema=None) as batch_op:
        batch_op.drop_column("last_workspace_id")
