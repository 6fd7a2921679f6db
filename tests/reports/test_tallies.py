"""The dashboard's people, tag and score tallies and the content tally equal the rows they
count, whatever wrote them.

The oracles below are the direct queries the dashboard ran before the tallies (issue #20); they
stay here only to check the tallies against.
"""

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import case, delete, func, or_, select, text, update
from sqlalchemy.orm import Session

from leadpond.content.analytics import author_ranking, item_stats
from leadpond.content.models import ContentItem
from leadpond.content.schemas import ContentCreate
from leadpond.content.service import create as create_item
from leadpond.db.engine import is_postgres, read_only, unit_of_work
from leadpond.identity.models import PersonMerge
from leadpond.ingest.models import Event
from leadpond.kit.clock import utcnow
from leadpond.kit.scope import owned
from leadpond.pipeline import worker
from leadpond.playbooks.service import start_workspace
from leadpond.profiles.models import Person
from leadpond.profiles.scope import live_in
from leadpond.profiles.touches import OTHER_GROUP
from leadpond.reports import content_tally, dashboard, tallies
from leadpond.reports.models import ContentTally, PeopleDay, ScoreHolders, TagHolders
from leadpond.rules.models import PersonScore, PersonTag
from tests.conftest import Tracker, finish_job

TODAY = utcnow().date()
RANGES = [(TODAY - timedelta(days=6), TODAY), (TODAY - timedelta(days=40), TODAY - timedelta(3))]


def _new_people_oracle(
    session: Session, workspace_id: uuid.UUID, start: date, end: date
) -> dict[str, dict[str, int]]:
    low = datetime.combine(start, datetime.min.time())
    high = datetime.combine(end + timedelta(days=1), datetime.min.time())
    day = (
        func.to_char(Person.first_seen_at, "YYYY-MM-DD")
        if is_postgres(session)
        else func.strftime("%Y-%m-%d", Person.first_seen_at)
    )
    rows = session.execute(
        select(Person.first_channel, day, func.count())
        .where(live_in(workspace_id), Person.first_seen_at >= low, Person.first_seen_at < high)
        .group_by(Person.first_channel, day)
    )
    series: dict[str, dict[str, int]] = {}
    for channel, when, count in rows:
        per_day = series.setdefault(str(channel or OTHER_GROUP), {})
        per_day[str(when)[:10]] = per_day.get(str(when)[:10], 0) + int(count)
    return series


def _top_tags_oracle(session: Session, workspace_id: uuid.UUID) -> list[tuple[str, int]]:
    rows = session.execute(
        select(PersonTag.tag, func.count())
        .where(owned(PersonTag, workspace_id))
        .group_by(PersonTag.tag)
        .order_by(func.count().desc(), PersonTag.tag)
    )
    return [(tag, int(n)) for tag, n in rows]


def _histogram_oracle(
    session: Session, workspace_id: uuid.UUID, model: str, buckets: int = 10
) -> list[tuple[str, int]]:
    where = (owned(PersonScore, workspace_id), PersonScore.model == model)
    low, high = session.execute(
        select(func.min(PersonScore.points), func.max(PersonScore.points)).where(*where)
    ).one()
    if low is None:
        return []
    width = max((float(high) - float(low)) / buckets, 1e-9)
    raw_band = func.floor((PersonScore.points - low) / width)
    band = case((raw_band >= buckets, buckets - 1), else_=raw_band)
    counts = {
        k: int(n)
        for k, n in session.execute(select(band, func.count()).where(*where).group_by(band))
    }
    return [
        (f"{low + i * width:g}–{low + (i + 1) * width:g}", counts.get(i, 0)) for i in range(buckets)
    ]


def _assert_tallies_match(workspace_id: uuid.UUID) -> None:
    with read_only() as session:
        live = session.scalar(select(func.count()).select_from(Person).where(live_in(workspace_id)))
        assert tallies.people_total(session, workspace_id) == live
        for start, end in RANGES:
            expected = _new_people_oracle(session, workspace_id, start, end)
            assert dashboard.new_people(session, workspace_id, start, end) == expected
            board = dashboard.build(session, workspace_id, start, end)
            assert board.people_total == live
            assert board.people_new == sum(sum(d.values()) for d in expected.values())
        every_tag = _top_tags_oracle(session, workspace_id)
        assert dashboard.top_tags(session, workspace_id) == every_tag[: dashboard.TOP_TAGS]
        assert tallies.tag_holders(session, workspace_id, 10_000) == every_tag
        models = list(
            session.scalars(
                select(PersonScore.model)
                .where(owned(PersonScore, workspace_id))
                .group_by(PersonScore.model)
                .order_by(PersonScore.model)
            )
        )
        assert dashboard.scored_models(session, workspace_id) == models
        for model in models:
            expected_bands = _histogram_oracle(session, workspace_id, model)
            assert dashboard.score_histogram(session, workspace_id, model) == expected_bands


def _tally_rows(workspace_id: uuid.UUID) -> dict[str, set[tuple[Any, ...]]]:
    """Each tally's summed rows (key, people) of the workspace, zero sums left out."""
    found: dict[str, set[tuple[Any, ...]]] = {}
    with read_only() as session:
        for model in tallies.TALLIES:
            table = model.__table__
            keys = [c for c in table.primary_key.columns if c.name not in ("workspace_id", "slot")]
            names = content_tally.COLUMNS if model is ContentTally else COUNTS[:1]
            held = [func.sum(table.c[name]) for name in names]
            rows = session.execute(
                select(*keys, *held)
                .where(table.c.workspace_id == workspace_id)
                .group_by(*keys)
                .having(or_(*(h != 0 for h, n in zip(held, names, strict=True) if n in COUNTS)))
            )
            found[table.name] = {tuple(_rounded(v) for v in row) for row in rows}
    return found


# The count columns (a row with none is empty; sums of seconds may leave a float residue).
COUNTS = ("people", "views", "downloads", "reads", "scrolls")


def _rounded(value: Any) -> Any:
    return round(value, 6) if isinstance(value, float) else value


def _content_oracle(session: Session, workspace_id: uuid.UUID) -> dict[tuple[str, int], list[Any]]:
    """Per (content key, person or 0): views, downloads, reads, read seconds, scrolls, scroll
    depth, counted from the event log one event at a time (``reports.content_tally``'s rules)."""
    found: dict[tuple[str, int], list[Any]] = {}
    rows = session.execute(
        select(Event.event, Event.person_id, Event.payload).where(
            owned(Event, workspace_id), Event.event.in_(content_tally.COUNTED)
        )
    )
    for name, person, payload in rows:
        props = payload.get("properties") or {}
        key = props.get("content_id")
        if isinstance(key, bool) or not isinstance(key, str | int) or len(str(key)) > 64:
            continue
        held = found.setdefault((str(key), person or 0), [0, 0, 0, 0.0, 0, 0.0])
        if name == content_tally.VIEWED and props.get("bot") not in (True, "true", "1"):
            held[0] += 1
        held[1] += name == content_tally.DOWNLOADED
        for at, prop in ((2, "read_seconds"), (4, "scroll_depth")):
            value = props.get(prop)
            number = isinstance(value, int | float) and not isinstance(value, bool)
            if name == content_tally.READ and number:
                held[at] += 1
                held[at + 1] += value
    return {k: v for k, v in found.items() if v[0] or v[1] or v[2] or v[4]}


def _assert_content_matches(workspace_id: uuid.UUID) -> None:
    """The tally equals the log; the author ranking and an item's stats equal a recount."""
    with read_only() as session:
        oracle = _content_oracle(session, workspace_id)
        kept = {
            (key, person): [_rounded(v) for v in values]
            for key, person, *values in _tally_rows(workspace_id)["content_tally"]
        }
        assert kept == {k: [_rounded(x) for x in v] for k, v in oracle.items()}
        items = {
            key: author
            for key, author in session.execute(
                select(ContentItem.key, ContentItem.author).where(owned(ContentItem, workspace_id))
            )
        }
        ranking = {a.author: a for a in author_ranking(session, workspace_id)}
        for author in set(items.values()):
            mine = [(k, v) for k, v in oracle.items() if items.get(k[0]) == author]
            readers = {person for (_, person), v in mine if person and v[0]}
            assert ranking[author].views == sum(v[0] for _, v in mine)
            assert ranking[author].readers == len(readers)
            assert ranking[author].downloads == sum(v[1] for _, v in mine)
        item = session.scalar(
            select(ContentItem).where(owned(ContentItem, workspace_id), ContentItem.key == "c1")
        )
        assert item is not None
        stats = item_stats(session, item)
        mine = [(person, v) for (key, person), v in oracle.items() if key == "c1"]
        assert stats.views == sum(v[0] for _, v in mine)
        assert stats.anonymous_views == sum(v[0] for p, v in mine if not p)
        assert stats.readers == len({p for p, v in mine if p and v[0]})
        assert stats.downloads == sum(v[1] for _, v in mine)
        assert len(stats.readers_list) == min(stats.readers, 50)


# Identifier sets: a visitor with both an email and a phone seen apart merges their people.
TRAITS = [
    {"email": "a@acme.cn"},
    {"email": "b@acme.cn"},
    {"phone": "13700001111"},
    {"phone": "13700002222"},
    {"email": "a@acme.cn", "phone": "13700001111"},
    {"email": "b@acme.cn", "phone": "13700002222"},
    {"email": "a@acme.cn", "phone": "13700002222"},
]
SOURCES = [None, "baidu", "wechat", "newsletter"]
EVENTS = [
    ("Page Viewed", {"path": "/pricing"}),
    ("Whitepaper Downloaded", {}),
    ("Trial Requested", {}),
    ("Content Viewed", {"content_type": "case"}),
    ("Certification Earned", {}),
    ("Content Viewed", {"content_id": "c1", "channel": "poster"}),
    ("Content Viewed", {"content_id": "c2", "bot": True}),
    ("Content Read", {"content_id": "c1", "read_seconds": 30, "scroll_depth": 0.5}),
    ("Whitepaper Downloaded", {"content_id": "c2"}),
    ("Content Viewed", {"content_id": 7}),
    ("Content Viewed", {"content_id": "c2", "bot": "false"}),
]

calls = st.one_of(
    st.tuples(
        st.just("identify"),
        st.integers(0, 5),
        st.sampled_from(range(len(TRAITS))),
        st.integers(0, 45),
        st.sampled_from(SOURCES),
    ),
    st.tuples(
        st.just("track"),
        st.integers(0, 5),
        st.sampled_from(range(len(EVENTS))),  # content events: see _content_oracle
        st.integers(0, 45),
        st.sampled_from(SOURCES),
    ),
)
steps = st.one_of(
    st.tuples(st.just("batch"), st.lists(calls, min_size=1, max_size=12), st.integers(1, 8)),
    st.tuples(st.just("tag"), st.integers(0, 20), st.sampled_from(["vip", "role:cio", "a"])),
    st.tuples(st.just("untag"), st.integers(0, 20), st.sampled_from(["vip", "role:cio", "a"])),
    st.tuples(st.just("unmerge"), st.integers(0, 20), st.just(0)),
    st.tuples(st.just("backfill"), st.just(0), st.just(0)),
)


def _message(call: tuple[Any, ...]) -> dict[str, Any]:
    kind, who, what, days_ago, source = call
    at = (datetime.now(UTC) - timedelta(days=days_ago, minutes=who)).isoformat()
    message: dict[str, Any] = {"type": kind, "anonymousId": f"anon-{who}", "timestamp": at}
    if source:
        message["context"] = {"campaign": {"source": source, "medium": "cpc"}}
    if kind == "identify":
        message["traits"] = TRAITS[what]
    else:
        message["event"], message["properties"] = EVENTS[what]
    return message


def _live_ids(workspace_id: uuid.UUID) -> list[int]:
    with read_only() as session:
        return list(
            session.scalars(select(Person.id).where(live_in(workspace_id)).order_by(Person.id))
        )


def _run(step: tuple[Any, ...], api: TestClient, track: Tracker, workspace_id: uuid.UUID) -> None:
    kind, pick, what = step
    people = _live_ids(workspace_id)
    if kind == "batch":
        track.batch([_message(call) for call in pick], drain=False)
        worker.drain(batch_size=what)
    elif kind in ("tag", "untag") and people:
        person = people[pick % len(people)]
        if kind == "tag":
            api.post(f"/api/v1/people/{person}/tags", json={"tag": what})
        else:
            api.delete(f"/api/v1/people/{person}/tags/{what}")
    elif kind == "unmerge":
        with read_only() as session:
            merges = session.execute(
                select(PersonMerge.survivor_id, PersonMerge.identifier_type)
                .add_columns(PersonMerge.identifier_value)
                .where(owned(PersonMerge, workspace_id), PersonMerge.undone_at.is_(None))
                .order_by(PersonMerge.id)
            ).all()
        if merges:
            survivor, id_type, value = merges[pick % len(merges)]
            api.post(
                f"/api/v1/people/{survivor}/unmerge",
                json={"identifier": {"type": id_type, "value": value}},
            )
    elif kind == "backfill":
        finish_job(api, api.post("/api/v1/rules/backfill"))


# Two visitors seen apart, then a third with both their identifiers: a merge, then its undoing.
MERGE_AND_UNDO = [
    ("batch", [("track", 0, 0, 3, "baidu"), ("track", 1, 1, 9, None)], 1),
    # Content views, reads and downloads of both visitors (one a scanner's) before the merge.
    (
        "batch",
        [
            ("track", 0, 5, 3, None),
            ("track", 1, 5, 4, None),
            ("track", 1, 7, 2, None),
            ("track", 4, 9, 1, None),
            ("track", 5, 6, 1, None),
            ("track", 0, 8, 1, None),
            ("track", 2, 10, 1, None),
        ],
        3,
    ),
    ("batch", [("identify", 0, 0, 2, None), ("identify", 1, 2, 8, "wechat")], 2),
    ("tag", 1, "vip"),
    ("batch", [("identify", 2, 4, 20, None), ("track", 3, 2, 30, "newsletter")], 8),
    ("unmerge", 0, 0),
    ("untag", 0, "vip"),
    ("backfill", 0, 0),
]


@example(script=MERGE_AND_UNDO)
@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(script=st.lists(steps, min_size=1, max_size=8))
def test_the_tallies_equal_the_rows_after_any_writes(
    client: TestClient, script: list[tuple[Any, ...]]
) -> None:
    with unit_of_work() as session:
        workspace = start_workspace(session, f"tally-{uuid.uuid4().hex[:6]}")
        for key, author in (("c1", "林晓"), ("c2", "Ada"), ("7", "林晓")):
            body = ContentCreate(key=key, title=key, type="case", author=author)
            create_item(session, workspace.workspace_id, body, "test")
    client.headers["Authorization"] = f"Bearer {workspace.api_key}"
    track = Tracker(client, workspace)
    for step in script:
        _run(step, client, track, workspace.workspace_id)
        _assert_tallies_match(workspace.workspace_id)
        _assert_content_matches(workspace.workspace_id)
    kept = _tally_rows(workspace.workspace_id)
    with unit_of_work() as session:
        tallies.fold(session)
    assert _tally_rows(workspace.workspace_id) == kept
    with unit_of_work() as session:
        tallies.rebuild(session, workspace.workspace_id)
    assert _tally_rows(workspace.workspace_id) == kept
    _assert_tallies_match(workspace.workspace_id)
    _assert_content_matches(workspace.workspace_id)


def test_merges_deletions_and_fractional_points_are_counted(
    track: Tracker, api: TestClient, backend: str
) -> None:
    track.identify(traits={"email": "sun@acme.cn"}, anonymousId="web")
    track.identify(traits={"phone": "13700001111"}, anonymousId="wx")
    ws = track.workspace.workspace_id
    _assert_tallies_match(ws)
    track.identify(traits={"email": "sun@acme.cn", "phone": "13700001111"}, anonymousId="form")
    _assert_tallies_match(ws)  # the merged-away person no longer counts
    with unit_of_work() as session:
        total = tallies.people_total(session, ws)
        person = session.scalar(select(Person.id).where(live_in(ws)))
        # Decaying models store fractional points; a deleted row stops counting.
        session.execute(
            update(PersonScore).where(PersonScore.person_id == person).values(points=2.75)
        )
        session.execute(delete(PersonTag).where(PersonTag.person_id == person))
        session.execute(update(Person).where(Person.id == person).values(first_seen_at=None))
    _assert_tallies_match(ws)
    with read_only() as session:
        assert tallies.people_total(session, ws) == total
        never = session.scalar(
            select(func.sum(PeopleDay.people)).where(
                PeopleDay.workspace_id == ws, PeopleDay.day == date(1, 1, 1)
            )
        )
        assert never == 1
        points = session.scalars(
            select(ScoreHolders.points).where(ScoreHolders.workspace_id == ws)
        ).all()
        assert 2.75 in points


def test_postgresql_writers_keep_their_own_slots_until_a_fold(
    track: Tracker, api: TestClient, backend: str
) -> None:
    track.identify(traits={"email": "sun@acme.cn"}, anonymousId="web")
    ws = track.workspace.workspace_id
    person = _live_ids(ws)[0]
    assert api.post(f"/api/v1/people/{person}/tags", json={"tag": "vip"}).status_code == 201
    with read_only() as session:
        slots = set(
            session.scalars(
                select(TagHolders.slot).where(
                    TagHolders.workspace_id == ws, TagHolders.tag == "vip"
                )
            )
        )
    # SQLite has one writer at a time: its triggers add to slot 0 directly.
    assert (slots != {0}) if backend == "postgresql" else (slots == {0})
    with unit_of_work() as session:
        assert tallies.fold(session)
    with read_only() as session:
        rows = session.execute(
            select(TagHolders.slot, TagHolders.people).where(
                TagHolders.workspace_id == ws, TagHolders.tag == "vip"
            )
        ).all()
    assert rows == [(0, 1)]
    assert api.delete(f"/api/v1/people/{person}/tags/vip").status_code == 204
    with unit_of_work() as session:
        tallies.fold(session)
    with read_only() as session:
        left = session.scalars(
            select(TagHolders.people).where(TagHolders.workspace_id == ws, TagHolders.tag == "vip")
        ).all()
    assert left == []  # a fold (or SQLite's trigger) leaves no empty row behind


def test_concurrent_postgresql_writers_of_one_tag_do_not_wait_for_each_other(
    track: Tracker, backend: str
) -> None:
    if backend != "postgresql":
        pytest.skip("SQLite has one writer at a time")
    track.identify(traits={"email": "a@acme.cn"}, anonymousId="a")
    track.identify(traits={"email": "b@acme.cn"}, anonymousId="b")
    ws = track.workspace.workspace_id
    first, second = _live_ids(ws)
    with unit_of_work() as one, unit_of_work() as other:
        for session, person in ((one, first), (other, second)):
            # A shared counter row would make the second writer wait for the first's commit.
            session.execute(text("SET LOCAL lock_timeout = '2s'"))
            session.add(
                PersonTag(
                    workspace_id=ws,
                    person_id=person,
                    tag="busy",
                    source="manual",
                    actor="test",
                    added_at=utcnow(),
                )
            )
            session.flush()
    with read_only() as session:
        assert dict(tallies.tag_holders(session, ws, 100))["busy"] == 2
