"""Rollups: per-day counts the pipeline maintains in the transaction that changes them."""

import uuid
from datetime import date

from sqlalchemy import BigInteger, ForeignKey, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from leadpond.db.base import Base


class EventDay(Base):
    """How many received events of a day (their own ``timestamp``, UTC) have been processed.

    The pipeline adds a batch's events in the batch's transaction, and an event is processed
    exactly once and never deleted, so the sums are exact: the dashboard's events in a range
    and the pipeline status read them instead of counting the event log.
    """

    __tablename__ = "event_day"

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("workspace.id"), primary_key=True
    )
    day: Mapped[date] = mapped_column(primary_key=True)
    events: Mapped[int] = mapped_column(BigInteger)
