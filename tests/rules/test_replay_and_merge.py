"""Backfill equals live processing; merges move rules state; decay and caps explain themselves."""

from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from leadpond.kit.clock import isoformat, utcnow
from leadpond.rules.backfill import backfill_in_steps
from leadpond.workspaces.service import NewWorkspace
from tests.conftest import Tracker, finish_job
from tests.rules.helpers import person_id, scores, stage, state, tags, timeline_names


def _journey(user_id: str, base: datetime) -> list[dict[str, Any]]:
    """A lead's month: identify, pricing visits, an event, a certification, a trial."""

    def at(hours: float) -> str:
        return isoformat(base + timedelta(hours=hours)) or ""

    calls: list[dict[str, Any]] = [
        {
            "type": "identify",
            "userId": user_id,
            "traits": {"email": f"{user_id}@bank.cn", "title": "CIO"},
            "timestamp": at(0),
        },
    ]
    calls += [
        {
            "type": "page",
            "userId": user_id,
            "name": "Pricing",
            "properties": {"path": "/pricing"},
            "timestamp": at(1 + day * 20),
        }
        for day in range(5)
    ]
    calls += [
        {
            "type": "track",
            "userId": user_id,
            "event": "Event Registered",
            "properties": {"event_id": "e1", "topic": "graph-db"},
            "timestamp": at(100),
        },
        {
            "type": "track",
            "userId": user_id,
            "event": "Event Checked In",
            "properties": {"event_id": "e1", "topic": "graph-db"},
            "timestamp": at(130),
        },
        {
            "type": "track",
            "userId": user_id,
            "event": "Certification Earned",
            "properties": {"product_line": "graph-db"},
            "timestamp": at(200),
        },
        {
            "type": "track",
            "userId": user_id,
            "event": "Whitepaper Downloaded",
            "timestamp": at(210),
        },
        {"type": "track", "userId": user_id, "event": "Trial Requested", "timestamp": at(300)},
    ]
    return calls


def test_backfill_gives_what_live_processing_gave(track: Tracker, api: TestClient) -> None:
    base = utcnow() - timedelta(days=30)
    for call in _journey("live", base):
        track.batch([call])  # one event per batch, drained each time
    track.batch(_journey("bulk", base))  # the same history in one batch
    live, bulk = person_id(api, user_id="live"), person_id(api, user_id="bulk")
    before = state(api, live)
    assert before["scores"]["engagement"][0] == 1 + 3 + 10 + 5 + 6 + 10
    assert before == state(api, bulk)
    replayed = finish_job(api, api.post("/api/v1/rules/backfill"))
    assert replayed["result"]["people"] == 2
    assert state(api, live) == before
    assert state(api, bulk) == before
    names = timeline_names(api, live)
    assert names.count("Hand Raised") == 1 and names.count("MQL Reached") == 1


def test_a_merge_moves_scores_tags_and_stage_to_the_survivor(
    track: Tracker, api: TestClient
) -> None:
    track.identify(traits={"email": "sun@acme.cn"}, anonymousId="web")
    track.call(
        "page", {"anonymousId": "web", "name": "Pricing", "properties": {"path": "/pricing"}}
    )
    web = person_id(api, anonymous_id="web")
    assert api.post(f"/api/v1/people/{web}/tags", json={"tag": "role:cio"}).status_code == 201
    track.identify(traits={"phone": "13700001111"}, anonymousId="wx")
    track.track("Certification Earned", properties={"product_line": "ai"}, anonymousId="wx")
    wx = person_id(api, anonymous_id="wx")
    assert scores(api, wx)["engagement"]["points"] == 10
    track.identify(traits={"email": "sun@acme.cn", "phone": "13700001111"}, anonymousId="form")
    survivor = person_id(api, email="sun@acme.cn")
    loser = wx if survivor == web else web
    engagement = scores(api, survivor)["engagement"]
    assert engagement["points"] == 12
    assert sorted(e["rule_id"] for e in engagement["ledger"]) == [
        "certification",
        "pricing-page-visit",
    ]
    found = tags(api, survivor)
    assert {"role:cio", "product_pref:ai"} <= set(found)
    assert found["role:cio"]["source"] == "manual"
    assert stage(api, survivor)["stage"] == "engaged"
    # the merged-away id answers with the survivor, and nothing is left on the loser
    assert api.get(f"/api/v1/people/{loser}/scores").json()["person_id"] == survivor


DECAY = """\
version: 1
stages: [{key: lead}]
score_models:
  - key: interest
    half_life: 30d
    rules:
      - {id: read, on: {event: Article Read}, points: 8, cap: {points: 16, per: 1d}}
      - {id: first-read, on: {event: Article Read}, points: 1, once: true}
"""


def test_decay_halves_points_and_the_ledger_still_adds_up(track: Tracker, api: TestClient) -> None:
    assert api.post("/api/v1/playbook", content=DECAY).status_code == 200
    long_ago = isoformat(utcnow() - timedelta(days=60))
    for _ in range(3):
        track.track("Article Read", "d1", timestamp=long_ago)
    pid = person_id(api, user_id="d1")
    interest = scores(api, pid)["interest"]
    ledger = interest["ledger"]
    assert [(e["rule_id"], e["points"]) for e in ledger] == [
        ("read", 8),
        ("first-read", 1),
        ("read", 8),
    ]
    assert abs(interest["points"] - 17 / 4) < 0.01  # two half-lives ago
    assert abs(sum(e["worth_now"] for e in ledger) - interest["points"]) < 0.001


def test_a_backfill_in_steps_of_one_person_gives_the_same_as_one_transaction(
    track: Tracker, api: TestClient, workspace: NewWorkspace
) -> None:
    base = utcnow() - timedelta(days=30)
    users = ("s1", "s2", "s3")
    track.batch([call for user in users for call in _journey(user, base)])
    before = {user: state(api, person_id(api, user_id=user)) for user in users}
    seen: list[tuple[int, int]] = []
    report = backfill_in_steps(
        workspace.workspace_id, step=1, on_step=lambda done, total: seen.append((done, total))
    )
    assert seen == [(1, 3), (2, 3), (3, 3)]
    assert (report.people, report.key_events) == (3, 9)
    assert {user: state(api, person_id(api, user_id=user)) for user in users} == before
