"""Idle stage rules: the sweep's watermark per playbook version.

Revision ID: 20261123_0820
Revises: 20261123_0615
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261123_0820"
down_revision: str | Sequence[str] | None = "20261123_0615"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("playbook_version") as batch_op:
        batch_op.add_column(sa.Column("idle_swept_until", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("playbook_version") as batch_op:
        batch_op.drop_column("idle_swept_until")
