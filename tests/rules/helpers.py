"""Reading a person's rules state through the API."""

from typing import Any

from fastapi.testclient import TestClient


def person_id(api: TestClient, **query: str) -> int:
    items = api.get("/api/v1/people", params=query).json()["items"]
    assert len(items) == 1, items
    return int(items[0]["id"])


def tags(api: TestClient, pid: int) -> dict[str, dict[str, Any]]:
    response = api.get(f"/api/v1/people/{pid}/tags")
    assert response.status_code == 200, response.text
    return {t["tag"]: t for t in response.json()["items"]}


def scores(api: TestClient, pid: int) -> dict[str, dict[str, Any]]:
    response = api.get(f"/api/v1/people/{pid}/scores")
    assert response.status_code == 200, response.text
    return {s["model"]: s for s in response.json()["items"]}


def stage(api: TestClient, pid: int) -> dict[str, Any]:
    response = api.get(f"/api/v1/people/{pid}/stage")
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def timeline_names(api: TestClient, pid: int) -> list[str]:
    items = api.get(f"/api/v1/people/{pid}/timeline").json()["items"]
    return [i.get("event") or i["type"] for i in items]


def state(api: TestClient, pid: int) -> dict[str, Any]:
    """Everything the rules computed, minus ids that differ between two runs."""
    return {
        "tags": sorted(
            (t["tag"], t["source"], t["rule_id"], t["added_at"]) for t in tags(api, pid).values()
        ),
        "scores": {
            m: (s["points"], [(e["rule_id"], e["points"], e["at"]) for e in s["ledger"]])
            for m, s in scores(api, pid).items()
        },
        "stage": [
            (h["from_stage"], h["to_stage"], h["rule_id"], h["at"])
            for h in stage(api, pid)["history"]
        ],
        # Key events and thresholds the rules derived (segment entries are stamped when noticed).
        "derived": sorted(
            (e["event"], e["timestamp"])
            for e in api.get(f"/api/v1/people/{pid}/timeline", params={"limit": 1000}).json()[
                "items"
            ]
            if e["source"] == "derived" and e["message_id"].startswith("rule:")
        ),
    }
