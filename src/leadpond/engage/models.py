"""Engage's records: forms and their submissions (events' records follow below)."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from leadpond.db.base import Base, BigId, JsonDoc
from leadpond.kit.clock import utcnow


class Form(Base):
    """A lead form: its fields mapped to traits, consent wording, where a submitter goes next,
    how much it asks a known person (progressive profiling) and how hard it is on bots."""

    __tablename__ = "form"
    __table_args__ = (UniqueConstraint("workspace_id", "key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("workspace.id"))
    key: Mapped[str] = mapped_column(String(64))  # the form_id of its Form Submitted events
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(16), default="draft")  # draft | published
    # [{key, type, label_zh, label_en, maps_to, required, options}]: forms_schemas.FormField
    fields: Mapped[list[dict[str, Any]]] = mapped_column(JsonDoc, default=list)
    # [{key, channel, wording_zh, wording_en, required}]: recorded with the wording shown
    consents: Mapped[list[dict[str, Any]]] = mapped_column(JsonDoc, default=list)
    intro_zh: Mapped[str] = mapped_column(String(2000), default="")
    intro_en: Mapped[str] = mapped_column(String(2000), default="")
    submit_zh: Mapped[str] = mapped_column(String(64), default="")
    submit_en: Mapped[str] = mapped_column(String(64), default="")
    success_zh: Mapped[str] = mapped_column(String(2000), default="")
    success_en: Mapped[str] = mapped_column(String(2000), default="")
    redirect_url: Mapped[str | None] = mapped_column(String(2048), default=None)
    progressive_max: Mapped[int | None] = mapped_column(default=None)  # None: every field
    # Sent with Form Submitted as a second event (Trial Requested: the S1 journey's trigger).
    conversion_event: Mapped[str | None] = mapped_column(String(128), default=None)
    min_fill_seconds: Mapped[int] = mapped_column(default=3)
    posts_per_minute: Mapped[int] = mapped_column(default=5)  # per client address
    captcha: Mapped[bool] = mapped_column(default=False)
    dedupe_hours: Mapped[int] = mapped_column(default=24)
    created_by: Mapped[str] = mapped_column(String(128), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class FormSubmission(Base):
    """One accepted post of a form: what was typed, the consent shown, where it came from."""

    __tablename__ = "form_submission"
    __table_args__ = (
        # A render token is good for one submission: a replayed post creates nothing.
        UniqueConstraint("render_nonce"),
        Index("ix_form_submission_form_created", "form_id", "created_at"),
        Index("ix_form_submission_form_dedupe", "form_id", "dedupe_key"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("workspace.id"))
    form_id: Mapped[int] = mapped_column(BigId, ForeignKey("form.id"))
    anonymous_id: Mapped[str] = mapped_column(String(255))
    person_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("person.id"), default=None)
    values: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    traits: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    consents: Mapped[list[dict[str, Any]]] = mapped_column(JsonDoc, default=list)
    context: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)  # hidden fields, UTM
    lang: Mapped[str] = mapped_column(String(8), default="zh")
    dedupe_key: Mapped[str] = mapped_column(String(64))
    render_nonce: Mapped[str] = mapped_column(String(64))
    repeats: Mapped[int] = mapped_column(default=0)  # the same post again within the window
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FormPostWindow(Base):
    """Posts from one client address to one public form in one minute: the rate limit, in the
    database so that every API process behind a load balancer counts the same posts. The
    ``target`` is what is posted to: ``form:<form id>`` or ``event:<event id>`` (an event's
    own registration fields)."""

    __tablename__ = "form_post_window"
    __table_args__ = (UniqueConstraint("target", "client", "minute"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    target: Mapped[str] = mapped_column(String(64))
    client: Mapped[str] = mapped_column(String(64))  # SHA-256 of the address: no raw IPs kept
    minute: Mapped[datetime]
    posts: Mapped[int] = mapped_column(default=0)
