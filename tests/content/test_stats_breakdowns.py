"""An item's whole stats (totals, channels, links, stages, accounts, industries, personas, new
or known interest, the readers list) equal a recount from the rows they describe — the item's
views in the log, the readers' stages, primary accounts and interest tags, the directory's
persona filter — whatever the readers, their views (many per batch, out of order) and what
they held before; on both databases."""

import base64
import uuid
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from leadpond.accounts.models import Account, PersonAccount
from leadpond.content.analytics import INTEREST_CATEGORIES, READERS_SHOWN, item_stats
from leadpond.content.models import ContentItem
from leadpond.db.engine import read_only, unit_of_work
from leadpond.ingest.models import Event
from leadpond.kit.scope import owned
from leadpond.pipeline import worker
from leadpond.playbooks.service import start_workspace
from leadpond.profiles.models import Person
from leadpond.profiles.scope import live_in
from leadpond.reports.directory import persona_filter
from leadpond.rules.models import PersonStage, PersonTag
from leadpond.segments.definitions import load_segments

START = datetime(2026, 11, 2, 8, 0)
COMPANIES = ("华夏银行", "招商局集团", None)
STAGES = ("visit", "lead", "opportunity", None)
TITLES = ("CIO", "数据工程师", None)

readers = st.lists(
    st.tuples(
        st.sampled_from(COMPANIES),
        st.sampled_from(STAGES),
        st.sampled_from(TITLES),
        st.one_of(st.none(), st.integers(-3, 3)),  # interest tag: hours from the first view
    ),
    min_size=1,
    max_size=5,
)
views = st.lists(
    st.tuples(
        st.integers(0, 5),  # reader (5: an anonymous visitor)
        st.integers(0, 10),  # hours after START
        st.sampled_from(("poster", "wechat-group:a", None)),
        st.sampled_from(("L1", "L2", None)),
        st.booleans(),  # a link scanner's visit
    ),
    min_size=1,
    max_size=12,
)


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(people=readers, seen=views, batch=st.integers(1, 6), data=st.data())
def test_every_breakdown_equals_a_recount(
    client: TestClient,
    people: list[tuple[str | None, str | None, str | None, int | None]],
    seen: list[tuple[int, int, str | None, str | None, bool]],
    batch: int,
    data: st.DataObject,
) -> None:
    with unit_of_work() as session:
        workspace = start_workspace(session, f"breakdown-{uuid.uuid4().hex[:8]}")
    client.headers["Authorization"] = f"Bearer {workspace.api_key}"
    created = client.post(
        "/api/v1/content",
        json={"title": "t", "type": "case", "status": "published", "topics": ["graph_database"]},
    )
    assert created.status_code == 201, created.text
    key = created.json()["key"]
    token = base64.b64encode(f"{workspace.write_key}:".encode()).decode()
    write = {"Authorization": f"Basic {token}"}

    def send(messages: list[dict[str, Any]]) -> None:
        answer = client.post("/v1/batch", json={"batch": messages}, headers=write)
        assert answer.status_code == 200, answer.text

    send(
        [
            {
                "type": "identify",
                "userId": f"u{n}",
                "timestamp": START.isoformat() + "Z",
                "traits": {
                    "email": f"u{n}@x{n}.cn",
                    **({"company": company} if company else {}),
                    **({"title": title} if title else {}),
                },
            }
            for n, (company, _, title, _) in enumerate(people)
        ]
    )
    messages = []
    for reader, hours, channel, link, bot in seen:
        who = {"userId": f"u{reader}"} if reader < len(people) else {"anonymousId": "visitor"}
        properties = {"content_id": key, "bot": bot, "channel": channel, "link": link}
        messages.append(
            {
                "type": "track",
                "event": "Content Viewed",
                "timestamp": (START + timedelta(hours=hours)).isoformat() + "Z",
                "properties": {k: v for k, v in properties.items() if v is not None},
                **who,
            }
        )
    messages = data.draw(st.permutations(messages))
    for at in range(0, len(messages), batch):
        send(messages[at : at + batch])
    worker.drain()

    # What the readers held: a stage, and an interest tag added some hours from their first view.
    with unit_of_work() as session:
        ids = dict(
            session.execute(
                select(Event.user_id, Event.person_id).where(
                    owned(Event, workspace.workspace_id), Event.user_id.is_not(None)
                )
            ).all()
        )
        for n, (_, stage, _, interest) in enumerate(people):
            person = ids[f"u{n}"]
            if stage:
                session.merge(
                    PersonStage(
                        person_id=person,
                        workspace_id=workspace.workspace_id,
                        stage=stage,
                        entered_at=START,
                    )
                )
            first = min(
                (START + timedelta(hours=h) for r, h, *_, bot in seen if r == n and not bot),
                default=START,
            )
            if interest is not None:
                session.merge(
                    PersonTag(
                        workspace_id=workspace.workspace_id,
                        person_id=person,
                        tag="topic:graph_database",
                        category="topic",
                        source="manual",
                        actor="test",
                        added_at=first + timedelta(hours=interest),
                    )
                )

    with read_only() as session:
        item = session.scalar(
            select(ContentItem).where(
                owned(ContentItem, workspace.workspace_id), ContentItem.key == key
            )
        )
        assert item is not None
        stats = item_stats(session, item)
        expected = _recount(session, workspace.workspace_id, key)
    got = stats.model_dump()
    got["readers_list"] = [
        (r.person_id, r.first_viewed_at.replace(tzinfo=None), r.views, r.interest)
        for r in stats.readers_list
    ]
    assert {k: got[k] for k in expected} == expected


def _ranked(pairs: list[tuple[Any, int]]) -> list[dict[str, Any]]:
    views: Counter[str] = Counter()
    readers: Counter[str] = Counter()
    for key, n in pairs:
        if key is not None:
            views[str(key)] += n
            readers[str(key)] += 1
    order = sorted(readers, key=lambda k: (-readers[k], k))
    return [{"key": k, "views": views[k], "readers": readers[k]} for k in order]


def _recount(session: Any, workspace_id: uuid.UUID, key: str) -> dict[str, Any]:
    """The stats, counted one row at a time in Python."""
    rows = [
        (person, at, payload["properties"])
        for person, at, payload in session.execute(
            select(Event.person_id, Event.timestamp, Event.payload)
            .where(owned(Event, workspace_id), Event.event == "Content Viewed")
            .order_by(Event.timestamp, Event.id)
        )
        if payload["properties"].get("content_id") == key
        and payload["properties"].get("bot") not in (True, "true", "1")
    ]
    count: Counter[int] = Counter(person for person, _, _ in rows if person is not None)
    first: dict[int, datetime] = {}
    for person, at, _ in rows:
        if person is not None:
            first.setdefault(person, at)

    def by(prop: str) -> list[dict[str, Any]]:
        n: Counter[str] = Counter()
        who: dict[str, set[int]] = defaultdict(set)
        for person, _, props in rows:
            if props.get(prop) is not None:
                n[props[prop]] += 1
                if person is not None:
                    who[props[prop]].add(person)
        order = sorted(n, key=lambda k: (-n[k], k))
        return [{"key": k, "views": n[k], "readers": len(who[k])} for k in order]

    stage = dict(session.execute(select(PersonStage.person_id, PersonStage.stage)).all())
    account = {
        person: (name, industry)
        for person, name, industry in session.execute(
            select(PersonAccount.person_id, Account.name, Account.industry)
            .join(Account, Account.id == PersonAccount.account_id)
            .where(PersonAccount.is_primary.is_(True))
        )
    }
    tags = [f"{c}:graph_database" for c in INTEREST_CATEGORIES]
    held = dict(
        session.execute(
            select(PersonTag.person_id, func.min(PersonTag.added_at))
            .where(PersonTag.tag.in_(tags))
            .group_by(PersonTag.person_id)
        ).all()
    )
    known = {p for p in first if p in held and held[p] < first[p]}
    personas = []
    for persona in load_segments(session, workspace_id).context.personas:
        clauses, _ = persona_filter(session, workspace_id, persona)
        holders = set(session.scalars(select(Person.id).where(live_in(workspace_id), *clauses)))
        mine = [p for p in count if p in holders]
        if mine:
            personas.append(
                {"key": persona, "views": sum(count[p] for p in mine), "readers": len(mine)}
            )
    latest = sorted(sorted(first), key=lambda p: first[p], reverse=True)[:READERS_SHOWN]
    return {
        "views": len(rows),
        "readers": len(count),
        "anonymous_views": sum(1 for person, _, _ in rows if person is None),
        "by_channel": by("channel"),
        "by_link": by("link"),
        "by_stage": _ranked([(stage.get(p), n) for p, n in count.items()]),
        "by_account": _ranked([(account.get(p, (None,))[0], n) for p, n in count.items()]),
        "by_industry": _ranked([(account.get(p, (None, None))[1], n) for p, n in count.items()]),
        "by_persona": sorted(personas, key=lambda c: (-c["readers"], c["key"])),
        "known_interest": len(known),
        "new_interest": len(first) - len(known),
        "readers_list": [(p, first[p], count[p], "known" if p in known else "new") for p in latest],
    }
