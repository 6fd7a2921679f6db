"""The workspace's settings over HTTP: name and time zone, and its keys issued once, listed by
prefix and revoked — a revoked write key stops sending events at once (both databases)."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient

from leadpond.console.pages.frame import when, zone_label
from leadpond.workspaces.service import NewWorkspace


def test_the_time_zone_is_an_iana_name_and_a_bad_one_changes_nothing(api: TestClient) -> None:
    shown = api.get("/api/v1/workspace").json()
    assert shown["time_zone"] == "Asia/Shanghai"  # where our marketers are, by default
    moved = api.put("/api/v1/workspace", json={"time_zone": "Europe/Berlin", "name": "Acme 市场部"})
    assert moved.status_code == 200
    assert (moved.json()["time_zone"], moved.json()["name"]) == ("Europe/Berlin", "Acme 市场部")
    for bad in ({"time_zone": "Beijing"}, {"time_zone": "UTC+8"}, {"name": "  "}):
        refused = api.put("/api/v1/workspace", json={**bad, "time_zone": bad.get("time_zone")})
        assert refused.status_code == 400, bad
        assert refused.json()["code"] == "invalid_input"
    assert api.get("/api/v1/workspace").json()["time_zone"] == "Europe/Berlin"
    assert api.get("/api/v1/workspace").json()["name"] == "Acme 市场部"


def test_a_new_write_key_sends_until_it_is_revoked(
    api: TestClient, client: TestClient, workspace: NewWorkspace
) -> None:
    issued = api.post("/api/v1/workspace/keys", json={"kind": "write", "name": "website"})
    assert issued.status_code == 201
    secret = issued.json()["secret"]
    assert secret.startswith("wk_") and issued.json()["prefix"] == secret[:10]
    listed = api.get("/api/v1/workspace/keys").json()["items"]
    assert listed[0]["name"] == "website"
    assert all("secret" not in k for k in listed)
    event = {"event": "Page Viewed", "userId": "u1", "writeKey": secret}
    assert client.post("/v1/track", json=event).status_code == 200
    revoked = api.delete(f"/api/v1/workspace/keys/{issued.json()['id']}")
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    assert client.post("/v1/track", json=event).status_code == 401


def test_the_key_a_request_is_made_with_cannot_revoke_itself(
    api: TestClient, workspace: NewWorkspace
) -> None:
    mine = next(
        k
        for k in api.get("/api/v1/workspace/keys").json()["items"]
        if workspace.api_key.startswith(k["prefix"]) and k["kind"] == "api"
    )
    refused = api.delete(f"/api/v1/workspace/keys/{mine['id']}")
    assert refused.status_code == 409 and refused.json()["code"] == "key_in_use"
    assert api.get("/api/v1/workspace").status_code == 200  # still works
    assert api.delete("/api/v1/workspace/keys/999999999").json()["code"] == "key_not_found"


def test_console_times_are_in_the_zone_the_header_names() -> None:
    stored = datetime(2026, 12, 7, 10, 7)  # naive UTC, as stored
    assert when(stored, ZoneInfo("Asia/Shanghai")) == "2026-12-07 18:07"
    assert when(stored, ZoneInfo("UTC")) == "2026-12-07 10:07"
    assert when(None, ZoneInfo("UTC")) == "–"
    summer = datetime(2026, 7, 1, tzinfo=UTC)
    assert zone_label(ZoneInfo("Asia/Shanghai"), summer) == "Asia/Shanghai (UTC+08:00)"
    assert zone_label(ZoneInfo("Europe/Berlin"), summer) == "Europe/Berlin (UTC+02:00)"
