"""accounts

Revision ID: 20261123_0600
Revises: 20261123_0530
Create Date: 2026-11-23 06:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "20261123_0600"
down_revision: str | Sequence[str] | None = "20261123_0530"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "account",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("name_key", sa.String(length=300), nullable=True),
        sa.Column("core_key", sa.String(length=300), nullable=True),
        sa.Column("domain", sa.String(length=255), nullable=True),
        sa.Column("uscc", sa.String(length=18), nullable=True),
        sa.Column("industry", sa.String(length=200), nullable=True),
        sa.Column(
            "traits",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspace.id"], name=op.f("fk_account_workspace_id_workspace")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account")),
    )
    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.create_index("ix_account_workspace_id_id", ["workspace_id", "id"], unique=False)

    op.create_table(
        "account_settings",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column(
            "role_keywords",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_account_settings_workspace_id_workspace"),
        ),
        sa.PrimaryKeyConstraint("workspace_id", name=op.f("pk_account_settings")),
    )
    op.create_table(
        "account_key",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=300), nullable=False),
        sa.Column(
            "account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_account_key_account_id_account")
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspace.id"], name=op.f("fk_account_key_workspace_id_workspace")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_key")),
        sa.UniqueConstraint(
            "workspace_id",
            "kind",
            "value",
            "account_id",
            name=op.f("uq_account_key_workspace_id_kind_value_account_id"),
        ),
    )
    with op.batch_alter_table("account_key", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_account_key_account_id"), ["account_id"], unique=False)
        batch_op.create_index(
            "uq_account_key_owner",
            ["workspace_id", "kind", "value"],
            unique=True,
            sqlite_where=sa.text("kind NOT IN ('core_name', 'name_deletion')"),
            postgresql_where=sa.text("kind NOT IN ('core_name', 'name_deletion')"),
        )

    op.create_table(
        "person_account",
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
        sa.Column(
            "account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("role", sa.String(length=32), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=True),
        sa.Column("title_seen_at", sa.DateTime(), nullable=True),
        sa.Column("is_primary", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_person_account_account_id_account")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_person_account_person_id_person")
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_person_account_workspace_id_workspace"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_account")),
        sa.UniqueConstraint(
            "person_id", "account_id", name=op.f("uq_person_account_person_id_account_id")
        ),
    )
    with op.batch_alter_table("person_account", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_person_account_account_id"), ["account_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("person_account", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_person_account_account_id"))

    op.drop_table("person_account")
    with op.batch_alter_table("account_key", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_account_key_owner",
            sqlite_where=sa.text("kind NOT IN ('core_name', 'name_deletion')"),
            postgresql_where=sa.text("kind NOT IN ('core_name', 'name_deletion')"),
        )
        batch_op.drop_index(batch_op.f("ix_account_key_account_id"))

    op.drop_table("account_key")
    op.drop_table("account_settings")
    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.drop_index("ix_account_workspace_id_id")

    op.drop_table("account")
