"""A tracking link: a short code that redirects to one destination (its UTM parameters added)
and says which channel, campaign and content a click came through."""

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from leadpond.db.base import Base, BigId, JsonDoc
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
    # Kept as clicks are recorded, in the click's transaction: clicks and scans by people
    # (bots apart), and the distinct browsers (anonymous ids) they came from.
    clicks: Mapped[int] = mapped_column(default=0, server_default="0")
    scans: Mapped[int] = mapped_column(default=0, server_default="0")
    bot_hits: Mapped[int] = mapped_column(default=0, server_default="0")
    visitors: Mapped[int] = mapped_column(default=0, server_default="0")


class TrackingLinkVisitor(Base):
    """A browser (its anonymous id) that followed a link: counted once in ``visitors``."""

    __tablename__ = "tracking_link_visitor"

    link_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("tracking_link.id", ondelete="CASCADE"), primary_key=True
    )
    anonymous_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    first_at: Mapped[datetime] = mapped_column(default=utcnow)


class WeChatQrCode(Base):
    """A parameterised QR code of the official account: its scene names a channel and campaign.

    Scanning it sends the callback ``SCAN`` (a follower) or ``subscribe`` with ``qrscene_<scene>``
    (a new follower); the counts are kept as those events are recorded."""

    __tablename__ = "wechat_qr_code"
    __table_args__ = (UniqueConstraint("workspace_id", "scene"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("workspace.id"), index=True)
    scene: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(64))
    campaign: Mapped[str | None] = mapped_column(String(128), default=None)
    permanent: Mapped[bool] = mapped_column(default=False)
    ticket: Mapped[str] = mapped_column(String(512))
    # What the QR code encodes (WeChat's ``url``).
    url: Mapped[str] = mapped_column(String(512))
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    scans: Mapped[int] = mapped_column(default=0)
    follows: Mapped[int] = mapped_column(default=0)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WeComContactWay(Base):
    """A WeCom "contact me" QR code (渠道活码): its ``state`` comes back when a customer adds a
    member through it, which credits the channel."""

    __tablename__ = "wecom_contact_way"
    __table_args__ = (UniqueConstraint("workspace_id", "state"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("workspace.id"), index=True)
    state: Mapped[str] = mapped_column(String(30))
    channel: Mapped[str] = mapped_column(String(64))
    campaign: Mapped[str | None] = mapped_column(String(128), default=None)
    user_ids: Mapped[list[str]] = mapped_column(JsonDoc, default=list)
    config_id: Mapped[str] = mapped_column(String(128))
    qr_code: Mapped[str] = mapped_column(String(1024))
    adds: Mapped[int] = mapped_column(default=0)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class QrLogo(Base):
    """The workspace's logo for the centre of its links' QR codes (a PNG, already checked and
    shrunk when it was uploaded)."""

    __tablename__ = "qr_logo"

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("workspace.id"), primary_key=True
    )
    png: Mapped[bytes] = mapped_column(LargeBinary)
    updated_by: Mapped[str] = mapped_column(String(128))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
