"""Claiming a batch of queued rows: SKIP LOCKED on PostgreSQL, the single writer lock on SQLite."""

from typing import Any

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.orm import Session

from leadpond.db.engine import is_postgres


def claim_ids(
    session: Session, id_column: Any, pending: ColumnElement[bool], limit: int
) -> list[int]:
    """Lock and return up to ``limit`` pending row ids, oldest first, for this transaction.

    The claim lives exactly as long as the transaction: a crashed worker's connection drops, its
    locks go with it and the rows become claimable again (PostgreSQL), or its uncommitted
    transaction is discarded by the WAL (SQLite, whose IMMEDIATE transaction is the lease).
    """
    stmt: Select[Any] = select(id_column).where(pending).order_by(id_column).limit(limit)
    if is_postgres(session):
        stmt = stmt.with_for_update(skip_locked=True)
    return list(session.scalars(stmt))
