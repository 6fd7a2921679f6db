"""The default B2B playbook, driven through the Segment API on both databases."""

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from tests.conftest import Tracker
from tests.rules.helpers import person_id, scores, stage, tags, timeline_names

# Ten days ago at midnight: the stories span four days, and event times may not lie in the future
# (the tracking API accepts up to one day ahead).
T0 = (datetime.now(UTC) - timedelta(days=10)).replace(hour=0, minute=0, second=0, microsecond=0)


def at(minutes: int) -> str:
    return (T0 + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


def test_event_registration_and_check_in_points_and_product_preference(
    track: Tracker, api: TestClient
) -> None:
    track.identify("u1", traits={"email": "li@bank.cn", "title": "CIO"}, timestamp=at(0))
    track.track("Event Registered", "u1", {"event_id": "ev1", "topic": "graph-db"}, timestamp=at(1))
    track.track(
        "Event Checked In", "u1", {"event_id": "ev1", "topic": "graph-db"}, timestamp=at(60)
    )
    track.track("Event Checked In", "u1", {"event_id": "ev2", "topic": "ai"}, timestamp=at(90))
    pid = person_id(api, user_id="u1")
    engagement = scores(api, pid)["engagement"]
    # +1 registration, +3 check-in at an event registered for, nothing for the unregistered one
    assert engagement["points"] == 4
    assert [(e["rule_id"], e["points"]) for e in engagement["ledger"]] == [
        ("event-registration", 1),
        ("registered-and-checked-in", 3),
    ]
    assert sum(e["worth_now"] for e in engagement["ledger"]) == engagement["points"]
    found = tags(api, pid)
    assert {"product_pref:graph-db", "product_pref:ai"} <= set(found)
    assert found["product_pref:graph-db"]["rule_id"] == "event-topic-product-pref"
    assert found["product_pref:graph-db"]["source"] == "rule"
    assert found["product_pref:graph-db"]["event_id"] is not None


def test_certification_gives_ten_points_and_the_product_tag(
    track: Tracker, api: TestClient
) -> None:
    track.track("Certification Earned", "u2", {"product_line": "graph-db"}, timestamp=at(0))
    pid = person_id(api, user_id="u2")
    assert scores(api, pid)["engagement"]["points"] == 10
    assert "product_pref:graph-db" in tags(api, pid)


def test_pricing_visits_are_capped_and_three_in_a_week_is_a_key_event(
    track: Tracker, api: TestClient
) -> None:
    for day in range(4):
        track.call(
            "page",
            {
                "anonymousId": "a1",
                "name": "Pricing",
                "properties": {"path": "/pricing"},
                "timestamp": at(day * 24 * 60),
            },
        )
    pid = person_id(api, anonymous_id="a1")
    engagement = scores(api, pid)["engagement"]
    assert engagement["points"] == 6  # 2 points each, at most 6 a week
    names = timeline_names(api, pid)
    assert names.count("Pricing Intent") == 1
    assert stage(api, pid)["stage"] == "visit"


def test_fit_grade_and_mql_hand_off_move_the_stage(track: Tracker, api: TestClient) -> None:
    track.identify(
        "u3",
        traits={
            "email": "wang@bank.cn",
            "title": "首席信息官",
            "industry": "银行",
            "phone": "13800001111",
        },
        timestamp=at(0),
    )
    pid = person_id(api, user_id="u3")
    fit = scores(api, pid)["fit"]
    assert (fit["points"], fit["grade"]) == (60, "A")
    assert stage(api, pid)["stage"] == "registered"
    for n in range(2):
        track.track(
            "Certification Earned", "u3", {"product_line": f"line{n}"}, timestamp=at(10 + n)
        )
    assert scores(api, pid)["engagement"]["points"] == 20
    assert "MQL Reached" in timeline_names(api, pid)
    current = stage(api, pid)
    assert current["stage"] == "opportunity"
    assert current["phase"] == "转"
    moves = [(h["from_stage"], h["to_stage"]) for h in current["history"]]
    assert moves == [(None, "registered"), ("registered", "engaged"), ("engaged", "opportunity")]
    assert current["history"][-1]["rule_id"].startswith("stage:opportunity")


def test_trial_request_is_a_hand_raise_once_per_month(track: Tracker, api: TestClient) -> None:
    track.track("Trial Requested", "u4", {"edition": "enterprise"}, timestamp=at(0))
    track.track("Trial Requested", "u4", {"edition": "enterprise"}, timestamp=at(60))
    pid = person_id(api, user_id="u4")
    assert timeline_names(api, pid).count("Hand Raised") == 1
    assert stage(api, pid)["stage"] == "opportunity"
    assert "need:evaluation" in tags(api, pid)


def test_won_deal_makes_a_customer_and_swaps_tags(track: Tracker, api: TestClient) -> None:
    track.track("Demo Requested", "u5", timestamp=at(0))
    track.track("Deal Updated", "u5", {"stage": "closed_won"}, timestamp=at(600))
    pid = person_id(api, user_id="u5")
    assert stage(api, pid)["stage"] == "customer"
    found = tags(api, pid)
    assert "value:customer" in found and "need:evaluation" not in found


def test_personas_follow_traits(track: Tracker, api: TestClient) -> None:
    track.identify(
        "u6", traits={"title": "信息中心主任", "industry": "城市商业银行"}, timestamp=at(0)
    )
    pid = person_id(api, user_id="u6")
    keys = [p["key"] for p in api.get(f"/api/v1/people/{pid}/personas").json()["items"]]
    assert keys == ["bank-cio", "it-decision-maker"]


def test_manual_tags_are_attributed_and_removable(track: Tracker, api: TestClient) -> None:
    track.identify("u7", traits={"email": "z@x.cn"}, timestamp=at(0))
    pid = person_id(api, user_id="u7")
    added = api.post(f"/api/v1/people/{pid}/tags", json={"tag": "role:cio"})
    assert added.status_code == 201, added.text
    assert (added.json()["source"], added.json()["actor"]) == ("manual", "api_key")
    assert api.delete(f"/api/v1/people/{pid}/tags/role:cio").status_code == 204
    assert "role:cio" not in tags(api, pid)
    assert api.delete(f"/api/v1/people/{pid}/tags/role:cio").json()["code"] == "tag_not_found"
