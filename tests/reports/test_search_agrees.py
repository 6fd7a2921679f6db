"""The directory's search, read way by way (each way of matching an index range, counted and
paged apart), answers what one plain statement over the union of those ways answers: the same
people, count and order, on random small worlds, whatever the limits that pick the path."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Select, select, union
from sqlalchemy.orm import Session

from leadpond.accounts.directory import accounts_for_search
from leadpond.accounts.models import PersonAccount
from leadpond.db.engine import read_only, unit_of_work
from leadpond.identity.models import Identifier
from leadpond.kit.pagination import PageQuery, count
from leadpond.playbooks.service import start_workspace
from leadpond.profiles.models import Person, known_contact, name_key
from leadpond.profiles.scope import people
from leadpond.reports import directory, people_search
from leadpond.rules.models import PersonTag
from tests.conftest import Tracker

SURNAMES = ("张", "王", "李", "赵_")
GIVEN = ("伟", "建国", "芳", "张", "伟%")
LATIN = ("Alice Chen", "Al Li", "alan", "Bob", "li na")
LOCALS = ("zhang", "al", "li.na", "bob", "alan.w")
DOMAINS = ("xinghuan.cn", "zhonghai.com", "qq.com")
COMPANIES = ("北京星环信息科技有限公司", "星环科技", "成都中海地产有限公司", "上海中海物业有限公司")
QUERIES = (
    "张", "伟", "建国", "张伟", "张 伟", "_伟", "赵_", "王芳", "al", "Al", "alice", "li", "li n",
    "zhang", "zhang@", "al@", "bob@qq", "158", "1587", "+86 158", "(158) 7", "zhonghai",
    "zhonghai.com", "xinghuan", "星环", "成都中海", "上海", "中海", "nobody",
)  # fmt: skip
SORTS = {
    "last_seen": Person.last_seen_at,
    "events": Person.event_count,
    "name": name_key(),
    "id": Person.id,
}

names = st.one_of(
    st.none(),
    st.builds(lambda s, g: s + g, st.sampled_from(SURNAMES), st.sampled_from(GIVEN)),
    st.sampled_from(LATIN),
)
emails = st.one_of(
    st.none(),
    st.builds(
        lambda local, n, domain: f"{local}{n}@{domain}",
        st.sampled_from(LOCALS),
        st.sampled_from(("", "1", "2")),  # a shared email merges two people
        st.sampled_from(DOMAINS),
    ),
)
phones = st.one_of(st.none(), st.builds(lambda n: f"1587654{n:04d}", st.integers(0, 30)))
person = st.tuples(
    names, emails, phones, st.one_of(st.none(), st.sampled_from(COMPANIES)), st.integers(0, 3)
)
asked = st.tuples(
    st.sampled_from(QUERIES),
    st.sampled_from([f"{sign}{key}" for key in SORTS for sign in ("", "-")]),
    st.integers(1, 4),  # limit
    st.integers(0, 6),  # offset
    st.booleans(),  # known contacts only
    st.booleans(),  # and the tag need:evaluation
)
# (CANDIDATE_LIMIT, COUNT_LIMIT): every way a list, every way dense, and between.
LIMITS = [(5000, 10_000), (0, 1), (0, 2), (1, 3), (2, 2), (3, 6), (4, 1000)]


def _calls(people_: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    start = datetime(2026, 11, 1, tzinfo=UTC)
    calls: list[dict[str, Any]] = []
    for n, (name, email, phone, company, visits) in enumerate(people_):
        traits = {"name": name, "email": email, "phone": phone, "company": company}
        at = (start + timedelta(hours=n)).isoformat()
        known = {key: value for key, value in traits.items() if value is not None}
        calls.append({"type": "identify", "userId": f"u{n}", "traits": known, "timestamp": at})
        for visit in range(visits):
            event = "Demo Requested" if visit == 2 else "Page Viewed"
            later = (start + timedelta(hours=n, minutes=7 * visit + 1)).isoformat()
            calls.append({"type": "track", "userId": f"u{n}", "event": event, "timestamp": later})
    calls.append({"type": "track", "anonymousId": "visitor", "event": "Page Viewed"})
    return calls


def _prefix(column: Any, text: str) -> Any:
    return (column >= text) & (column < text + "\U0010ffff")


def _union_of_ways(session: Session, workspace_id: uuid.UUID, q: str) -> Select[Any]:
    """The search as one union of person ids, with nothing bounded: the meaning, read plainly."""
    text = people_search.tidy(q)
    lowered = text.lower()
    digits = "".join(ch for ch in lowered if ch.isdigit())

    def holders(id_type: str, start: str) -> Select[Any]:
        return select(Identifier.person_id).where(
            Identifier.workspace_id == workspace_id,
            Identifier.type == id_type,
            _prefix(Identifier.value, start),
        )

    if "@" in lowered:
        return holders("email", lowered)
    if len(digits) >= 3 and all(ch.isdigit() or ch in " +-().\u3000（）" for ch in lowered):
        if digits.startswith("86"):
            return holders("phone", "+" + digits)
        both = union(holders("phone", "+" + digits), holders("phone", "+86" + digits))
        return select(both.subquery().c[0])
    named = select(Person.id).where(Person.workspace_id == workspace_id)
    parts = [named.where(_prefix(name_key(), lowered)), holders("email", lowered)]
    if people_search.searches_inside_names(lowered):
        parts.append(named.where(name_key().contains(lowered, autoescape=True)))
    accounts = accounts_for_search(session, workspace_id, text, limit=200)
    parts.append(select(PersonAccount.person_id).where(PersonAccount.account_id.in_(accounts)))
    return select(union(*parts).subquery().c[0])


def _expected(
    session: Session, workspace_id: uuid.UUID, query: directory.PeopleQuery, page: PageQuery
) -> tuple[int, bool, list[int]]:
    matching = _union_of_ways(session, workspace_id, query.q or "")
    wanted = people(workspace_id).where(Person.id.in_(matching))
    if query.known:
        wanted = wanted.where(known_contact())
    if query.tag:
        tagged = select(PersonTag.person_id).where(PersonTag.tag == query.tag)
        wanted = wanted.where(Person.id.in_(tagged))
    descending, key = query.sort.startswith("-"), query.sort.lstrip("-")
    first = SORTS[key].desc() if descending else SORTS[key].asc()
    # Named people first either way, as the directory sorts names.
    order = [first.nulls_last() if key == "name" else first]
    order.append(Person.id.desc() if descending else Person.id.asc())
    total = count(session, wanted)
    ids = list(session.scalars(page.apply(wanted.with_only_columns(Person.id).order_by(*order))))
    limit = directory.COUNT_LIMIT
    return (total, True, ids) if total <= limit else (limit, False, ids)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    world=st.lists(person, min_size=1, max_size=14),
    questions=st.lists(asked, min_size=1, max_size=6),
    limits=st.sampled_from(LIMITS),
)
def test_the_search_read_way_by_way_answers_as_the_union_does(
    client: TestClient,
    monkeypatch: pytest.MonkeyPatch,
    world: list[tuple[Any, ...]],
    questions: list[tuple[Any, ...]],
    limits: tuple[int, int],
) -> None:
    with unit_of_work() as session:
        workspace = start_workspace(session, f"search-{uuid.uuid4().hex[:6]}")
    Tracker(client, workspace).batch(_calls(world))
    monkeypatch.setattr(directory, "CANDIDATE_LIMIT", limits[0])
    monkeypatch.setattr(directory, "COUNT_LIMIT", limits[1])
    ws = workspace.workspace_id
    for q, sort, limit, offset, known, tagged in questions:
        query = directory.PeopleQuery(
            q=q, sort=sort, known=known, tag="need:evaluation" if tagged else None
        )
        page = PageQuery(limit=limit, offset=offset)
        with read_only() as session:
            found = directory.search_people(session, ws, query, page)
            expected = _expected(session, ws, query, page)
        assert (found.total, found.total_exact, [row.id for row in found.items]) == expected, (
            q,
            sort,
            limit,
            offset,
            known,
            tagged,
        )
