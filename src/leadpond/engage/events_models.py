"""Events' tables: the event record (sessions, booths and microsite modules inside it), its
registrations, and the check-ins at its entrance, booths and sessions."""

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from leadpond.db.base import Base, BigId, JsonDoc
from leadpond.kit.clock import utcnow


class EventKind(StrEnum):
    CONFERENCE = "conference"
    SALON = "salon"
    WEBINAR = "webinar"
    TRAINING = "training"


class RegistrationStatus(StrEnum):
    APPROVED = "approved"  # has a seat and a badge
    PENDING = "pending"  # waits for a marketer's approval
    WAITLISTED = "waitlisted"  # the event was full
    REJECTED = "rejected"


class Attendance(StrEnum):
    REGISTERED = "registered"  # nothing known yet
    CHECKED_IN = "checked_in"  # came on site
    ATTENDED = "attended"  # watched the webinar
    NO_SHOW = "no_show"  # the event ended without them


class MarketingEvent(Base):
    """A conference, salon, webinar or training: when and where, its seats, its agenda
    (``sessions``), its booths (each a product line) and the modules of its microsite."""

    __tablename__ = "marketing_event"
    # The key is the public URL (/e/<key>): unique across workspaces.
    __table_args__ = (UniqueConstraint("key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("workspace.id"), index=True)
    key: Mapped[str] = mapped_column(String(64))
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    kind: Mapped[str] = mapped_column(String(16))
    # Naive UTC; shown and typed in ``time_zone``.
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    time_zone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    city: Mapped[str] = mapped_column(String(100), default="")
    venue: Mapped[str] = mapped_column(String(300), default="")
    topic: Mapped[str] = mapped_column(String(100), default="")
    capacity: Mapped[int | None] = mapped_column(default=None)
    approval_required: Mapped[bool] = mapped_column(default=False)
    live_url: Mapped[str | None] = mapped_column(String(1024), default=None)
    # [{key, title, title_en, starts_at, ends_at, room, forum ("main" | a sub-forum), speaker}]
    sessions: Mapped[list[dict[str, Any]]] = mapped_column(JsonDoc, default=list)
    # [{key, name, name_en, product_line, points}]
    booths: Mapped[list[dict[str, Any]]] = mapped_column(JsonDoc, default=list)
    # {"modules": [...], "speakers": [...], "transport": "...", "downloads": [...]}
    site: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    # The form builder's form that registers (its key); none: the event's own fields.
    registration_form: Mapped[str | None] = mapped_column(String(64), default=None)
    # On-site surveys: keys of the form builder's forms the microsite offers.
    surveys: Mapped[list[str]] = mapped_column(JsonDoc, default=list)
    # What goes out through the outbox: template keys (none set: nothing is sent).
    messages: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    reminder_hours: Mapped[int] = mapped_column(default=24)
    no_shows_marked_at: Mapped[datetime | None] = mapped_column(default=None)
    created_by: Mapped[str] = mapped_column(String(128), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class EventRegistration(Base):
    """One person's registration for one event, found again by ``attendee_key`` (the phone,
    else the email): registering twice is the same registration."""

    __tablename__ = "event_registration"
    __table_args__ = (
        UniqueConstraint("event_id", "attendee_key"),
        Index("ix_event_registration_event_status", "event_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("workspace.id"))
    event_id: Mapped[int] = mapped_column(BigId, ForeignKey("marketing_event.id"))
    attendee_key: Mapped[str] = mapped_column(String(330))
    phone: Mapped[str | None] = mapped_column(String(32), default=None)
    email: Mapped[str | None] = mapped_column(String(320), default=None)
    name: Mapped[str | None] = mapped_column(String(200), default=None)
    company: Mapped[str | None] = mapped_column(String(300), default=None)
    title: Mapped[str | None] = mapped_column(String(200), default=None)
    status: Mapped[str] = mapped_column(String(16))
    attendance: Mapped[str] = mapped_column(String(16), default=Attendance.REGISTERED.value)
    # web, walk_in, import, api
    source: Mapped[str] = mapped_column(String(16))
    # The anonymous id of every event this registration sends (the visitor's cookie on the web).
    anonymous_id: Mapped[str] = mapped_column(String(64))
    checked_in_at: Mapped[datetime | None] = mapped_column(default=None)
    watch_minutes: Mapped[int | None] = mapped_column(default=None)
    answers: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class EventCheckin(Base):
    """A registration seen at a point: ``entrance``, ``booth:<key>`` or ``session:<key>``.
    One row per registration and point: a second scan records nothing."""

    __tablename__ = "event_checkin"
    __table_args__ = (
        UniqueConstraint("registration_id", "point"),
        Index("ix_event_checkin_event_point", "event_id", "point"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("workspace.id"))
    event_id: Mapped[int] = mapped_column(BigId, ForeignKey("marketing_event.id"))
    registration_id: Mapped[int] = mapped_column(BigId, ForeignKey("event_registration.id"))
    point: Mapped[str] = mapped_column(String(80))
    # badge_qr, phone_lookup, walk_in, point_qr
    method: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(default=utcnow)
