"""``message_template.name``: a template's display name, one text or {zh, en} (NULL: the key).

Revision ID: 20261210_0100_template_name
Revises: 20261210_0000_content_tally
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "20261210_0100_template_name"
down_revision: str | Sequence[str] | None = "20261210_0000_content_tally"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain nullable ADD COLUMN: the existing templates keep showing their key.
    with op.batch_alter_table("message_template") as batch_op:
        batch_op.add_column(
            sa.Column(
                "name",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=True,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("message_template") as batch_op:
        batch_op.drop_column("name")
