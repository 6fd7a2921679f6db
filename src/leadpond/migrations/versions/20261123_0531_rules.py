"""rules

Revision ID: 20261123_0531
Revises: 20261123_0518
Create Date: 2026-11-23 05:30:24.717691
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "20261123_0531"
down_revision: str | Sequence[str] | None = "20261123_0518"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "playbook_version",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "document",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("checksum", sa.String(length=64), nullable=False),
        sa.Column("applied_by", sa.String(length=100), nullable=False),
        sa.Column("applied_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_playbook_version_workspace_id_workspace"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_playbook_version")),
        sa.UniqueConstraint(
            "workspace_id", "version", name=op.f("uq_playbook_version_workspace_id_version")
        ),
    )
    op.create_table(
        "person_score",
        sa.Column(
            "person_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("model", sa.String(length=64), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("points", sa.Float(), nullable=False),
        sa.Column("as_of", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_person_score_person_id_person")
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspace.id"], name=op.f("fk_person_score_workspace_id_workspace")
        ),
        sa.PrimaryKeyConstraint("person_id", "model", name=op.f("pk_person_score")),
    )
    with op.batch_alter_table("person_score", schema=None) as batch_op:
        batch_op.create_index(
            "ix_person_score_workspace_model", ["workspace_id", "model"], unique=False
        )

    op.create_table(
        "person_stage",
        sa.Column(
            "person_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("stage", sa.String(length=64), nullable=False),
        sa.Column("entered_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_person_stage_person_id_person")
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspace.id"], name=op.f("fk_person_stage_workspace_id_workspace")
        ),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_person_stage")),
    )
    with op.batch_alter_table("person_stage", schema=None) as batch_op:
        batch_op.create_index(
            "ix_person_stage_workspace_stage", ["workspace_id", "stage"], unique=False
        )

    op.create_table(
        "person_tag",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column(
            "person_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("tag", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("rule_id", sa.String(length=100), nullable=True),
        sa.Column("event_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_person_tag_person_id_person")
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspace.id"], name=op.f("fk_person_tag_workspace_id_workspace")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_tag")),
        sa.UniqueConstraint("person_id", "tag", name=op.f("uq_person_tag_person_id_tag")),
    )
    with op.batch_alter_table("person_tag", schema=None) as batch_op:
        batch_op.create_index("ix_person_tag_workspace_tag", ["workspace_id", "tag"], unique=False)

    op.create_table(
        "score_ledger",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column(
            "person_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("model", sa.String(length=64), nullable=False),
        sa.Column("rule_id", sa.String(length=100), nullable=False),
        sa.Column("event_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("points", sa.Float(), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_score_ledger_person_id_person")
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspace.id"], name=op.f("fk_score_ledger_workspace_id_workspace")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_score_ledger")),
    )
    with op.batch_alter_table("score_ledger", schema=None) as batch_op:
        batch_op.create_index("ix_score_ledger_person", ["person_id", "model", "at"], unique=False)

    op.create_table(
        "stage_change",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column(
            "person_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("from_stage", sa.String(length=64), nullable=True),
        sa.Column("to_stage", sa.String(length=64), nullable=False),
        sa.Column("rule_id", sa.String(length=100), nullable=True),
        sa.Column("event_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_stage_change_person_id_person")
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspace.id"], name=op.f("fk_stage_change_workspace_id_workspace")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stage_change")),
    )
    with op.batch_alter_table("stage_change", schema=None) as batch_op:
        batch_op.create_index("ix_stage_change_person", ["person_id", "at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("stage_change", schema=None) as batch_op:
        batch_op.drop_index("ix_stage_change_person")

    op.drop_table("stage_change")
    with op.batch_alter_table("score_ledger", schema=None) as batch_op:
        batch_op.drop_index("ix_score_ledger_person")

    op.drop_table("score_ledger")
    with op.batch_alter_table("person_tag", schema=None) as batch_op:
        batch_op.drop_index("ix_person_tag_workspace_tag")

    op.drop_table("person_tag")
    with op.batch_alter_table("person_stage", schema=None) as batch_op:
        batch_op.drop_index("ix_person_stage_workspace_stage")

    op.drop_table("person_stage")
    with op.batch_alter_table("person_score", schema=None) as batch_op:
        batch_op.drop_index("ix_person_score_workspace_model")

    op.drop_table("person_score")
    op.drop_table("playbook_version")
