"""Channels' tables: settings per channel, templates, the outbox of messages with their status
history, and consent (subscriptions per person × channel, suppressed addresses)."""

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from leadpond.db.base import Base, BigId, JsonDoc
from leadpond.kit.clock import utcnow


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    WECOM = "wecom"
    WECHAT = "wechat"
    WEBHOOK = "webhook"


class Purpose(StrEnum):
    """Marketing needs consent and obeys caps and quiet hours; transactional (a receipt, a code,
    a note to a sales rep) needs only an address."""

    MARKETING = "marketing"
    TRANSACTIONAL = "transactional"


class MessageStatus(StrEnum):
    QUEUED = "queued"  # due at ``due_at`` (later when a cap or quiet hours hold it)
    SENDING = "sending"  # claimed by a deliverer, under lease
    SENT = "sent"  # the provider accepted it
    DELIVERED = "delivered"  # a receipt said it arrived
    BOUNCED = "bounced"  # a receipt or DSN said it will not arrive
    FAILED = "failed"  # a permanent error, or every attempt failed
    SKIPPED = "skipped"  # never sent: ``reason`` says why
    # The deliverer died between handing it to the provider and hearing the answer: it may
    # have been sent. Never re-sent automatically (a message is sent at most once).
    IN_DOUBT = "in_doubt"


# Why a message was not sent (``Message.reason`` of a skipped message).
SKIP_REASONS = (
    "suppressed",  # the address bounced or complained
    "unsubscribed",  # the person opted out of the channel
    "no_consent",  # the channel needs an opt-in the person never gave
    "no_address",  # no email / mobile / openid / userid for the person
    "capped",  # a frequency cap, configured to drop
    "quiet_hours",  # quiet hours, configured to drop
    "invalid_template",  # the template failed to render for this person
    "not_configured",  # the channel has no settings in the workspace
    "person_gone",  # merged away or deleted before it was sent
)


class SubscriptionStatus(StrEnum):
    SUBSCRIBED = "subscribed"
    UNSUBSCRIBED = "unsubscribed"
    BOUNCED = "bounced"
    COMPLAINED = "complained"


class ChannelSettings(Base):
    """How a workspace sends on one channel: provider and its settings (secrets included),
    frequency caps and quiet hours."""

    __tablename__ = "channel_settings"
    __table_args__ = (UniqueConstraint("workspace_id", "channel"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("workspace.id"))
    channel: Mapped[str] = mapped_column(String(16))
    provider: Mapped[str] = mapped_column(String(32))
    settings: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    # {"marketing": [{"max": 2, "days": 7}], "on_cap": "wait" | "drop"}
    caps: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    # {"start": "21:00", "end": "08:00", "time_zone": "Asia/Shanghai", "on_quiet": "wait" | "drop"}
    quiet_hours: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    enabled: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class MessageTemplate(Base):
    """What a message says: Jinja2 (sandboxed) over person, account and content variables.

    ``provider_template`` is the provider's own template id where the channel requires one (SMS
    TemplateCode, WeChat template_id); ``body`` then renders to its parameters (a JSON object).
    """

    __tablename__ = "message_template"
    __table_args__ = (UniqueConstraint("workspace_id", "key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("workspace.id"))
    key: Mapped[str] = mapped_column(String(64))
    # What marketers call it (``kit.names``): one text, or {zh: …, en: …}; none shows the key.
    name: Mapped[str | dict[str, str] | None] = mapped_column(JsonDoc, default=None)
    channel: Mapped[str] = mapped_column(String(16))
    purpose: Mapped[str] = mapped_column(String(16), default=Purpose.MARKETING.value)
    subject: Mapped[str | None] = mapped_column(String(255), default=None)
    body: Mapped[str] = mapped_column(Text)
    text_body: Mapped[str | None] = mapped_column(Text, default=None)
    provider_template: Mapped[str | None] = mapped_column(String(128), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Message(Base):
    """One message in the outbox, written in the transaction that decided it.

    ``(workspace_id, idempotency_key)`` is unique: deciding the same message again (a retried
    request, a replayed journey step) finds the first row and sends nothing more.
    """

    __tablename__ = "message"
    __table_args__ = (
        UniqueConstraint("workspace_id", "idempotency_key"),
        # The deliverers' claim: due queued messages, oldest first.
        Index(
            "ix_message_due",
            "due_at",
            sqlite_where=text("status IN ('queued', 'sending')"),
            postgresql_where=text("status IN ('queued', 'sending')"),
        ),
        Index("ix_message_person", "workspace_id", "person_id", "id"),
        Index("ix_message_template", "workspace_id", "template_id", "id"),
        Index("ix_message_provider_id", "channel", "provider_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("workspace.id"))
    person_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("person.id"), default=None)
    channel: Mapped[str] = mapped_column(String(16))
    purpose: Mapped[str] = mapped_column(String(16))
    template_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("message_template.id"), default=None
    )
    idempotency_key: Mapped[str] = mapped_column(String(255))
    # Who decided it: "api", "console", "journey:<id>:<version>:<step>"…
    origin: Mapped[str] = mapped_column(String(128), default="api")
    # Extra template variables the caller gave (content, links…).
    variables: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    status: Mapped[str] = mapped_column(String(16), default=MessageStatus.QUEUED.value)
    reason: Mapped[str | None] = mapped_column(String(64), default=None)
    address: Mapped[str | None] = mapped_column(String(320), default=None)
    subject: Mapped[str | None] = mapped_column(String(255), default=None)
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int] = mapped_column(default=5)
    due_at: Mapped[datetime] = mapped_column(default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(default=None)
    locked_by: Mapped[str | None] = mapped_column(String(64), default=None)
    # Set (and committed) just before the message is handed to the provider, cleared when its
    # outcome is recorded: a lease that lapses with it set means the provider may have it.
    handed_at: Mapped[datetime | None] = mapped_column(default=None)
    provider_id: Mapped[str | None] = mapped_column(String(128), default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class MessageEvent(Base):
    """A message's history: every status it went through and every receipt, open and click,
    with what said so (provider answer, DSN, user agent)."""

    __tablename__ = "message_event"
    __table_args__ = (Index("ix_message_event_message", "message_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("workspace.id"))
    message_id: Mapped[int] = mapped_column(BigId, ForeignKey("message.id"))
    # A status of MessageStatus, or "opened" / "clicked" / "unsubscribed" / "complained".
    kind: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    detail: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)


class Subscription(Base):
    """A person's consent on one channel, with where it came from (the form and wording shown,
    the unsubscribe link, a bounce) and when."""

    __tablename__ = "subscription"
    __table_args__ = (UniqueConstraint("workspace_id", "person_id", "channel"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("workspace.id"))
    person_id: Mapped[int] = mapped_column(BigId, ForeignKey("person.id"))
    channel: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(255))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    detail: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)


class SuppressedAddress(Base):
    """An address no message goes to: it hard-bounced or its owner complained."""

    __tablename__ = "suppressed_address"
    __table_args__ = (UniqueConstraint("workspace_id", "channel", "address"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("workspace.id"))
    channel: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(320))
    reason: Mapped[str] = mapped_column(String(32))
    message_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("message.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    detail: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
