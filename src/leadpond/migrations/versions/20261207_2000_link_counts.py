"""``tracking_link`` counters (clicks, scans, bot hits, visitors) and ``tracking_link_visitor``,
the browsers counted once; existing links are counted from the event log.

Revision ID: 20261207_2000_link_counts
Revises: 20261207_1700_qr_logo
"""

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "20261207_2000_link_counts"
down_revision: str | Sequence[str] | None = "20261207_1700_qr_logo"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COUNTERS = ("clicks", "scans", "bot_hits", "visitors")


def upgrade() -> None:
    with op.batch_alter_table("tracking_link") as batch:
        for name in COUNTERS:
            batch.add_column(sa.Column(name, sa.Integer(), nullable=False, server_default="0"))
    op.create_table(
        "tracking_link_visitor",
        sa.Column("link_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("anonymous_id", sa.String(length=128), nullable=False),
        sa.Column("first_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["link_id"], ["tracking_link.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("link_id", "anonymous_id"),
    )
    _count_existing()


def _count_existing() -> None:
    """Links made before the counters: their clicks and scans as the event log has them."""
    bind = op.get_bind()
    ids: dict[str, int] = dict(bind.execute(sa.text("SELECT code, id FROM tracking_link")).all())
    if not ids:
        return
    counts: dict[int, dict[str, int]] = {}
    first: dict[tuple[int, str], Any] = {}
    found = bind.execute(
        sa.text(
            "SELECT event, anonymous_id, timestamp, payload FROM event "
            "WHERE source = 'links' AND event IN ('Link Clicked', 'QR Scanned') ORDER BY id"
        )
    )
    for name, anonymous_id, at, payload in found:
        data = json.loads(payload) if isinstance(payload, (str, bytes)) else payload
        properties = (data or {}).get("properties") or {}
        link = ids.get(str(properties.get("link")))
        if link is None:
            continue
        mine = counts.setdefault(link, dict.fromkeys(COUNTERS, 0))
        if properties.get("bot"):
            mine["bot_hits"] += 1
            continue
        mine["scans" if name == "QR Scanned" else "clicks"] += 1
        if anonymous_id and (link, anonymous_id[:128]) not in first:
            first[(link, anonymous_id[:128])] = at
            mine["visitors"] += 1
    for link, mine in counts.items():
        bind.execute(
            sa.text(
                "UPDATE tracking_link SET clicks = :clicks, scans = :scans, "
                "bot_hits = :bot_hits, visitors = :visitors WHERE id = :id"
            ),
            {**mine, "id": link},
        )
    visitor = sa.table(
        "tracking_link_visitor",
        sa.column("link_id"),
        sa.column("anonymous_id"),
        sa.column("first_at"),  # as the log's query gave it (text on SQLite)
    )
    if first:
        op.bulk_insert(
            visitor,
            [{"link_id": k[0], "anonymous_id": k[1], "first_at": v} for k, v in first.items()],
        )


def downgrade() -> None:
    op.drop_table("tracking_link_visitor")
    with op.batch_alter_table("tracking_link") as batch:
        for name in COUNTERS:
            batch.drop_column(name)
