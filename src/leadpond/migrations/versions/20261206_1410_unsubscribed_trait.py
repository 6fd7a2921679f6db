"""The ``unsubscribed`` trait convention becomes consent records: a person whose traits say
``unsubscribed`` or ``do_not_contact`` gets an ``unsubscribed`` subscription on email and SMS
(source ``trait:unsubscribed``). The traits stay, and still count (docs/channels.md).

Revision ID: 20261206_1410
Revises: 20261206_1400
"""

import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "20261206_1410"
down_revision: str | Sequence[str] | None = "20261206_1400"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SOURCE = "trait:unsubscribed"
TRAITS = ("unsubscribed", "do_not_contact", "doNotContact")
CHANNELS = ("email", "sms")
_TRUE = {"true", "yes", "1", "y", "是"}


def _truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value == 1
    return isinstance(value, str) and value.strip().lower() in _TRUE


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        having = " OR ".join(f"traits ? '{name}'" for name in TRAITS)
    else:
        having = " OR ".join(f"json_extract(traits, '$.{name}') IS NOT NULL" for name in TRAITS)
    rows = bind.execute(
        sa.text(
            f"SELECT id, workspace_id, traits FROM person "
            f"WHERE merged_into_id IS NULL AND ({having})"
        )
    )
    now = datetime.now(UTC).replace(tzinfo=None)
    subscription = sa.table(
        "subscription",
        sa.column("workspace_id", sa.Uuid()),
        sa.column("person_id", sa.BigInteger()),
        sa.column("channel", sa.String()),
        sa.column("status", sa.String()),
        sa.column("source", sa.String()),
        sa.column("changed_at", sa.DateTime()),
        sa.column("detail", sa.JSON()),
    )
    values = []
    for person_id, workspace_id, traits in rows:
        found = json.loads(traits) if isinstance(traits, str) else traits or {}
        said = sorted(name for name in TRAITS if _truthy(found.get(name)))
        if not said:
            continue
        workspace = uuid.UUID(workspace_id) if isinstance(workspace_id, str) else workspace_id
        for channel in CHANNELS:
            values.append(
                {
                    "workspace_id": workspace,
                    "person_id": person_id,
                    "channel": channel,
                    "status": "unsubscribed",
                    "source": SOURCE,
                    "changed_at": now,
                    "detail": {"traits": said},
                }
            )
    for start in range(0, len(values), 1000):
        op.bulk_insert(subscription, values[start : start + 1000])


def downgrade() -> None:
    op.execute(sa.text(f"DELETE FROM subscription WHERE source = '{SOURCE}'"))
