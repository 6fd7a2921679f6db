"""one schema: the identity, accounts, rules, segments and console branches meet

Revision ID: 20261123_0615
Revises: 20261123_0540, 20261123_0545, 20261123_0600
Create Date: 2026-11-23 06:15:34.838980
"""

from collections.abc import Sequence

revision: str = "20261123_0615"
down_revision: str | Sequence[str] | None = ("20261123_0540", "20261123_0545", "20261123_0600")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
