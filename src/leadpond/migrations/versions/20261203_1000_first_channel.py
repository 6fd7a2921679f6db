"""The channel a person came through (``person.first_channel``), for new people per channel.

Filled here from each person's first received event (its UTM source, else its source).

Revision ID: 20261203_1000
Revises: 20261203_0950
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261203_1000"
down_revision: str | Sequence[str] | None = "20261203_0950"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SQLITE_CHANNEL = """
    CASE WHEN json_type(e.payload, '$.context.campaign.source') = 'text'
          AND trim(json_extract(e.payload, '$.context.campaign.source')) != ''
         THEN substr(trim(json_extract(e.payload, '$.context.campaign.source')), 1, 64)
         ELSE e.source END
"""
_POSTGRES_CHANNEL = """
    CASE WHEN jsonb_typeof(e.payload -> 'context' -> 'campaign' -> 'source') = 'string'
          AND trim(e.payload -> 'context' -> 'campaign' ->> 'source') != ''
         THEN substr(trim(e.payload -> 'context' -> 'campaign' ->> 'source'), 1, 64)
         ELSE e.source END
"""


def upgrade() -> None:
    with op.batch_alter_table("person") as batch_op:
        batch_op.add_column(sa.Column("first_channel", sa.String(length=64), nullable=True))
    postgres = op.get_bind().dialect.name == "postgresql"
    channel = _POSTGRES_CHANNEL if postgres else _SQLITE_CHANNEL
    op.execute(
        f"""
        UPDATE person SET first_channel = (
            SELECT {channel} FROM event e
            WHERE e.person_id = person.id AND e.source != 'derived'
            ORDER BY e.timestamp, e.id LIMIT 1
        )
        WHERE first_seen_at IS NOT NULL AND merged_into_id IS NULL
        """
    )


def downgrade() -> None:
    with op.batch_alter_table("person") as batch_op:
        batch_op.drop_column("first_channel")
