"""Next best content: a person's picks are items of their stage and interests they have not
seen, each with its reasons; an account's picks leave out what any of its people saw; the
set-wise ``recommend`` gives each person what asking for them alone gives; on both
databases."""

import uuid

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadpond.content import recommend
from leadpond.content.schemas import ContentCreate
from leadpond.content.service import create
from leadpond.db.engine import read_only, unit_of_work
from leadpond.pipeline import worker
from leadpond.playbooks.service import start_workspace
from tests.conftest import Tracker
from tests.content.test_content_api import make


def _reader(track: Tracker, user_id: str, content_id: str, topic: str) -> int:
    track.identify(user_id, traits={"email": f"{user_id}@bank.cn", "company": "招商银行"})
    track.call(
        "track",
        {
            "userId": user_id,
            "event": "Content Viewed",
            "properties": {"content_id": content_id, "content_category": "product", "topic": topic},
        },
    )
    found = track.client.get("/api/v1/people", params={"q": f"{user_id}@bank.cn"}).json()
    return int(found["items"][0]["id"])


def test_picks_are_of_the_stage_and_interests_and_never_seen(
    api: TestClient, track: Tracker
) -> None:
    seen = make(api, key="seen-graph", type="case", topics=["graph_database"], stages=["awareness"])
    person = _reader(track, "u-1", str(seen["key"]), "graph_database")
    stage = api.get(f"/api/v1/people/{person}/stage").json()["stage"]
    assert stage
    make(api, key="graph-same-stage", type="case", topics=["graph_database"], stages=[stage])
    make(api, key="other-topic-same-stage", type="tips", topics=["bi"], stages=[stage])
    make(
        api,
        key="graph-other-stage",
        type="whitepaper",
        topics=["graph_database"],
        stages=["advocate"],
    )
    make(api, key="nothing-in-common", type="tips", topics=["bi"], stages=["advocate"])
    make(
        api,
        key="graph-draft",
        type="case",
        topics=["graph_database"],
        stages=[stage],
        status="draft",
    )
    answer = api.get(f"/api/v1/people/{person}/recommendations", params={"limit": 10})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["stage"] == stage and "graph_database" in body["interests"]
    picked = [i["key"] for i in body["items"]]
    assert picked == ["graph-same-stage", "other-topic-same-stage", "graph-other-stage"]
    first = body["items"][0]
    assert {(r["code"], r["value"]) for r in first["reasons"]} == {
        ("stage", stage),
        ("interest", "graph_database"),
    }
    assert all(r["text"] for r in first["reasons"])
    missing = api.get("/api/v1/people/99999999/recommendations")
    assert missing.status_code == 404


def test_an_accounts_picks_leave_out_what_any_of_its_people_saw(
    api: TestClient, track: Tracker
) -> None:
    read_a = make(
        api, key="read-by-a", type="case", topics=["graph_database"], stages=["awareness"]
    )
    read_b = make(
        api, key="read-by-b", type="case", topics=["graph_database"], stages=["awareness"]
    )
    make(api, key="unread", type="case", topics=["graph_database"], stages=["awareness"])
    _reader(track, "a-1", str(read_a["key"]), "graph_database")
    person = _reader(track, "a-2", str(read_b["key"]), "graph_database")
    account_id = api.get(f"/api/v1/people/{person}/accounts").json()["items"][0]["account_id"]
    answer = api.get(f"/api/v1/accounts/{account_id}/recommendations").json()
    assert [i["key"] for i in answer["items"]] == ["unread"]


STAGES = ("awareness", "visit", "registered", "engaged")
TOPICS = ("graph_database", "bi", "ai")


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    items=st.lists(
        st.tuples(
            st.sets(st.sampled_from(STAGES), max_size=2),
            st.sets(st.sampled_from(TOPICS), max_size=2),
        ),
        min_size=1,
        max_size=6,
    ),
    readers=st.lists(st.tuples(st.sampled_from(TOPICS), st.integers(0, 5)), min_size=1, max_size=4),
)
def test_set_wise_picks_equal_one_person_at_a_time(
    client: TestClient, items: list[tuple[set[str], set[str]]], readers: list[tuple[str, int]]
) -> None:
    with unit_of_work() as session:
        workspace = start_workspace(session, f"rec-{uuid.uuid4().hex[:8]}")
        made = [
            create(
                session,
                workspace.workspace_id,
                ContentCreate(
                    title=f"item {n}",
                    type="case",
                    key=f"item-{n}",
                    status="published",
                    stages=sorted(stages),
                    topics=sorted(topics),
                ),
                "test",
            ).key
            for n, (stages, topics) in enumerate(items)
        ]
    client.headers["Authorization"] = f"Bearer {workspace.api_key}"
    track = Tracker(client, workspace)
    people = [
        _reader(track, f"r-{n}", made[seen % len(made)], topic)
        for n, (topic, seen) in enumerate(readers)
    ]
    worker.drain()
    with read_only() as session:
        together = recommend.recommend(session, workspace.workspace_id, people, limit=10)
        for person in people:
            [(alone_id, alone)] = recommend.recommend(
                session, workspace.workspace_id, [person], 10
            ).items()
            assert alone_id == person
            assert [(p.item.key, p.score, p.reasons) for p in together[person]] == [
                (p.item.key, p.score, p.reasons) for p in alone
            ]
            profile = recommend.profile_of(session, workspace.workspace_id, person)
            assert not {p.item.key for p in alone} & profile.seen
