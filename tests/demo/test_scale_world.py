"""benchmarks.scale_world: a world copied k times stays one consistent world (both databases)."""

import pytest
from benchmarks.scale_world import (
    UnknownTable,
    _indexes,
    base_world,
    classify,
    plan,
    recount,
    replicate,
)
from sqlalchemy import BigInteger, Column, ForeignKey, Integer, MetaData, Table, func, select

from leadpond.db.engine import get_engine, read_only
from leadpond.identity.models import Identifier
from leadpond.ingest.models import DERIVED_SOURCE, Event
from leadpond.profiles.models import Person
from leadpond.reports.rollups import processed_events
from leadpond.rules.models import PersonStage, StageChange
from leadpond.segments.models import Segment, SegmentMember


def test_a_table_nobody_classified_stops_the_copy() -> None:
    metadata = MetaData()
    mystery = Table("mystery", metadata, Column("id", Integer, primary_key=True))
    with pytest.raises(UnknownTable, match="mystery"):
        classify([mystery])


def test_an_id_column_of_unknown_meaning_stops_the_copy() -> None:
    metadata = MetaData()
    Table("person", metadata, Column("id", BigInteger, primary_key=True))
    tags = Table(
        "person_tag",
        metadata,
        Column("id", BigInteger, primary_key=True),
        Column("person_id", BigInteger, ForeignKey("person.id")),
        Column("widget_id", BigInteger),
    )
    with pytest.raises(UnknownTable, match="widget_id"):
        plan(tags, {"person": 10, "person_tag": 10}, postgres=False)


def _count(model: type, *where: object) -> int:
    with read_only() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def test_copies_multiply_the_rows_and_keep_them_consistent(database_url: str) -> None:
    workspace_id = base_world(database_url, 40)
    mine = Person.workspace_id == workspace_id
    before = {
        model: _count(model, model.workspace_id == workspace_id)
        for model in (Person, Event, Identifier, StageChange)
    }
    linked = select(func.count(func.distinct(Event.person_id))).where(
        Event.workspace_id == workspace_id
    )
    with read_only() as session:
        people_with_events = int(session.scalar(linked) or 0)
    engine = get_engine(database_url)
    with engine.connect() as connection:
        indexes = {t: _indexes(connection, t) for t in ("person", "event", "stage_change")}
    replicate(database_url, workspace_id, 2)
    recount(database_url, workspace_id)
    # The copied tables' indexes are built again as the migrations made them, in their order
    # (SQLite breaks ties between equally good indexes by it).
    with engine.connect() as connection:
        assert {t: _indexes(connection, t) for t in indexes} == indexes
    for model, rows in before.items():
        assert _count(model, model.workspace_id == workspace_id) == 3 * rows
    # Each copy's events belong to that copy's people, and no reference dangles.
    with read_only() as session:
        assert session.scalar(linked) == 3 * people_with_events
    people = select(Person.id).where(mine)
    assert _count(Event, Event.workspace_id == workspace_id, Event.person_id.not_in(people)) == 0
    assert _count(Person, mine, Person.merged_into_id.not_in(people)) == 0
    # A copied person's stage column names its copied person_stage row (the directory's filter).
    staged = _count(PersonStage, PersonStage.workspace_id == workspace_id)
    assert staged > 0
    assert _count(Person, mine, Person.stage.is_not(None)) == staged
    held = select(PersonStage.stage).where(PersonStage.person_id == Person.id)
    assert (
        _count(Person, mine, Person.stage.is_not(None), Person.stage != held.scalar_subquery()) == 0
    )
    received = _count(
        Event,
        Event.workspace_id == workspace_id,
        Event.processed_at.is_not(None),
        Event.source != DERIVED_SOURCE,
    )
    with read_only() as session:
        assert processed_events(session, workspace_id) == received
        for segment in session.scalars(select(Segment).where(Segment.workspace_id == workspace_id)):
            members = _count(SegmentMember, SegmentMember.segment_id == segment.id)
            if segment.level == "person":
                assert segment.member_count == members
