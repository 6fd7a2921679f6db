"""``form``, ``form_submission`` and ``form_post_window``: lead forms, what was posted to them,
and the per-address post counts that rate-limit them.

Revision ID: 20261207_1000_forms
Revises: 20261207_0900
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "20261207_1000_forms"
down_revision: str | Sequence[str] | None = "20261207_0900"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "form",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("name_zh", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("fields", JSON_DOC, nullable=False),
        sa.Column("consents", JSON_DOC, nullable=False),
        sa.Column("intro_zh", sa.String(length=2000), nullable=False),
        sa.Column("intro_en", sa.String(length=2000), nullable=False),
        sa.Column("submit_zh", sa.String(length=64), nullable=False),
        sa.Column("submit_en", sa.String(length=64), nullable=False),
        sa.Column("success_zh", sa.String(length=2000), nullable=False),
        sa.Column("success_en", sa.String(length=2000), nullable=False),
        sa.Column("redirect_url", sa.String(length=2048), nullable=True),
        sa.Column("progressive_max", sa.Integer(), nullable=True),
        sa.Column("conversion_event", sa.String(length=128), nullable=True),
        sa.Column("min_fill_seconds", sa.Integer(), nullable=False),
        sa.Column("posts_per_minute", sa.Integer(), nullable=False),
        sa.Column("captcha", sa.Boolean(), nullable=False),
        sa.Column("dedupe_hours", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspace.id"], name=op.f("fk_form_workspace_id_workspace")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_form")),
        sa.UniqueConstraint("workspace_id", "key", name=op.f("uq_form_workspace_id_key")),
    )
    op.create_table(
        "form_submission",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("form_id", BIG_ID, nullable=False),
        sa.Column("anonymous_id", sa.String(length=255), nullable=False),
        sa.Column("person_id", BIG_ID, nullable=True),
        sa.Column("values", JSON_DOC, nullable=False),
        sa.Column("traits", JSON_DOC, nullable=False),
        sa.Column("consents", JSON_DOC, nullable=False),
        sa.Column("context", JSON_DOC, nullable=False),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("dedupe_key", sa.String(length=64), nullable=False),
        sa.Column("render_nonce", sa.String(length=64), nullable=False),
        sa.Column("repeats", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["form_id"], ["form.id"], name=op.f("fk_form_submission_form_id_form")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_form_submission_person_id_person")
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_form_submission_workspace_id_workspace"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_form_submission")),
        sa.UniqueConstraint("render_nonce", name=op.f("uq_form_submission_render_nonce")),
    )
    with op.batch_alter_table("form_submission", schema=None) as batch_op:
        batch_op.create_index(
            "ix_form_submission_form_created", ["form_id", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_form_submission_form_dedupe", ["form_id", "dedupe_key"], unique=False
        )
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


def downgrade() -> None:
    op.drop_table("form_post_window")
    with op.batch_alter_table("form_submission", schema=None) as batch_op:
        batch_op.drop_index("ix_form_submission_form_dedupe")
        batch_op.drop_index("ix_form_submission_form_created")
    op.drop_table("form_submission")
    op.drop_table("form")
