"""How a person came: the channel group of their first touch, kept through late events, merges
and unmerges, and what the dashboard's new people per channel read."""

import uuid
from datetime import datetime

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from leadpond.db import migrate
from tests.conftest import Tracker

BEFORE_FIRST_CHANNEL = "20261203_0950"


def _person(api: TestClient, **query: str) -> dict:  # type: ignore[type-arg]
    items = api.get("/api/v1/people", params=query).json()["items"]
    assert len(items) == 1, items
    return items[0]  # type: ignore[no-any-return]


def _campaign(source: str, medium: str = "organic") -> dict:  # type: ignore[type-arg]
    return {"campaign": {"source": source, "medium": medium, "name": "q4"}}


def test_the_first_event_names_the_channel_even_when_it_arrives_late(
    api: TestClient, track: Tracker
) -> None:
    track.call(
        "page",
        {
            "anonymousId": "v1",
            "name": "Pricing",
            "timestamp": "2026-06-02T08:00:00Z",
            "context": _campaign("baidu"),
        },
    )
    assert _person(api, anonymous_id="v1")["first_channel"] == "search"
    # A later visit from elsewhere does not change how they came, only the last touch...
    track.call(
        "page",
        {"anonymousId": "v1", "timestamp": "2026-06-05T08:00:00Z", "context": _campaign("zhihu")},
    )
    person = _person(api, anonymous_id="v1")
    assert person["first_channel"] == "search"
    assert (person["last_touch"]["group"], person["last_touch"]["source"]) == ("social", "zhihu")
    # ...an older marked visit arriving late does; an older server-side event says nothing
    # about how they came (it moves first_seen_at only).
    track.track("Whitepaper Downloaded", anonymousId="v1", timestamp="2026-05-30T08:00:00Z")
    person = _person(api, anonymous_id="v1")
    assert (person["first_channel"], person["first_seen_at"]) == ("search", "2026-05-30T08:00:00Z")
    track.call(
        "page",
        {
            "anonymousId": "v1",
            "timestamp": "2026-05-31T08:00:00Z",
            "context": _campaign("newsletter", "email"),
        },
    )
    first = _person(api, anonymous_id="v1")["first_touch"]
    assert (first["group"], first["source"], first["medium"], first["campaign"]) == (
        "email",
        "newsletter",
        "email",
        "q4",
    )


def test_a_merge_keeps_the_channel_of_whoever_came_first_and_an_unmerge_restores_both(
    api: TestClient, track: Tracker
) -> None:
    # The web visitor is known first (the survivor), the WeChat follower's history is older.
    track.identify(
        traits={"email": "zhou@acme.cn"},
        anonymousId="web",
        timestamp="2026-04-01T00:00:00Z",
        context=_campaign("baidu"),
    )
    track.identify(
        traits={"phone": "13700002222"},
        anonymousId="wx",
        timestamp="2026-03-01T00:00:00Z",
        context=_campaign("wechat"),
    )
    track.identify(
        traits={"email": "zhou@acme.cn", "phone": "13700002222"},
        anonymousId="form",
        timestamp="2026-05-01T00:00:00Z",
    )
    merged = _person(api, email="zhou@acme.cn")
    assert merged["first_channel"] == "wechat"
    assert merged["last_touch"]["group"] == "search"
    undone = api.post(
        f"/api/v1/people/{merged['id']}/unmerge",
        json={"identifier": {"type": "phone", "value": "13700002222"}},
    )
    assert undone.status_code == 200, undone.text
    assert _person(api, anonymous_id="wx")["first_channel"] == "wechat"
    assert _person(api, anonymous_id="web")["first_channel"] == "search"


def test_the_dashboard_counts_new_people_per_channel_and_day(
    api: TestClient, track: Tracker
) -> None:
    for n, (source, day) in enumerate(
        [("baidu", "2026-06-01"), ("baidu", "2026-06-01"), ("wechat", "2026-06-02")]
    ):
        track.call(
            "page",
            {"anonymousId": f"a{n}", "timestamp": f"{day}T09:00:00Z", "context": _campaign(source)},
        )
    track.track("Signed Up", "u9", timestamp="2026-06-02T10:00:00Z")
    board = api.get("/api/v1/dashboard", params={"start": "2026-06-01", "end": "2026-06-30"})
    assert board.json()["new_people"] == {
        "search": {"2026-06-01": 2},
        "wechat": {"2026-06-02": 1},
        # A server-side event with no campaign says only its ingestion path.
        "other": {"2026-06-02": 1},
    }
    assert board.json()["channel_labels"]["search"] == {"zh": "搜索", "en": "Search"}


def test_the_migration_names_the_channel_of_people_created_before_it(
    empty_database: str,
) -> None:
    migrate.upgrade(empty_database, revision=BEFORE_FIRST_CHANNEL)
    postgres = empty_database.startswith("postgresql")
    engine = create_engine(empty_database)
    ws = uuid.uuid4()
    ws_value = str(ws) if postgres else ws.hex
    old = datetime(2026, 1, 1)
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO workspace (id, name, created_at) VALUES (:id, 'old', :at)"),
            {"id": ws_value, "at": old},
        )
        for pid, first in ((1, datetime(2026, 3, 1)), (2, datetime(2026, 3, 5)), (3, None)):
            connection.execute(
                text(
                    "INSERT INTO person (id, workspace_id, traits, trait_times, first_seen_at,"
                    " event_count, created_at, updated_at)"
                    " VALUES (:id, :ws, '{}', '{}', :first, 0, :at, :at)"
                ),
                {"id": pid, "ws": ws_value, "first": first, "at": old},
            )
        events = [
            # (message id, person, time, source, payload)
            ("a", 1, datetime(2026, 3, 2), "api", '{"context": {"campaign": {"source": "x"}}}'),
            ("b", 1, datetime(2026, 3, 1), "api", '{"context": {"campaign": {"source": "baidu"}}}'),
            ("c", 2, datetime(2026, 3, 5), "derived", "{}"),
            ("d", 2, datetime(2026, 3, 5), "import", '{"context": {"campaign": {"source": " "}}}'),
        ]
        for message_id, pid, at, source, payload in events:
            connection.execute(
                text(
                    "INSERT INTO event (workspace_id, message_id, type, timestamp, received_at,"
                    " source, payload, person_id, processed_at) VALUES (:ws, :m, 'track', :at,"
                    f" :at, :source, {'CAST(:payload AS JSONB)' if postgres else ':payload'},"
                    " :pid, :at)"
                ),
                {
                    "ws": ws_value,
                    "m": message_id,
                    "at": at,
                    "source": source,
                    "payload": payload,
                    "pid": pid,
                },
            )
    migrate.upgrade(empty_database)
    with engine.connect() as connection:
        found = dict(connection.execute(text("SELECT id, first_channel FROM person")).all())
    engine.dispose()
    # baidu is a search engine; a blank UTM source is no campaign: the import path.
    assert found == {1: "search", 2: "import", 3: None}
