"""The person: one row per human, with their merged traits."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from leadpond.db.base import Base, BigId, JsonDoc
from leadpond.kit.clock import utcnow


class Person(Base):
    """A unified profile. ``merged_into_id`` points a merged-away person at its survivor."""

    __tablename__ = "person"
    __table_args__ = (
        Index("ix_person_workspace_live", "workspace_id", "merged_into_id"),
        Index("ix_person_match_key", "workspace_id", "match_key"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("workspace.id"))
    merged_into_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("person.id"), default=None)
    traits: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    # trait -> ISO timestamp of the event that set the kept value: newest wins, whatever the order.
    trait_times: Mapped[dict[str, str]] = mapped_column(JsonDoc, default=dict)
    first_seen_at: Mapped[datetime | None] = mapped_column(default=None)
    # How the person came: the channel of their first event (its UTM source, else its source).
    first_channel: Mapped[str | None] = mapped_column(String(64), default=None)
    last_seen_at: Mapped[datetime | None] = mapped_column(default=None)
    event_count: Mapped[int] = mapped_column(default=0)
    # Normalised name + company, for duplicate suggestions between people sharing no identifier.
    match_key: Mapped[str | None] = mapped_column(String(255), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
