"""``console_at_scale``: persona memberships kept as rows, and the known contacts' indexes.

The persona memberships are empty after the upgrade; the directory evaluates personas on read
until they are built (``leadpond segment personas``, a playbook apply, a history replay or the
worker's segment refresh), after which the live path keeps them.

Revision ID: 20261207_2100_console_at_scale
Revises: 20261207_2000_link_counts
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261207_2100_console_at_scale"
down_revision: str | Sequence[str] | None = "20261207_2000_link_counts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _known_live() -> sa.TextClause:
    """The live known contacts, as the model's partial index writes it on this database."""
    if op.get_bind().dialect.name == "postgresql":
        trait = "traits ->> '{}'"
    else:
        trait = "json_extract(traits, '$.{}')"
    known = " OR ".join(f"{trait.format(name)} IS NOT NULL" for name in ("name", "email", "phone"))
    return sa.text(f"merged_into_id IS NULL AND ({known})")


def upgrade() -> None:
    op.create_index(
        "ix_person_known",
        "person",
        ["workspace_id", "merged_into_id"],
        sqlite_where=_known_live(),
        postgresql_where=_known_live(),
    )
    op.create_index(
        "ix_person_known_last_seen",
        "person",
        ["workspace_id", "merged_into_id", "last_seen_at"],
        sqlite_where=_known_live(),
        postgresql_where=_known_live(),
    )
    op.create_table(
        "persona_member",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("persona", sa.String(length=64), nullable=False),
        sa.Column(
            "person_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("since", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_persona_member_person_id_person")
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_persona_member_workspace_id_workspace"),
        ),
        sa.PrimaryKeyConstraint(
            "workspace_id", "persona", "person_id", name=op.f("pk_persona_member")
        ),
    )
    op.create_index("ix_persona_member_person", "persona_member", ["person_id"])
    op.create_table(
        "persona_build",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column(
            "playbook_version_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column("built_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspace.id"], name=op.f("fk_persona_build_workspace_id_workspace")
        ),
        sa.PrimaryKeyConstraint("workspace_id", name=op.f("pk_persona_build")),
    )


def downgrade() -> None:
    op.drop_index("ix_person_known_last_seen", table_name="person")
    op.drop_index("ix_person_known", table_name="person")
    op.drop_table("persona_build")
    op.drop_index("ix_persona_member_person", table_name="persona_member")
    op.drop_table("persona_member")
