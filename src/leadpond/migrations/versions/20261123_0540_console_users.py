"""console users, memberships, sessions; people directory indexes

Revision ID: 20261123_0540
Revises: 20261123_0518
Create Date: 2026-11-23 05:40:49.986877
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261123_0540"
down_revision: str | Sequence[str] | None = "20261123_0518"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "console_user",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_login_at", sa.DateTime(), nullable=True),
        sa.Column("disabled_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_user")),
        sa.UniqueConstraint("email", name=op.f("uq_console_user_email")),
    )
    op.create_table(
        "console_session",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["console_user.id"], name=op.f("fk_console_session_user_id_console_user")
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_console_session_workspace_id_workspace"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_session")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_console_session_token_hash")),
    )
    with op.batch_alter_table("console_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_console_session_user_id"), ["user_id"], unique=False)

    op.create_table(
        "membership",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["console_user.id"], name=op.f("fk_membership_user_id_console_user")
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspace.id"], name=op.f("fk_membership_workspace_id_workspace")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_membership")),
        sa.UniqueConstraint(
            "user_id", "workspace_id", name=op.f("uq_membership_user_id_workspace_id")
        ),
    )
    with op.batch_alter_table("membership", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_membership_workspace_id"), ["workspace_id"], unique=False
        )

    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.create_index(
            "ix_person_event_count", ["workspace_id", "event_count"], unique=False
        )
        batch_op.create_index("ix_person_last_seen", ["workspace_id", "last_seen_at"], unique=False)
    # Name search and sort: the expression must be the one leadpond.profiles.models.name_key()
    # compiles to, so the planner matches queries to the index.
    op.create_index("ix_person_name_key", "person", ["workspace_id", sa.text(_name_key())])


def _name_key() -> str:
    if op.get_bind().dialect.name == "postgresql":
        return "lower(traits ->> 'name')"
    return "lower(json_extract(traits, '$.name'))"


def downgrade() -> None:
    op.drop_index("ix_person_name_key", table_name="person")
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_index("ix_person_last_seen")
        batch_op.drop_index("ix_person_event_count")

    with op.batch_alter_table("membership", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_membership_workspace_id"))

    op.drop_table("membership")
    with op.batch_alter_table("console_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_console_session_user_id"))

    op.drop_table("console_session")
    op.drop_table("console_user")
