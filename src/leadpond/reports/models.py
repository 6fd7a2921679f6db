"""Rollups: per-day counts the pipeline maintains in the transaction that changes them."""

import uuid
from datetime import date
from typing import Any, cast

from sqlalchemy import BigInteger, Float, ForeignKey, Index, String, Table, Uuid, text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import String as StringType

from leadpond.db.base import Base
from leadpond.ingest.models import Event


class EventDay(Base):
    """How many received events of a day (their own ``timestamp``, UTC) have been processed.

    The pipeline adds a batch's events in the batch's transaction, and an event is processed
    exactly once and never deleted, so the sums are exact: the dashboard's events in a range
    and the pipeline status read them instead of counting the event log.
    """

    __tablename__ = "event_day"

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("workspace.id"), primary_key=True
    )
    day: Mapped[date] = mapped_column(primary_key=True)
    events: Mapped[int] = mapped_column(BigInteger)


def _unfolded(table: str) -> Index:
    """The rows a fold moves (PostgreSQL writers' own slots; SQLite writes slot 0 only)."""
    return Index(
        f"ix_{table}_unfolded",
        "slot",
        postgresql_where=text("slot <> 0"),
        sqlite_where=text("slot <> 0"),
    )


# The day a person never seen at any time is kept under (``first_seen_at`` is NULL).
NEVER_SEEN = date(1, 1, 1)


class PeopleDay(Base):
    """Live people (not merged away) by the day they were first seen and their first channel.

    Database triggers on ``person`` keep it in the writing transaction, whatever the write
    (pipeline, merge, unmerge, import, deletion): see ``reports.tallies``. ``slot`` 0 holds the
    folded counts; on PostgreSQL each transaction adds its changes under its own slot (its
    transaction id) so concurrent writers never wait for each other on a shared row, and the
    worker folds committed slots into slot 0. A count is the sum over slots.
    """

    __tablename__ = "people_day"
    __table_args__ = (_unfolded("people_day"),)

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("workspace.id"), primary_key=True
    )
    day: Mapped[date] = mapped_column(primary_key=True)  # NEVER_SEEN without first_seen_at
    channel: Mapped[str] = mapped_column(String(64), primary_key=True)  # "" without one
    slot: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    people: Mapped[int] = mapped_column(BigInteger)


class TagHolders(Base):
    """How many ``person_tag`` rows hold each tag (kept like ``PeopleDay``)."""

    __tablename__ = "tag_holders"
    __table_args__ = (_unfolded("tag_holders"),)

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("workspace.id"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(200), primary_key=True)
    slot: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    people: Mapped[int] = mapped_column(BigInteger)


class ScoreHolders(Base):
    """How many ``person_score`` rows of a model hold exactly these points (kept like
    ``PeopleDay``). Points are stored undecayed (decay applies on read), so a model without a
    half-life has few distinct values; a decaying one has about one per person."""

    __tablename__ = "score_holders"
    __table_args__ = (_unfolded("score_holders"),)

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("workspace.id"), primary_key=True
    )
    model: Mapped[str] = mapped_column(String(64), primary_key=True)
    points: Mapped[float] = mapped_column(Float, primary_key=True)
    slot: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    people: Mapped[int] = mapped_column(BigInteger)


class ContentTally(Base):
    """What one person (``person_id`` 0: nobody yet) did with one content item (by its key):
    human views, downloads, and the read time and scroll depth the viewer reported.

    Database triggers on ``event`` keep it, as the tallies above are kept, in the transaction
    that writes the event: ingest, identity resolution, merges, unmerges and rebuilds move an
    event's ``person_id`` and its counts move with it (see ``reports.content_tally``). The
    content reports read it instead of the event log: an item's readers are its rows with
    views, an author's readers the distinct people over the author's items.
    """

    __tablename__ = "content_tally"
    # Clustered by its key on SQLite (WITHOUT ROWID): an item's rows, and all of them for the
    # authors ranking, are read in one pass over the key's order, not a row lookup each.
    __table_args__ = (_unfolded("content_tally"), {"sqlite_with_rowid": False})

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("workspace.id"), primary_key=True
    )
    content_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    person_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    slot: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    views: Mapped[int] = mapped_column(BigInteger)  # not flagged as a link scanner's
    downloads: Mapped[int] = mapped_column(BigInteger)
    reads: Mapped[int] = mapped_column(BigInteger)  # Content Read events with read seconds
    read_seconds: Mapped[float] = mapped_column(Float)  # their sum
    scrolls: Mapped[int] = mapped_column(BigInteger)  # Content Read events with a scroll depth
    scroll_depth: Mapped[float] = mapped_column(Float)  # their sum


class ContentKey(ColumnElement[str]):
    """The content item an event names, ``properties.content_id`` as text: one expression for
    the index below and its queries (the path a literal, so both databases match them)."""

    inherit_cache = True
    type = StringType()


@compiles(ContentKey)
def _content_key_sqlite(element: ContentKey, compiler: SQLCompiler, **_kw: Any) -> str:
    return "CAST(json_extract(payload, '$.properties.content_id') AS TEXT)"


@compiles(ContentKey, "postgresql")
def _content_key_postgres(element: ContentKey, compiler: SQLCompiler, **_kw: Any) -> str:
    return "(payload #>> '{properties,content_id}')"


# One item's views in the log, by time: its stats page's channels, links and readers read the
# item's rows only. A query names the event as a literal (``event = 'Content Viewed'``) so
# SQLite can prove the partial index covers it.
VIEWS_WHERE = text("event = 'Content Viewed'")
CONTENT_VIEWS_INDEX = Index(
    "ix_event_content_views",
    Event.workspace_id,
    ContentKey(),
    Event.timestamp,
    sqlite_where=VIEWS_WHERE,
    postgresql_where=VIEWS_WHERE,
)
cast(Table, Event.__table__).append_constraint(CONTENT_VIEWS_INDEX)
