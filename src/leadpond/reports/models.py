"""Rollups: per-day counts the pipeline maintains in the transaction that changes them."""

import uuid
from datetime import date

from sqlalchemy import BigInteger, Float, ForeignKey, Index, String, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from leadpond.db.base import Base


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
