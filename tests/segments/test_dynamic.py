"""Dynamic segments: defined through the API, kept live by the pipeline, explained."""

from fastapi.testclient import TestClient

from tests.conftest import Tracker
from tests.segments.helpers import ago, create, member_ids, person_id, segment

READERS = """
all:
  - {event: Content Viewed, where: {topic: graph-db}, count: {gte: 2}, within: 90d}
  - {trait: industry, eq: bank}
"""


def test_people_enter_when_they_qualify_and_the_entry_is_on_their_timeline(
    track: Tracker, api: TestClient
) -> None:
    track.identify("u1", traits={"email": "li@bank.cn", "industry": "bank"}, timestamp=ago(3))
    track.identify("u2", traits={"email": "wang@shop.cn", "industry": "retail"}, timestamp=ago(3))
    created = create(api, key="graph-readers", name="读图数据库的银行客户", condition=READERS)
    assert created["count"] == 0 and created["last_built_at"] is not None
    for user in ("u1", "u2"):
        for day in (2, 1):
            track.track("Content Viewed", user, {"topic": "graph-db"}, timestamp=ago(day))
    u1 = person_id(api, "u1")
    assert member_ids(api, "graph-readers") == {u1}
    assert segment(api, created["id"])["count"] == 1
    timeline = api.get(f"/api/v1/people/{u1}/timeline").json()["items"]
    entered = [e for e in timeline if e["event"] == "Segment Entered"]
    assert len(entered) == 1
    assert entered[0]["source"] == "derived"
    assert entered[0]["properties"]["segment"] == "graph-readers"
    assert "Content Viewed" in entered[0]["properties"]["reason"]
    history = api.get("/api/v1/segments/graph-readers/history").json()["items"]
    assert [(h["member_id"], h["change"]) for h in history] == [(u1, "entered")]


def test_a_trait_change_makes_a_person_leave_with_a_reason(track: Tracker, api: TestClient) -> None:
    track.identify("u1", traits={"industry": "bank"}, timestamp=ago(5))
    create(api, key="banks", condition={"trait": "industry", "eq": "bank"})
    u1 = person_id(api, "u1")
    assert member_ids(api, "banks") == {u1}
    track.identify("u1", traits={"industry": "insurance"}, timestamp=ago(1))
    assert member_ids(api, "banks") == set()
    history = api.get("/api/v1/segments/banks/history").json()["items"]
    assert [h["change"] for h in history] == ["exited", "entered"]
    assert history[1]["reason"] == "segment created"
    assert "Identify" in history[0]["reason"]


def test_tags_and_stages_from_the_playbook_move_people(track: Tracker, api: TestClient) -> None:
    create(api, key="evaluating", condition={"tag": "need:evaluation"})
    track.track("Trial Requested", "u1", {}, timestamp=ago(1))
    assert member_ids(api, "evaluating") == {person_id(api, "u1")}


def test_a_stage_typed_by_its_display_name_means_its_key(track: Tracker, api: TestClient) -> None:
    track.track("Trial Requested", "u1", {}, timestamp=ago(1))
    u1 = person_id(api, "u1")
    by_key = api.post("/api/v1/segments:preview", json={"condition": {"stage": "opportunity"}})
    assert by_key.json()["count"] == 1
    for typed in ("商机", " 商机 ", {"in": ["商机", "成单"]}):
        preview = api.post("/api/v1/segments:preview", json={"condition": {"stage": typed}})
        assert preview.status_code == 200, preview.text
        assert preview.json()["count"] == 1
    create(api, key="deals", condition="stage: 商机")
    assert member_ids(api, "deals") == {u1}
    unknown = api.post("/api/v1/segments:preview", json={"condition": {"stage": "商机们"}})
    assert unknown.status_code == 400
    assert "no such stage: '商机们'" in unknown.json()["message"]
    assert "opportunity (商机 / Opportunity)" in unknown.json()["message"]


def test_preview_counts_an_unsaved_condition_and_shows_a_sample(
    track: Tracker, api: TestClient
) -> None:
    for n in range(25):
        track.call(
            "identify",
            {"userId": f"p{n}", "traits": {"name": f"P{n}", "industry": "bank"}},
            drain=False,
        )
    track.identify("other", traits={"industry": "retail"})
    response = api.post(
        "/api/v1/segments:preview", json={"condition": {"trait": "industry", "eq": "bank"}}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["count"] == 25
    assert len(body["sample"]) == 20
    assert all(s["name"].startswith("P") for s in body["sample"])
    assert api.get("/api/v1/segments").json()["total"] == 2  # the playbook's hot-leads, engaged


def test_members_are_paginated(track: Tracker, api: TestClient) -> None:
    for n in range(7):
        track.call("identify", {"userId": f"p{n}", "traits": {"plan": "pro"}}, drain=False)
    track.identify("last", traits={"plan": "pro"})
    create(api, key="pro", condition={"trait": "plan", "eq": "pro"})
    first = api.get("/api/v1/segments/pro/members", params={"limit": 5}).json()
    second = api.get("/api/v1/segments/pro/members", params={"limit": 5, "offset": 5}).json()
    assert first["total"] == second["total"] == 8
    ids = [m["id"] for m in first["items"]] + [m["id"] for m in second["items"]]
    assert len(ids) == len(set(ids)) == 8


def test_bad_definitions_are_refused_with_a_clear_code(api: TestClient) -> None:
    bad = api.post("/api/v1/segments", json={"key": "x", "condition": "tag: [1, 2"})
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_yaml"
    unknown = api.post("/api/v1/segments", json={"key": "x", "condition": {"segment": "nope"}})
    assert unknown.status_code == 400, unknown.text
    assert "nope" in unknown.json()["message"]
    create(api, key="a", condition={"tag": "vip"})
    again = api.post("/api/v1/segments", json={"key": "a", "condition": {"tag": "vip"}})
    assert again.status_code == 409 and again.json()["code"] == "segment_exists"
    loop = api.patch("/api/v1/segments/a", json={"condition": {"segment": "a"}})
    assert loop.status_code == 400 and loop.json()["code"] == "invalid_segment"
    missing = api.get("/api/v1/segments/999999")
    assert missing.status_code == 404 and missing.json()["code"] == "segment_not_found"
    no_condition = api.post("/api/v1/segments", json={"key": "b"})
    assert no_condition.status_code == 400


def test_segment_timeline_events_survive_a_merge(track: Tracker, api: TestClient) -> None:
    create(api, key="bankers", name="银行", condition="{trait: industry, eq: bank}")
    track.identify("u1", traits={"email": "li@bank.cn", "industry": "bank"}, anonymousId="web")
    track.track(
        "Page Viewed", anonymousId="wx-device", context={"traits": {"phone": "13811112222"}}
    )
    track.identify("u1", traits={"phone": "13811112222"})  # joins the WeChat device's person
    u1 = person_id(api, "u1")
    timeline = api.get(f"/api/v1/people/{u1}/timeline").json()["items"]
    assert [e["event"] for e in timeline].count("Segment Entered") == 1
    assert api.get(f"/api/v1/people/{u1}/merges").json()["total"] == 1
