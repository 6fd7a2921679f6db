"""A tracking link: a short code that redirects to one destination (its UTM parameters added)
and says which channel, campaign and content a click came through."""

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from leadpond.db.base import Base, BigId
from leadpond.kit.clock import utcnow


class TrackingLink(Base):
    __tablename__ = "tracking_link"
    __table_args__ = (UniqueConstraint("code"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("workspace.id"), index=True)
    # The short code of /l/<code>: random, unguessable, the only thing the public URL carries.
    code: Mapped[str] = mapped_column(String(16))
    # Where a click goes, with its UTM parameters (never taken from the request).
    target: Mapped[str] = mapped_column(String(2048))
    channel: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(128))
    medium: Mapped[str] = mapped_column(String(128))
    campaign: Mapped[str | None] = mapped_column(String(128), default=None)
    content: Mapped[str | None] = mapped_column(String(128), default=None)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
