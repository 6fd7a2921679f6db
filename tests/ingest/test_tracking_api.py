"""The Segment HTTP Tracking API, as Segment documents it."""

import base64
import gzip
from datetime import UTC, datetime, timedelta

import orjson
from fastapi.testclient import TestClient
from sqlalchemy import select

from leadpond.db.engine import read_only
from leadpond.ingest.models import Event
from leadpond.workspaces.service import NewWorkspace
from tests.conftest import Tracker


def _events(workspace: NewWorkspace) -> list[Event]:
    with read_only() as session:
        return list(
            session.scalars(
                select(Event).where(Event.workspace_id == workspace.workspace_id).order_by(Event.id)
            )
        )


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def test_every_call_type_is_accepted_and_stored(track: Tracker, workspace: NewWorkspace) -> None:
    track.call("identify", {"userId": "u1", "traits": {"email": "a@acme.cn"}}, drain=False)
    track.call("track", {"userId": "u1", "event": "Trial Requested"}, drain=False)
    track.call("page", {"anonymousId": "a1", "name": "Pricing"}, drain=False)
    track.call("screen", {"anonymousId": "a1", "name": "Home"}, drain=False)
    track.call(
        "group", {"userId": "u1", "groupId": "acme", "traits": {"name": "Acme"}}, drain=False
    )
    track.call("alias", {"userId": "u1", "previousId": "a1"}, drain=False)
    stored = _events(workspace)
    assert [e.type for e in stored] == ["identify", "track", "page", "screen", "group", "alias"]
    assert stored[1].event == "Trial Requested"
    assert stored[2].event == "Pricing"
    assert stored[4].group_id == "acme"
    assert all(e.processed_at is None for e in stored)


def test_write_key_in_body_works_like_basic_auth(
    client: TestClient, workspace: NewWorkspace
) -> None:
    response = client.post(
        "/v1/track", json={"writeKey": workspace.write_key, "userId": "u1", "event": "Signed Up"}
    )
    assert response.status_code == 200
    assert response.json()["success"] is True
    stored = _events(workspace)
    assert len(stored) == 1
    assert "writeKey" not in stored[0].payload


def test_missing_or_wrong_key_is_401_and_stores_nothing(
    client: TestClient, workspace: NewWorkspace
) -> None:
    missing = client.post("/v1/track", json={"userId": "u1", "event": "X"})
    wrong = client.post(
        "/v1/track",
        json={"userId": "u1", "event": "X"},
        headers={"Authorization": "Basic " + base64.b64encode(b"wk_nope:").decode()},
    )
    assert (missing.status_code, missing.json()["code"]) == (401, "unauthorized")
    assert (wrong.status_code, wrong.json()["code"]) == (401, "unauthorized")
    assert _events(workspace) == []


def test_api_key_is_not_a_write_key(client: TestClient, workspace: NewWorkspace) -> None:
    response = client.post(
        "/v1/track", json={"writeKey": workspace.api_key, "userId": "u1", "event": "X"}
    )
    assert response.status_code == 401


def test_gzip_body_is_accepted(track: Tracker, client: TestClient, workspace: NewWorkspace) -> None:
    body = gzip.compress(
        orjson.dumps({"batch": [{"type": "track", "userId": "u1", "event": "Gzipped"}]})
    )
    response = client.post(
        "/v1/batch",
        content=body,
        headers={
            **track.auth_header,
            "Content-Encoding": "gzip",
            "Content-Type": "application/json",
        },
    )
    assert response.status_code == 200, response.text
    assert [e.event for e in _events(workspace)] == ["Gzipped"]


def test_message_id_is_deduplicated_per_workspace(track: Tracker, workspace: NewWorkspace) -> None:
    message = {"type": "track", "userId": "u1", "event": "Once", "messageId": "m-1"}
    first = track.batch([message, message], drain=False)
    second = track.batch([message], drain=False)
    assert first.json()["duplicates"] == 1
    assert second.json()["duplicates"] == 1
    assert len(_events(workspace)) == 1


def test_same_message_id_in_two_workspaces_is_two_events(
    client: TestClient, track: Tracker, workspace: NewWorkspace
) -> None:
    from leadpond.db.engine import unit_of_work
    from leadpond.playbooks.service import start_workspace

    with unit_of_work() as session:
        other = start_workspace(session, "other")
    message = {"userId": "u1", "event": "Shared", "messageId": "same"}
    track.call("track", message, drain=False)
    response = client.post("/v1/track", json={**message, "writeKey": other.write_key})
    assert response.status_code == 200
    assert response.json().get("duplicates") is None
    assert len(_events(workspace)) == 1
    assert len(_events(other)) == 1


def test_timestamp_is_corrected_for_client_clock_skew(
    track: Tracker, workspace: NewWorkspace
) -> None:
    # The client's clock runs one hour fast: the event happened 10 s before it was sent.
    client_now = datetime.now(UTC) + timedelta(hours=1)
    track.call(
        "track",
        {
            "userId": "u1",
            "event": "Skewed",
            "timestamp": _iso(client_now - timedelta(seconds=10)),
            "sentAt": _iso(client_now),
        },
        drain=False,
    )
    stored = _events(workspace)[0]
    assert abs((stored.received_at - stored.timestamp).total_seconds() - 10) < 1
    assert stored.payload["originalTimestamp"].startswith(str(client_now.year))


def test_timestamp_without_sent_at_is_kept(track: Tracker, workspace: NewWorkspace) -> None:
    track.call(
        "track", {"userId": "u1", "event": "Old", "timestamp": "2025-01-02T03:04:05Z"}, drain=False
    )
    assert _events(workspace)[0].timestamp == datetime(2025, 1, 2, 3, 4, 5)


def test_batch_context_and_integrations_merge_into_each_item(
    track: Tracker, workspace: NewWorkspace
) -> None:
    track.batch(
        [
            {"type": "track", "userId": "u1", "event": "A"},
            {
                "type": "track",
                "userId": "u1",
                "event": "B",
                "context": {"locale": "en-US", "page": {"path": "/b"}},
            },
        ],
        context={"locale": "zh-CN", "library": {"name": "analytics-python"}},
        integrations={"All": True},
        drain=False,
    )
    first, second = _events(workspace)
    assert first.payload["context"] == {"locale": "zh-CN", "library": {"name": "analytics-python"}}
    assert second.payload["context"]["locale"] == "en-US"
    assert second.payload["context"]["library"] == {"name": "analytics-python"}
    assert second.payload["integrations"] == {"All": True}


def test_identify_traits_may_come_from_context(track: Tracker, workspace: NewWorkspace) -> None:
    track.call(
        "identify", {"userId": "u1", "context": {"traits": {"email": "x@acme.cn"}}}, drain=False
    )
    assert _events(workspace)[0].payload["traits"] == {"email": "x@acme.cn"}


def test_json_nulls_are_tolerated(track: Tracker, workspace: NewWorkspace) -> None:
    track.call(
        "track",
        {
            "userId": "u1",
            "anonymousId": None,
            "event": "Nulls",
            "properties": None,
            "context": None,
            "traits": None,
        },
        drain=False,
    )
    stored = _events(workspace)[0]
    assert stored.anonymous_id is None
    assert "properties" not in stored.payload


def test_context_group_id_and_external_ids_are_kept(
    track: Tracker, workspace: NewWorkspace
) -> None:
    external = [{"id": "o-123", "type": "wechat_openid", "collection": "users", "encoding": "none"}]
    track.call(
        "track",
        {"userId": "u1", "event": "X", "context": {"groupId": "acme", "externalIds": external}},
        drain=False,
    )
    stored = _events(workspace)[0]
    assert stored.group_id == "acme"
    assert stored.payload["context"]["externalIds"] == external


def test_batch_keeps_valid_events_and_reports_rejected(
    track: Tracker, workspace: NewWorkspace
) -> None:
    response = track.batch(
        [
            {"type": "track", "userId": "u1", "event": "Good"},
            {"type": "track", "userId": "u1"},
            {"type": "nonsense", "userId": "u1"},
            {"type": "identify"},
            "not an object",
            {"type": "group", "userId": "u1"},
            {"type": "alias", "userId": "u1"},
            {"type": "page", "anonymousId": "a1"},
        ],
        drain=False,
    )
    body = response.json()
    assert body["accepted"] == 2
    assert [r["index"] for r in body["rejected"]] == [1, 2, 3, 4, 5, 6]
    assert {r["code"] for r in body["rejected"]} >= {
        "missing_field",
        "invalid_type",
        "invalid_message",
    }
    assert [e.type for e in _events(workspace)] == ["track", "page"]


def test_only_invalid_events_is_400(
    client: TestClient, track: Tracker, workspace: NewWorkspace
) -> None:
    response = client.post("/v1/track", json={"userId": "u1"}, headers=track.auth_header)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_input"
    assert _events(workspace) == []


def test_malformed_json_is_400(client: TestClient, track: Tracker) -> None:
    response = client.post("/v1/batch", content=b"{not json", headers=track.auth_header)
    assert response.status_code == 400
    assert set(response.json()) >= {"code", "message"}


def test_event_over_32kb_is_rejected_alone(track: Tracker, workspace: NewWorkspace) -> None:
    response = track.batch(
        [
            {"type": "track", "userId": "u1", "event": "Big", "properties": {"blob": "x" * 33_000}},
            {"type": "track", "userId": "u1", "event": "Small"},
        ],
        drain=False,
    )
    assert response.json()["rejected"][0]["code"] == "event_too_large"
    assert [e.event for e in _events(workspace)] == ["Small"]


def test_request_over_500kb_is_413(
    client: TestClient, track: Tracker, workspace: NewWorkspace
) -> None:
    batch = [
        {"type": "track", "userId": "u1", "event": "E", "properties": {"p": "x" * 20_000}}
        for _ in range(30)
    ]
    response = client.post("/v1/batch", json={"batch": batch}, headers=track.auth_header)
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    assert _events(workspace) == []


def test_gzip_bomb_is_413(client: TestClient, track: Tracker) -> None:
    body = gzip.compress(b'{"batch": [' + b" " * 2_000_000 + b"]}")
    response = client.post(
        "/v1/batch", content=body, headers={**track.auth_header, "Content-Encoding": "gzip"}
    )
    assert response.status_code == 413


def test_batch_over_2500_events_is_413(
    client: TestClient, track: Tracker, workspace: NewWorkspace
) -> None:
    batch = [{"type": "track", "userId": "u", "event": "E"} for _ in range(2501)]
    response = client.post("/v1/batch", json={"batch": batch}, headers=track.auth_header)
    assert response.status_code == 413
    assert _events(workspace) == []


def test_rate_limit_answers_429_with_retry_after(
    client: TestClient, track: Tracker, workspace: NewWorkspace, monkeypatch: object
) -> None:
    import pytest

    from leadpond.config import get_settings

    mp = pytest.MonkeyPatch()
    try:
        mp.setenv("LEADPOND_INGEST_RATE_LIMIT_PER_S", "1")
        mp.setenv("LEADPOND_INGEST_RATE_BURST", "2")
        get_settings.cache_clear()
        batch = [{"type": "track", "userId": "u", "event": "E"} for _ in range(2)]
        assert (
            client.post("/v1/batch", json={"batch": batch}, headers=track.auth_header).status_code
            == 200
        )
        limited = client.post("/v1/batch", json={"batch": batch}, headers=track.auth_header)
        assert limited.status_code == 429
        assert limited.json()["code"] == "rate_limited"
        assert int(limited.headers["Retry-After"]) >= 1
        assert len(_events(workspace)) == 2
    finally:
        mp.undo()
        get_settings.cache_clear()


def test_browser_short_paths_and_preflight(
    client: TestClient, track: Tracker, workspace: NewWorkspace
) -> None:
    preflight = client.options(
        "/v1/t",
        headers={
            "Origin": "https://www.acme.cn",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,authorization,x-retry-count",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] in ("*", "https://www.acme.cn")
    response = client.post(
        "/v1/t",
        content=orjson.dumps({"userId": "u1", "event": "Browser"}),
        headers={
            **track.auth_header,
            "Content-Type": "text/plain",
            "Origin": "https://www.acme.cn",
        },
    )
    assert response.status_code == 200
    assert [e.event for e in _events(workspace)] == ["Browser"]


def test_browser_settings_point_back_at_this_host(
    client: TestClient, workspace: NewWorkspace
) -> None:
    response = client.get(f"/v1/projects/{workspace.write_key}/settings")
    assert response.status_code == 200
    assert response.json()["integrations"]["Segment.io"]["apiHost"].endswith("/v1")
    assert client.get("/v1/projects/wk_unknown/settings").status_code == 401
