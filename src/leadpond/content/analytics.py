"""Content analytics: per item (views, unique readers, read time, downloads; by channel and
link; readers by persona, stage, account and industry; whether the item's topic was a new or a
known interest of each reader) and per author (totals, ranking).

Counts, readers and their breakdowns read the content tally (``reports.content_tally``: per
item and person, kept by triggers on the event log), never the whole log. What needs each view
(its channel, link and time: an item's channels, links and readers list) reads the item's
views only, through ``ix_event_content_views``.
"""

import uuid
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    literal_column,
    select,
)
from sqlalchemy.orm import Session

from leadpond.accounts.models import Account, PersonAccount
from leadpond.content.models import ContentFacet, ContentItem
from leadpond.content.schemas import AuthorRank, ContentStats, CountBy, ReaderRead
from leadpond.db.engine import is_postgres
from leadpond.ingest.models import Event
from leadpond.kit.scope import owned
from leadpond.profiles.models import Person
from leadpond.profiles.scope import live_in
from leadpond.reports.content_tally import VIEWED
from leadpond.reports.directory import persona_filter
from leadpond.reports.models import ContentKey, ContentTally
from leadpond.rules.models import PersonStage, PersonTag
from leadpond.segments.definitions import load_segments

# Tag categories that say what a person is interested in (the default playbook's).
INTEREST_CATEGORIES = ("interest", "product_pref", "industry_pref", "topic")
READERS_SHOWN = 50


def prop(name: str) -> ColumnElement[Any]:
    """A property of the event, as text (NULL when absent)."""
    value: ColumnElement[Any] = Event.payload[("properties", name)].as_string()
    return value


def _human() -> Any:
    """Not flagged as a link scanner's visit."""
    return func.coalesce(cast(prop("bot"), String), "false").not_in(("true", "1"))


def views_of(workspace_id: uuid.UUID, key: str) -> Select[Any]:
    """The views of one item: person, timestamp, channel and link of each. The event name is
    a literal, so SQLite can prove the partial index ``ix_event_content_views`` serves it."""
    return select(
        Event.person_id.label("person_id"),
        Event.timestamp.label("at"),
        prop("channel").label("channel"),
        prop("link").label("link"),
    ).where(
        owned(Event, workspace_id),
        Event.event == literal_column(f"'{VIEWED}'"),
        ContentKey() == key,
        _human(),
    )


def tally_of(session: Session, workspace_id: uuid.UUID, key: str | None = None) -> Any:
    """Per item (or one item) and person (0: nobody known): the tally's sums over its slots.
    SQLite's triggers write slot 0 only (one writer at a time), so its rows are already one
    per item and person and are read as they are, without a grouping pass."""
    t = ContentTally
    columns = (t.views, t.downloads, t.reads, t.read_seconds, t.scrolls, t.scroll_depth)
    postgres = is_postgres(session)
    query = select(
        t.content_key.label("content_key"),
        t.person_id.label("person_id"),
        *((func.sum(c) if postgres else c).label(c.key) for c in columns),
    ).where(owned(t, workspace_id))
    if key is not None:
        query = query.where(t.content_key == key)
    return query.group_by(t.content_key, t.person_id) if postgres else query


def _readers_of(session: Session, workspace_id: uuid.UUID, key: str) -> Any:
    """The item's readers (people with a view) and their views."""
    tally = tally_of(session, workspace_id, key).subquery()
    return (
        select(tally.c.person_id, tally.c.views)
        .where(tally.c.person_id != 0, tally.c.views > 0)
        .subquery()
    )


def _reader_count_by(session: Session, readers: Any, column: Any, joins: Any) -> list[CountBy]:
    """Views and readers per value of a column joined to the readers (stage, account…)."""
    stmt = joins(
        select(
            column.label("key"),
            func.sum(readers.c.views).label("views"),
            func.count().label("readers"),
        ).select_from(readers)
    )
    stmt = stmt.where(column.is_not(None)).group_by(column).order_by(func.count().desc(), column)
    return [
        CountBy(key=str(k), views=int(v), readers=r) for k, v, r in session.execute(stmt.limit(50))
    ]


def _by_account(
    session: Session, workspace_id: uuid.UUID, readers: Any
) -> tuple[list[CountBy], list[CountBy]]:
    """Views and readers per primary account (by name) and per its industry: one read of the
    readers' accounts, summed both ways (a reader has one primary account)."""
    rows = session.execute(
        select(Account.name, Account.industry, func.sum(readers.c.views), func.count())
        .select_from(readers)
        .join(
            PersonAccount,
            and_(
                owned(PersonAccount, workspace_id),
                PersonAccount.person_id == readers.c.person_id,
                PersonAccount.is_primary.is_(True),
            ),
        )
        .join(Account, Account.id == PersonAccount.account_id)
        .group_by(Account.name, Account.industry)
    ).all()

    def summed(at: int) -> list[CountBy]:
        sums: dict[str, list[int]] = {}
        for row in rows:
            if row[at] is not None:
                held = sums.setdefault(str(row[at]), [0, 0])
                held[0] += int(row[2])
                held[1] += int(row[3])
        ranked = sorted(sums.items(), key=lambda kv: (-kv[1][1], kv[0]))[:50]
        return [CountBy(key=k, views=v, readers=r) for k, (v, r) in ranked]

    return summed(0), summed(1)


def _count_by(session: Session, views: Any, column: Any) -> list[CountBy]:
    """Views and distinct readers per value of a view's own column (channel, link)."""
    stmt = select(
        column.label("key"),
        func.count().label("views"),
        func.count(func.distinct(views.c.person_id)).label("readers"),
    ).select_from(views)
    stmt = stmt.where(column.is_not(None)).group_by(column).order_by(func.count().desc(), column)
    return [CountBy(key=str(k), views=v, readers=r) for k, v, r in session.execute(stmt.limit(50))]


def _interest_tags(topic: str) -> list[str]:
    return [f"{category}:{topic}" for category in INTEREST_CATEGORIES]


def _known_before(workspace_id: uuid.UUID, topic: str | None, person: Any, at: Any) -> Any:
    """The person held an interest tag for the topic before ``at``."""
    if not topic:
        return literal(False)
    return exists().where(
        owned(PersonTag, workspace_id),
        PersonTag.person_id == person,
        PersonTag.tag.in_(_interest_tags(topic)),
        PersonTag.added_at < at,
    )


def _topic(session: Session, item: ContentItem) -> str | None:
    return session.scalar(
        select(ContentFacet.value)
        .where(
            owned(ContentFacet, item.workspace_id),
            ContentFacet.item_id == item.id,
            ContentFacet.kind == "topic",
        )
        .order_by(ContentFacet.id)
        .limit(1)
    )


def item_stats(session: Session, item: ContentItem) -> ContentStats:
    """Everything the item's stats page shows."""
    ws, key = item.workspace_id, item.key
    tally = tally_of(session, ws, key).subquery()
    known = tally.c.person_id != 0
    totals = session.execute(
        select(
            func.coalesce(func.sum(tally.c.views), 0),
            func.count().filter(known, tally.c.views > 0),
            func.coalesce(func.sum(tally.c.views).filter(~known), 0),
            func.coalesce(func.sum(tally.c.downloads), 0),
            func.sum(tally.c.reads),
            func.sum(tally.c.read_seconds),
            func.sum(tally.c.scrolls),
            func.sum(tally.c.scroll_depth),
        ).select_from(tally)
    ).one()
    readers = _readers_of(session, ws, key)
    by_account, by_industry = _by_account(session, ws, readers)

    def with_stage(stmt: Select[Any]) -> Select[Any]:
        return stmt.join(
            PersonStage,
            and_(owned(PersonStage, ws), PersonStage.person_id == readers.c.person_id),
        )

    views = views_of(ws, key).subquery()
    topic = _topic(session, item)
    first = (
        select(
            views.c.person_id.label("person_id"),
            func.min(views.c.at).label("first_at"),
            func.count().label("views"),
        )
        .where(views.c.person_id.is_not(None))
        .group_by(views.c.person_id)
        .subquery()
    )
    known_before = _known_before(ws, topic, first.c.person_id, first.c.first_at)
    interest = session.execute(
        select(func.count().filter(known_before), func.count()).select_from(first)
    ).one()
    return ContentStats(
        key=key,
        views=int(totals[0]),
        readers=int(totals[1]),
        anonymous_views=int(totals[2]),
        read_seconds_avg=_mean(totals[5], totals[4]),
        scroll_depth_avg=_mean(totals[7], totals[6], 3),
        downloads=int(totals[3]),
        by_channel=_count_by(session, views, views.c.channel),
        by_link=_count_by(session, views, views.c.link),
        by_persona=_by_persona(session, ws, readers),
        by_stage=_reader_count_by(session, readers, PersonStage.stage, with_stage),
        by_account=by_account,
        by_industry=by_industry,
        known_interest=interest[0] if topic else 0,
        new_interest=(interest[1] - interest[0]) if topic else 0,
        readers_list=_readers(session, ws, views, first, known_before if topic else None),
    )


def _mean(total: Any, count: Any, digits: int = 1) -> float | None:
    return round(float(total) / int(count), digits) if count else None


def _by_persona(session: Session, workspace_id: uuid.UUID, readers: Any) -> list[CountBy]:
    found = []
    for key in load_segments(session, workspace_id).context.personas:
        # The directory's persona filter: kept memberships where they are current (an index
        # range), else the persona's condition, tested on the item's readers only.
        clauses, _ = persona_filter(session, workspace_id, key)
        views_n, readers_n = session.execute(
            select(func.sum(readers.c.views), func.count())
            .select_from(readers)
            .join(Person, Person.id == readers.c.person_id)
            .where(live_in(workspace_id), *clauses)
        ).one()
        if readers_n:
            found.append(CountBy(key=key, views=int(views_n), readers=readers_n))
    return sorted(found, key=lambda c: (-c.readers, c.key))


def _readers(
    session: Session, workspace_id: uuid.UUID, views: Any, first: Any, known: Any
) -> list[ReaderRead]:
    account = (
        select(Account.name)
        .join(PersonAccount, PersonAccount.account_id == Account.id)
        .where(
            owned(PersonAccount, workspace_id),
            PersonAccount.person_id == first.c.person_id,
            PersonAccount.is_primary.is_(True),
        )
        .limit(1)
        .scalar_subquery()
    )
    stmt = (
        select(
            first.c.person_id,
            Person.traits,
            PersonStage.stage,
            account,
            first.c.first_at,
            first.c.views,
            known if known is not None else literal(None),
        )
        .select_from(first)
        .join(Person, and_(owned(Person, workspace_id), Person.id == first.c.person_id))
        .outerjoin(
            PersonStage,
            and_(owned(PersonStage, workspace_id), PersonStage.person_id == first.c.person_id),
        )
        .order_by(first.c.first_at.desc(), first.c.person_id)
        .limit(READERS_SHOWN)
    )
    shown = session.execute(stmt).all()
    # The channel of each shown reader's first view: one read of those readers' views, not a
    # search of the item's views per reader.
    via: dict[int, str | None] = {}
    ids = [row[0] for row in shown]
    for person_id, channel in session.execute(
        select(views.c.person_id, views.c.channel)
        .where(views.c.person_id.in_(ids))
        .order_by(views.c.at)
    ):
        via.setdefault(person_id, channel)
    return [
        ReaderRead(
            person_id=person_id,
            name=(traits or {}).get("name") or (traits or {}).get("email"),
            stage=stage,
            account=account_name,
            channel=via.get(person_id),
            first_viewed_at=at,
            views=n,
            interest=None if was_known is None else ("known" if was_known else "new"),
        )
        for person_id, traits, stage, account_name, at, n, was_known in shown
    ]


def author_ranking(session: Session, workspace_id: uuid.UUID) -> list[AuthorRank]:
    """Per author: items, views, unique readers, downloads and read time, most read first."""
    items = (
        select(ContentItem.key, ContentItem.author)
        .where(owned(ContentItem, workspace_id))
        .subquery()
    )
    tally = tally_of(session, workspace_id).subquery()
    reader = case((and_(tally.c.person_id != 0, tally.c.views > 0), tally.c.person_id))
    counted = {
        author: row
        for author, *row in session.execute(
            select(
                items.c.author,
                func.sum(tally.c.views),
                func.count(func.distinct(reader)),
                func.sum(tally.c.downloads),
                func.sum(tally.c.read_seconds),
                func.sum(tally.c.reads),
            )
            .select_from(tally)
            .join(items, items.c.key == tally.c.content_key)
            .group_by(items.c.author)
        )
    }
    made: dict[str, int] = dict(
        session.execute(
            select(items.c.author, func.count()).select_from(items).group_by(items.c.author)
        ).all()
    )
    ranked = []
    for author, n in made.items():
        views, readers, downloads, seconds, reads = counted.get(author, (0, 0, 0, 0, 0))
        ranked.append(
            AuthorRank(
                author=author or "",
                items=n,
                views=int(views),
                readers=int(readers),
                downloads=int(downloads),
                read_seconds_avg=_mean(seconds, reads),
            )
        )
    return sorted(ranked, key=lambda a: (-a.readers, -a.views, a.author))
