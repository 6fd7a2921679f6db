"""The person: one row per human, with their merged traits."""

import uuid
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    Uuid,
    and_,
    func,
    literal_column,
    null,
    or_,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import String as StringType

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
    # How the person came: the channel group of their first touch (profiles/touches.py).
    first_channel: Mapped[str | None] = mapped_column(String(64), default=None)
    # First and last touch: group, channel, source, medium, campaign, content, at, message id.
    first_touch: Mapped[dict[str, Any] | None] = mapped_column(JsonDoc, default=None)
    last_touch: Mapped[dict[str, Any] | None] = mapped_column(JsonDoc, default=None)
    last_seen_at: Mapped[datetime | None] = mapped_column(default=None)
    event_count: Mapped[int] = mapped_column(default=0)
    # Normalised name + company, for duplicate suggestions between people sharing no identifier.
    match_key: Mapped[str | None] = mapped_column(String(255), default=None)
    # The key of the person's ``person_stage`` row (None: no stage), kept with it by
    # ``rules.store.keep_person_stages``: the directory filters a stage by activity on its index.
    stage: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ChannelGrouping(Base):
    """A workspace's own channel grouping (ordered groups); none: the default grouping."""

    __tablename__ = "channel_grouping"

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("workspace.id"), primary_key=True
    )
    groups: Mapped[list[dict[str, Any]]] = mapped_column(JsonDoc, default=list)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


# The people directory's indexes, fast at a million people. ``trait_text`` is one expression for
# both index and query, with the JSON path as a literal so SQLite and PostgreSQL match queries to
# the expression index.
class TraitText(ColumnElement[str]):
    """A person trait as text: ``json_extract(traits, '$.x')`` / ``traits ->> 'x'``."""

    inherit_cache = True
    type = StringType()
    # SQLAlchemy's statement cache key: the trait (without it no statement using this is cached).
    _traverse_internals = [("trait", InternalTraversal.dp_string)]  # noqa: RUF012

    def __init__(self, trait: str) -> None:
        if not trait.isidentifier():
            raise ValueError(f"not a trait name: {trait!r}")
        self.trait = trait


@compiles(TraitText)
def _trait_text_sqlite(element: TraitText, compiler: SQLCompiler, **_kw: Any) -> str:
    return f"json_extract(traits, '$.{element.trait}')"


@compiles(TraitText, "postgresql")
def _trait_text_postgres(element: TraitText, compiler: SQLCompiler, **_kw: Any) -> str:
    return f"traits ->> '{element.trait}'"


def name_key() -> ColumnElement[str]:
    """The lower-cased name trait: what name search and name sort use."""
    return func.lower(TraitText("name"))


PERSON_NAME_INDEX = Index("ix_person_name_key", Person.workspace_id, name_key())

# Chinese characters (CJK extension A, unified ideographs, compatibility ideographs).
HAN_CLASS = "[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"


def han_name() -> ColumnElement[bool]:
    """The name holds a Chinese character (PostgreSQL: the name-characters index's rows)."""
    return name_key().regexp_match(literal_column(f"'{HAN_CLASS}'"))


def name_characters() -> ColumnElement[list[str]]:
    """The characters of the lower-cased name, as a text array (PostgreSQL)."""
    return func.string_to_array(name_key(), null(), type_=ARRAY(Text))


# Chinese names are searched by any part (伟 finds 张伟): PostgreSQL finds the names holding
# every character of the search in this index, then tests the few with LIKE. Only names with a
# Chinese character are in it, so writes of other people (visitors, Latin names) skip it. No
# trigram index can do this: a given name is one or two characters. SQLite has no such index
# and reads its names from ``ix_person_name_key``, which it can do without the rows.
PERSON_NAME_CHARACTERS_INDEX = Index(
    "ix_person_name_characters",
    name_characters(),
    postgresql_using="gin",
    postgresql_where=han_name(),
).ddl_if(dialect="postgresql")
# Its one expression names no column object (``TraitText`` is SQL text), so it is attached here.
cast(Table, Person.__table__).append_constraint(PERSON_NAME_CHARACTERS_INDEX)
PERSON_LAST_SEEN_INDEX = Index("ix_person_last_seen", Person.workspace_id, Person.last_seen_at)
PERSON_ACTIVITY_INDEX = Index("ix_person_event_count", Person.workspace_id, Person.event_count)
# The directory's people of a stage by last activity: a page of the least active stage (dormant)
# reads 50 rows of this index, not the rest of the workspace first (see ``reports.directory``).
PERSON_STAGE_INDEX = Index(
    "ix_person_stage_last_seen",
    Person.workspace_id,
    Person.stage,
    Person.last_seen_at,
    Person.id,
)
# The dashboard's new people of a date range.
PERSON_FIRST_SEEN_INDEX = Index("ix_person_first_seen", Person.workspace_id, Person.first_seen_at)

# The traits that make a person a known contact rather than an anonymous visitor.
KNOWN_TRAITS = ("name", "email", "phone")


def known_contact() -> ColumnElement[bool]:
    """The person has a name, email or phone: the directory's default rows."""
    return or_(*(TraitText(trait).is_not(None) for trait in KNOWN_TRAITS))


# The live known contacts, by last activity: the directory's first page and its count (most
# rows of a workspace are anonymous visitors) without reading the traits of every person.
# ``merged_into_id`` is a column too: with two equalities, like ``ix_person_workspace_live``,
# SQLite without statistics prefers this index for the count.
_KNOWN_LIVE = and_(Person.merged_into_id.is_(None), known_contact())
PERSON_KNOWN_INDEX = Index(
    "ix_person_known_last_seen",
    Person.workspace_id,
    Person.merged_into_id,
    Person.last_seen_at,
    sqlite_where=_KNOWN_LIVE,
    postgresql_where=_KNOWN_LIVE,
)
# The live known contacts of a stage by last activity: the directory's default view of a stage
# (known contacts only) reads 50 rows of this index. With ``ix_person_stage_last_seen`` alone
# a stage of anonymous visitors (visit) read every row of the stage for its traits: 1.6-4.5 s
# at a million people, for an empty page. No ``merged_into_id`` column (the predicate holds it):
# PostgreSQL does not take ``IS NULL`` on a column for an equality that orders the rest, and
# then preferred the unfiltered stage index.
PERSON_KNOWN_STAGE_INDEX = Index(
    "ix_person_known_stage",
    Person.workspace_id,
    Person.stage,
    Person.last_seen_at,
    Person.id,
    sqlite_where=_KNOWN_LIVE,
    postgresql_where=_KNOWN_LIVE,
)
# The same people by id: "is this person a live known contact" answered from the index (its
# rowid) when a filter (a persona, a stage, a tag) hands the directory a list of people.
PERSON_KNOWN_ID_INDEX = Index(
    "ix_person_known",
    Person.workspace_id,
    Person.merged_into_id,
    sqlite_where=_KNOWN_LIVE,
    postgresql_where=_KNOWN_LIVE,
)
