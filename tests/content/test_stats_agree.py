"""The item stats' SQL (views, unique readers, per channel) agrees with counting the recorded
views one by one in Python, whatever the readers and channels; on both databases."""

import uuid
from collections import Counter, defaultdict
from urllib.parse import urlsplit

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from leadpond.db.engine import read_only, unit_of_work
from leadpond.ingest.models import Event
from leadpond.kit.scope import owned
from leadpond.pipeline import worker
from leadpond.playbooks.service import start_workspace

CHANNELS = ("wechat-group:a", "wechat-group:b", "poster", "")


@settings(
    max_examples=4,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(views=st.lists(st.tuples(st.integers(0, 3), st.sampled_from(CHANNELS)), max_size=6))
def test_the_stats_equal_a_recount_of_the_views(
    client: TestClient, views: list[tuple[int, str]]
) -> None:
    with unit_of_work() as session:
        workspace = start_workspace(session, f"stats-{uuid.uuid4().hex[:8]}")
    client.headers["Authorization"] = f"Bearer {workspace.api_key}"
    item = client.post(
        "/api/v1/content", json={"title": "t", "type": "case", "status": "published"}
    ).json()
    path = urlsplit(item["viewer_url"]).path
    readers = [str(uuid.uuid4()) for _ in range(4)]
    for reader, channel in views:
        client.cookies.clear()  # the page's own Set-Cookie would shadow the next reader's
        client.cookies.set("lp_aid", readers[reader])
        answer = client.get(path, params={"ch": channel} if channel else {})
        assert answer.status_code == 200
    client.cookies.clear()
    worker.drain()
    stats = client.get(f"/api/v1/content/{item['id']}/stats").json()
    with read_only() as session:
        rows = list(
            session.execute(
                select(Event.person_id, Event.payload).where(
                    owned(Event, workspace.workspace_id), Event.event == "Content Viewed"
                )
            )
        )
    by_channel: dict[str, set[int]] = defaultdict(set)
    count: Counter[str] = Counter()
    for person, payload in rows:
        channel = payload["properties"].get("channel")
        if channel:
            count[channel] += 1
            by_channel[channel].add(person)
    assert stats["views"] == len(rows) == len(views)
    assert stats["readers"] == len({p for p, _ in rows}) == len({r for r, _ in views})
    assert {c["key"]: (c["views"], c["readers"]) for c in stats["by_channel"]} == {
        k: (count[k], len(by_channel[k])) for k in count
    }
