"""Events' on-site surveys (``marketing_event.surveys``); the post rate limit's window counts
posts per target (``form:<id>`` or ``event:<id>``), so an event's own registration fields are
limited like forms.

Revision ID: 20261207_1600_event_surveys
Revises: 20261207_1500_match
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "20261207_1600_event_surveys"
down_revision: str | Sequence[str] | None = "20261207_1500_match"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("marketing_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("surveys", JSON_DOC, nullable=False, server_default="[]"))
    with op.batch_alter_table("marketing_event", schema=None) as batch_op:
        batch_op.alter_column("surveys", server_default=None)
    # The window holds the last five minutes of counts only: it is made again, empty.
    op.drop_table("form_post_window")
    op.create_table(
        "form_post_window",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("target", sa.String(length=64), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("minute", sa.DateTime(), nullable=False),
        sa.Column("posts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_form_post_window")),
        sa.UniqueConstraint(
            "target", "client", "minute", name=op.f("uq_form_post_window_target_client_minute")
        ),
    )


def downgrade() -> None:
    op.drop_table("form_post_window")
    op.create_table(
        "form_post_window",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("form_id", BIG_ID, nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("minute", sa.DateTime(), nullable=False),
        sa.Column("posts", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["form_id"], ["form.id"], name=op.f("fk_form_post_window_form_id_form")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_form_post_window")),
        sa.UniqueConstraint(
            "form_id", "client", "minute", name=op.f("uq_form_post_window_form_id_client_minute")
        ),
    )
    with op.batch_alter_table("marketing_event", schema=None) as batch_op:
        batch_op.drop_column("surveys")
