"""The people API: find a person by any identifier, read the profile, read the timeline."""

from typing import Any

from fastapi.testclient import TestClient

from leadpond.db.engine import unit_of_work
from leadpond.playbooks.service import start_workspace
from tests.conftest import Tracker


def _only_person(api: TestClient, **query: str) -> dict[str, Any]:
    page = api.get("/api/v1/people", params=query)
    assert page.status_code == 200, page.text
    body = page.json()
    assert sorted(body) == ["items", "total"]
    assert body["total"] == 1 and len(body["items"]) == 1, body
    person: dict[str, Any] = body["items"][0]
    return person


def test_a_person_is_found_by_user_id_anonymous_id_and_email(
    api: TestClient, track: Tracker
) -> None:
    track.identify(
        "u-42",
        traits={"email": "Li.Lei@Acme.cn", "name": "李雷", "company": "艾克米"},
        anonymousId="anon-42",
    )
    by_user = _only_person(api, user_id="u-42")
    assert _only_person(api, anonymous_id="anon-42")["id"] == by_user["id"]
    assert _only_person(api, email="  LI.LEI@acme.CN ")["id"] == by_user["id"]
    assert by_user["traits"] == {"email": "Li.Lei@Acme.cn", "name": "李雷", "company": "艾克米"}
    assert {(i["type"], i["value"]) for i in by_user["identifiers"]} >= {
        ("user_id", "u-42"),
        ("anonymous_id", "anon-42"),
        ("email", "li.lei@acme.cn"),
    }
    assert by_user["event_count"] == 1


def test_unknown_identifiers_find_nobody(api: TestClient, track: Tracker) -> None:
    track.identify("u-1", traits={"email": "a@acme.cn"})
    for query in ({"user_id": "u-2"}, {"anonymous_id": "u-1"}, {"email": "b@acme.cn"}):
        assert api.get("/api/v1/people", params=query).json() == {"total": 0, "items": []}
    both = api.get("/api/v1/people", params={"user_id": "u-1", "email": "b@acme.cn"})
    assert both.json()["total"] == 0


def test_the_list_pages_with_limit_and_offset(api: TestClient, track: Tracker) -> None:
    track.batch([{"type": "identify", "userId": f"u{n}", "traits": {}} for n in range(5)])
    first = api.get("/api/v1/people", params={"limit": 2}).json()
    rest = api.get("/api/v1/people", params={"limit": 10, "offset": 2}).json()
    assert first["total"] == rest["total"] == 5
    assert len(first["items"]) == 2 and len(rest["items"]) == 3
    ids = [p["id"] for p in first["items"] + rest["items"]]
    assert len(set(ids)) == 5
    too_many = api.get("/api/v1/people", params={"limit": 5000})
    assert too_many.status_code == 422
    assert too_many.json()["code"] == "invalid_request"


def test_read_one_person(api: TestClient, track: Tracker) -> None:
    track.identify("u-7", traits={"title": "采购总监"}, timestamp="2026-03-01T08:00:00Z")
    track.track("Demo Requested", "u-7", timestamp="2026-03-02T08:00:00Z")
    found = _only_person(api, user_id="u-7")
    person = api.get(f"/api/v1/people/{found['id']}")
    assert person.status_code == 200
    assert person.json() == found
    assert person.json()["traits"] == {"title": "采购总监"}
    assert person.json()["event_count"] == 2
    assert person.json()["first_seen_at"].startswith("2026-03-01T08:00:00")
    assert person.json()["last_seen_at"].startswith("2026-03-02T08:00:00")


def test_the_timeline_is_newest_first_by_event_time_not_arrival(
    api: TestClient, track: Tracker
) -> None:
    track.batch(
        [
            {
                "type": "track",
                "userId": "u-9",
                "event": "Second",
                "timestamp": "2026-03-02T00:00:00Z",
            },
            {
                "type": "track",
                "userId": "u-9",
                "event": "Third",
                "timestamp": "2026-03-03T00:00:00Z",
            },
            {
                "type": "track",
                "userId": "u-9",
                "event": "First",
                "timestamp": "2026-03-01T00:00:00Z",
            },
        ]
    )
    track.track("Fourth", "u-9", properties={"页面": "定价"}, timestamp="2026-03-04T00:00:00Z")
    person_id = _only_person(api, user_id="u-9")["id"]
    timeline = api.get(f"/api/v1/people/{person_id}/timeline").json()
    assert timeline["total"] == 4
    assert [e["event"] for e in timeline["items"]] == ["Fourth", "Third", "Second", "First"]
    assert timeline["items"][0]["properties"] == {"页面": "定价"}
    page = api.get(f"/api/v1/people/{person_id}/timeline", params={"limit": 2, "offset": 1})
    assert [e["event"] for e in page.json()["items"]] == ["Third", "Second"]


def test_an_unknown_person_is_a_404_with_a_code(api: TestClient) -> None:
    for path in ("/api/v1/people/987654321", "/api/v1/people/987654321/timeline"):
        response = api.get(path)
        assert response.status_code == 404
        assert response.json()["code"] == "person_not_found"
        assert "987654321" in response.json()["message"]


def test_another_workspaces_person_is_a_404(api: TestClient, track: Tracker) -> None:
    track.identify("u-secret", traits={"name": "王芳"})
    theirs = _only_person(api, user_id="u-secret")["id"]
    with unit_of_work() as session:
        other = start_workspace(session, "other")
    as_other = {"Authorization": f"Bearer {other.api_key}"}
    for path in (f"/api/v1/people/{theirs}", f"/api/v1/people/{theirs}/timeline"):
        response = api.get(path, headers=as_other)
        assert response.status_code == 404
        assert response.json()["code"] == "person_not_found"
    listed = api.get("/api/v1/people", params={"user_id": "u-secret"}, headers=as_other)
    assert listed.json() == {"total": 0, "items": []}


def test_the_people_api_needs_an_api_key(client: TestClient, track: Tracker) -> None:
    track.identify("u-1")
    for path in ("/api/v1/people", "/api/v1/people/1", "/api/v1/people/1/timeline"):
        response = client.get(path)
        assert response.status_code == 401
        assert response.json()["code"] == "unauthorized"
