"""Accounts (companies), the keys that find them, and the people who work there."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from leadpond.db.base import Base, BigId, JsonDoc
from leadpond.kit.clock import utcnow

# Key kinds that many accounts may share: a trade name's core, and the one-character
# deletions of a name that find it despite a typo. Every other kind names one account.
SHARED_KEY_KINDS = ("core_name", "name_deletion")
KEY_KINDS = ("group_id", "uscc", "domain", "name", "alias", *SHARED_KEY_KINDS)

_UNIQUE_KINDS = text("kind NOT IN ('core_name', 'name_deletion')")


class Account(Base):
    """A company: created by a ``group`` call, a corporate mail domain, a name or a credit code."""

    __tablename__ = "account"
    __table_args__ = (Index("ix_account_workspace_id_id", "workspace_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("workspace.id"))
    name: Mapped[str] = mapped_column(String(300))
    name_key: Mapped[str | None] = mapped_column(String(300), default=None)
    core_key: Mapped[str | None] = mapped_column(String(300), default=None)
    domain: Mapped[str | None] = mapped_column(String(255), default=None)
    uscc: Mapped[str | None] = mapped_column(String(18), default=None)
    industry: Mapped[str | None] = mapped_column(String(200), default=None)
    traits: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class AccountKey(Base):
    """One normalised value that leads to an account (see ``KEY_KINDS``)."""

    __tablename__ = "account_key"
    __table_args__ = (
        UniqueConstraint("workspace_id", "kind", "value", "account_id"),
        Index(
            "uq_account_key_owner",
            "workspace_id",
            "kind",
            "value",
            unique=True,
            sqlite_where=_UNIQUE_KINDS,
            postgresql_where=_UNIQUE_KINDS,
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("workspace.id"))
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(300))
    account_id: Mapped[int] = mapped_column(BigId, ForeignKey("account.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PersonAccount(Base):
    """A person works at an account, in a decision-chain role; one link per person is primary."""

    __tablename__ = "person_account"
    __table_args__ = (UniqueConstraint("person_id", "account_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("workspace.id"))
    person_id: Mapped[int] = mapped_column(BigId, ForeignKey("person.id"))
    account_id: Mapped[int] = mapped_column(BigId, ForeignKey("account.id"), index=True)
    role: Mapped[str | None] = mapped_column(String(32), default=None)
    title: Mapped[str | None] = mapped_column(String(200), default=None)
    title_seen_at: Mapped[datetime | None] = mapped_column(default=None)
    is_primary: Mapped[bool] = mapped_column(default=False)
    # group | uscc | email_domain | company_name: the strongest evidence seen for the link.
    source: Mapped[str] = mapped_column(String(16))
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]


class AccountSettings(Base):
    """Per-workspace account settings: the title keyword table that infers roles."""

    __tablename__ = "account_settings"

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("workspace.id"), primary_key=True
    )
    role_keywords: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class AccountMerge(Base):
    """An account folded into another, by whom and why, with what it held: the snapshot lets
    an unmerge bring the folded account back with its keys and its people's links."""

    __tablename__ = "account_merge"
    __table_args__ = (Index("ix_account_merge_survivor", "workspace_id", "survivor_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("workspace.id"))
    # No foreign keys: the merged account's row is gone until an unmerge restores it.
    survivor_id: Mapped[int] = mapped_column(BigId)
    merged_id: Mapped[int] = mapped_column(BigId, index=True)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JsonDoc)
    reason: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    undone_at: Mapped[datetime | None] = mapped_column(default=None)
    undone_by: Mapped[str | None] = mapped_column(String(128), default=None)


class AccountSuggestion(Base):
    """Two accounts that look like one company (a translated name, traditional characters, a
    department written after the name): a human merges them or keeps them apart for good."""

    __tablename__ = "account_suggestion"
    __table_args__ = (
        UniqueConstraint("workspace_id", "account_a_id", "account_b_id"),
        Index("ix_account_suggestion_queue", "workspace_id", "status", "score", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("workspace.id"))
    account_a_id: Mapped[int] = mapped_column(BigId)
    account_b_id: Mapped[int] = mapped_column(BigId)
    score: Mapped[float]
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(JsonDoc, default=list)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(default=None)
    decided_by: Mapped[str | None] = mapped_column(String(128), default=None)
