"""Content analytics from the event log: per item (views, unique readers, read time,
downloads; by channel and link; readers by persona, stage, account and industry; whether the
item's topic was a new or a known interest of each reader) and per author (totals, ranking).

Every number is one aggregate query over the workspace's events of one name (the
``(workspace_id, event, timestamp)`` index), grouped by a JSON property read the same way on
both databases (``payload #>> '{properties,x}'`` / ``json_extract``).
"""

import uuid
from typing import Any

from sqlalchemy import ColumnElement, Select, String, and_, cast, exists, func, literal, select
from sqlalchemy.orm import Session

from leadpond.accounts.models import Account, PersonAccount
from leadpond.conditions.ast import Persona
from leadpond.content.models import ContentFacet, ContentItem
from leadpond.content.schemas import AuthorRank, ContentStats, CountBy, ReaderRead
from leadpond.content.viewing import DOWNLOADED, READ, VIEWED
from leadpond.ingest.models import Event
from leadpond.kit.clock import utcnow
from leadpond.kit.scope import owned
from leadpond.profiles.models import Person
from leadpond.profiles.scope import live_in
from leadpond.rules.models import PersonStage, PersonTag
from leadpond.segments.build import person_filter
from leadpond.segments.definitions import load_segments

# Tag categories that say what a person is interested in (the default playbook's).
INTEREST_CATEGORIES = ("interest", "product_pref", "industry_pref", "topic")
READERS_SHOWN = 50


def prop(name: str) -> ColumnElement[Any]:
    """A property of the event, as text (NULL when absent)."""
    value: ColumnElement[Any] = Event.payload[("properties", name)].as_string()
    return value


def _events(workspace_id: uuid.UUID, name: str, key: str | None) -> list[Any]:
    where: list[Any] = [owned(Event, workspace_id), Event.event == name]
    if key is not None:
        where.append(prop("content_id") == key)
    return where


def _human() -> Any:
    """Not flagged as a link scanner's visit."""
    return func.coalesce(cast(prop("bot"), String), "false").not_in(("true", "1"))


def views_of(workspace_id: uuid.UUID, key: str | None = None) -> Select[Any]:
    """The views (of one item): person, timestamp, channel and link of each."""
    return select(
        Event.person_id.label("person_id"),
        Event.timestamp.label("at"),
        prop("channel").label("channel"),
        prop("link").label("link"),
        prop("content_id").label("content_id"),
    ).where(*_events(workspace_id, VIEWED, key), _human())


def _count_by(session: Session, views: Any, column: Any, joins: Any = None) -> list[CountBy]:
    stmt = select(
        column.label("key"),
        func.count().label("views"),
        func.count(func.distinct(views.c.person_id)).label("readers"),
    ).select_from(views)
    if joins is not None:
        stmt = joins(stmt)
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
    views = views_of(ws, key).subquery()
    totals = session.execute(
        select(
            func.count(),
            func.count(func.distinct(views.c.person_id)),
            func.count().filter(views.c.person_id.is_(None)),
        ).select_from(views)
    ).one()
    read = session.execute(
        select(
            func.avg(Event.payload[("properties", "read_seconds")].as_float()),
            func.avg(Event.payload[("properties", "scroll_depth")].as_float()),
        ).where(*_events(ws, READ, key))
    ).one()
    downloads = session.scalar(select(func.count()).where(*_events(ws, DOWNLOADED, key))) or 0
    primary = and_(
        owned(PersonAccount, ws),
        PersonAccount.person_id == views.c.person_id,
        PersonAccount.is_primary.is_(True),
    )

    def with_account(stmt: Select[Any]) -> Select[Any]:
        return stmt.join(PersonAccount, primary).join(
            Account, Account.id == PersonAccount.account_id
        )

    def with_stage(stmt: Select[Any]) -> Select[Any]:
        return stmt.join(
            PersonStage, and_(owned(PersonStage, ws), PersonStage.person_id == views.c.person_id)
        )

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
    known = _known_before(ws, topic, first.c.person_id, first.c.first_at)
    interest = session.execute(
        select(func.count().filter(known), func.count()).select_from(first)
    ).one()
    return ContentStats(
        key=key,
        views=totals[0],
        readers=totals[1],
        anonymous_views=totals[2],
        read_seconds_avg=_round(read[0]),
        scroll_depth_avg=_round(read[1], 3),
        downloads=downloads,
        by_channel=_count_by(session, views, views.c.channel),
        by_link=_count_by(session, views, views.c.link),
        by_persona=_by_persona(session, ws, views),
        by_stage=_count_by(session, views, PersonStage.stage, with_stage),
        by_account=_count_by(session, views, Account.name, with_account),
        by_industry=_count_by(session, views, Account.industry, with_account),
        known_interest=interest[0] if topic else 0,
        new_interest=(interest[1] - interest[0]) if topic else 0,
        readers_list=_readers(session, ws, views, first, known if topic else None),
    )


def _round(value: Any, digits: int = 1) -> float | None:
    return None if value is None else round(float(value), digits)


def _by_persona(session: Session, workspace_id: uuid.UUID, views: Any) -> list[CountBy]:
    loaded = load_segments(session, workspace_id)
    now, found = utcnow(), []
    for key in loaded.context.personas:
        holders = select(Person.id).where(
            live_in(workspace_id), *person_filter(session, loaded, Persona(key=key), now)
        )
        views_n, readers = session.execute(
            select(func.count(), func.count(func.distinct(views.c.person_id)))
            .select_from(views)
            .where(views.c.person_id.in_(holders))
        ).one()
        if views_n:
            found.append(CountBy(key=key, views=views_n, readers=readers))
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
    channel = (
        select(views.c.channel)
        .where(views.c.person_id == first.c.person_id)
        .order_by(views.c.at)
        .limit(1)
        .scalar_subquery()
    )
    stmt = (
        select(
            first.c.person_id,
            Person.traits,
            PersonStage.stage,
            account,
            channel,
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
    return [
        ReaderRead(
            person_id=person_id,
            name=(traits or {}).get("name") or (traits or {}).get("email"),
            stage=stage,
            account=account_name,
            channel=via,
            first_viewed_at=at,
            views=n,
            interest=None if was_known is None else ("known" if was_known else "new"),
        )
        for person_id, traits, stage, account_name, via, at, n, was_known in session.execute(stmt)
    ]


def author_ranking(session: Session, workspace_id: uuid.UUID) -> list[AuthorRank]:
    """Per author: items, views, unique readers, downloads and read time, most read first."""
    items = (
        select(ContentItem.key, ContentItem.author)
        .where(owned(ContentItem, workspace_id))
        .subquery()
    )
    views = views_of(workspace_id).subquery()
    counted = {
        author: (v, r)
        for author, v, r in session.execute(
            select(items.c.author, func.count(), func.count(func.distinct(views.c.person_id)))
            .select_from(views)
            .join(items, items.c.key == views.c.content_id)
            .group_by(items.c.author)
        )
    }
    downloads: dict[str, int] = dict(
        session.execute(
            select(items.c.author, func.count())
            .select_from(Event)
            .join(items, items.c.key == prop("content_id"))
            .where(*_events(workspace_id, DOWNLOADED, None))
            .group_by(items.c.author)
        ).all()
    )
    read: dict[str, float] = dict(
        session.execute(
            select(
                items.c.author, func.avg(Event.payload[("properties", "read_seconds")].as_float())
            )
            .select_from(Event)
            .join(items, items.c.key == prop("content_id"))
            .where(*_events(workspace_id, READ, None))
            .group_by(items.c.author)
        ).all()
    )
    made: dict[str, int] = dict(
        session.execute(
            select(items.c.author, func.count()).select_from(items).group_by(items.c.author)
        ).all()
    )
    ranked = [
        AuthorRank(
            author=author or "",
            items=n,
            views=counted.get(author, (0, 0))[0],
            readers=counted.get(author, (0, 0))[1],
            downloads=int(downloads.get(author, 0)),
            read_seconds_avg=_round(read.get(author)),
        )
        for author, n in made.items()
    ]
    return sorted(ranked, key=lambda a: (-a.readers, -a.views, a.author))
