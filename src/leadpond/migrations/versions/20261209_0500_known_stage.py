"""``known_stage``: the live known contacts of a stage by last activity
(``ix_person_known_stage``), the directory's default view of a stage.

Revision ID: 20261209_0500_known_stage
Revises: 20261209_0400_name_characters
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261209_0500_known_stage"
down_revision: str | Sequence[str] | None = "20261209_0400_name_characters"
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
        "ix_person_known_stage",
        "person",
        ["workspace_id", "stage", "last_seen_at", "id"],
        sqlite_where=_known_live(),
        postgresql_where=_known_live(),
    )


def downgrade() -> None:
    op.drop_index("ix_person_known_stage", table_name="person")
