"""``workspace.time_zone``: the zone every console time is shown and taken in (an IANA name,
Asia/Shanghai for the workspaces there are).

Revision ID: 20261207_0900
Revises: 20261206_1900
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261207_0900"
down_revision: str | Sequence[str] | None = "20261206_1900"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("workspace", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "time_zone", sa.String(length=64), nullable=False, server_default="Asia/Shanghai"
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("workspace", schema=None) as batch_op:
        batch_op.drop_column("time_zone")
