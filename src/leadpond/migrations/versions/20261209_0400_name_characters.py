"""``name_characters``: on PostgreSQL, a GIN index of the characters of names holding a Chinese
character, for the directory's search inside Chinese names (伟 finds 张伟). SQLite keeps
reading its names from ``ix_person_name_key``; nothing changes there.

Revision ID: 20261209_0400_name_characters
Revises: 20261208_0300_dashboard_tallies
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261209_0400_name_characters"
down_revision: str | Sequence[str] | None = "20261209_0100_person_stage"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The model's expressions (``profiles.models.name_characters`` and ``han_name``) as written here
# once: a migration keeps the schema of its day, whatever the models become.
_NAME = "lower(traits ->> 'name')"
_HAN = "[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.create_index(
        "ix_person_name_characters",
        "person",
        [sa.text(f"string_to_array({_NAME}, NULL)")],
        postgresql_using="gin",
        postgresql_where=sa.text(f"{_NAME} ~ '{_HAN}'"),
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index("ix_person_name_characters", table_name="person")
