"""Console users, their membership (role) in each workspace, and their server-side sessions."""

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from leadpond.db.base import Base, BigId
from leadpond.kit.clock import utcnow


class ConsoleUser(Base):
    """A person who logs in to the console; the password is stored as an argon2id hash."""

    __tablename__ = "console_user"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    locale: Mapped[str] = mapped_column(String(8), default="zh_CN")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(default=None)
    disabled_at: Mapped[datetime | None] = mapped_column(default=None)
    # Where the next login lands: the workspace the user last logged in to or switched to.
    # Only a preference (no foreign key): it is used only while the user is still a member.
    last_workspace_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)


class Membership(Base):
    """A user's role in one workspace (an agency user holds several)."""

    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("user_id", "workspace_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("console_user.id"))
    workspace_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("workspace.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ConsoleSession(Base):
    """A login: the cookie holds a random token, only its SHA-256 is stored; logout revokes it."""

    __tablename__ = "console_session"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("console_user.id"), index=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("workspace.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)


class LoginThrottle(Base):
    """Login attempts in the current one-minute window, per account and per client address.

    Kept in the database so that every API process behind a load balancer counts together. The
    key is a SHA-256 of ``account:<email>`` or ``ip:<address>`` (no address is stored in clear).
    """

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(index=True)
    attempts: Mapped[int]
