"""The content pool: items (an H5 article, a file, a video link) classified by the customer
stages they serve and by type, tagged by topic, product and industry; and each workspace's
editable taxonomy of types."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from leadpond.db.base import Base, BigId, JsonDoc
from leadpond.kit.clock import utcnow


class ContentItem(Base):
    """One piece of content. ``key`` is what events carry as ``content_id``; ``public_code``
    is the only thing the public viewer URL ``/c/<code>`` carries (random, unguessable)."""

    __tablename__ = "content_item"
    __table_args__ = (
        UniqueConstraint("workspace_id", "key"),
        UniqueConstraint("public_code"),
        Index("ix_content_item_workspace_type", "workspace_id", "type"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("workspace.id"))
    key: Mapped[str] = mapped_column(String(64))
    public_code: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text, default="")
    # The article's source (Markdown or HTML), rendered and sanitised when shown.
    body: Mapped[str] = mapped_column(Text, default="")
    body_format: Mapped[str] = mapped_column(String(16), default="markdown")
    format: Mapped[str] = mapped_column(String(16))  # article, file, video
    video_url: Mapped[str | None] = mapped_column(String(2048), default=None)
    category: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(64))
    author: Mapped[str] = mapped_column(String(128), default="")
    language: Mapped[str] = mapped_column(String(8), default="zh")
    status: Mapped[str] = mapped_column(String(16), default="draft")
    gate_form: Mapped[str | None] = mapped_column(String(64), default=None)
    file_name: Mapped[str | None] = mapped_column(String(255), default=None)
    file_type: Mapped[str | None] = mapped_column(String(128), default=None)
    file_size: Mapped[int | None] = mapped_column(BigId, default=None)
    # Where the file is in the store (a path under the content directory).
    file_ref: Mapped[str | None] = mapped_column(String(255), default=None)
    created_by: Mapped[str] = mapped_column(String(128), default="")
    published_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ContentFacet(Base):
    """One stage, topic, product or industry an item is tagged with: a row each, so the
    library's filters and the coverage matrix are plain indexed SQL on both databases."""

    __tablename__ = "content_facet"
    __table_args__ = (
        UniqueConstraint("item_id", "kind", "value"),
        Index("ix_content_facet_workspace_kind_value", "workspace_id", "kind", "value"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("workspace.id"))
    item_id: Mapped[int] = mapped_column(BigId, ForeignKey("content_item.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # stage, topic, product, industry
    value: Mapped[str] = mapped_column(String(128))


class ContentTaxonomy(Base):
    """A workspace's content types by category (absent: the default of seed 000)."""

    __tablename__ = "content_taxonomy"

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("workspace.id"), primary_key=True
    )
    document: Mapped[dict[str, Any]] = mapped_column(JsonDoc)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
