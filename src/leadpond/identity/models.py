"""The identity graph: every identifier value points at the person who holds it."""

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from leadpond.db.base import Base, BigId


class Identifier(Base):
    __tablename__ = "identifier"
    __table_args__ = (UniqueConstraint("workspace_id", "type", "value"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("workspace.id"))
    type: Mapped[str] = mapped_column(String(64))
    value: Mapped[str] = mapped_column(String(512))
    person_id: Mapped[int] = mapped_column(BigId, ForeignKey("person.id"), index=True)
    first_seen_at: Mapped[datetime]
    source_event_id: Mapped[int | None] = mapped_column(BigId, default=None)
