"""Shared helpers for the segment tests: relative timestamps and API shortcuts."""

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from leadpond.kit.clock import isoformat, utcnow


def ago(days: float = 0, hours: float = 0) -> str:
    """An ISO timestamp this long before now (conditions never count future events)."""
    return isoformat(utcnow() - timedelta(days=days, hours=hours)) or ""


def person_id(api: TestClient, user_id: str) -> int:
    items = api.get("/api/v1/people", params={"user_id": user_id}).json()["items"]
    assert len(items) == 1, items
    return int(items[0]["id"])


def create(api: TestClient, **body: Any) -> dict[str, Any]:
    response = api.post("/api/v1/segments", json=body)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def member_ids(api: TestClient, ref: str | int) -> set[int]:
    response = api.get(f"/api/v1/segments/{ref}/members", params={"limit": 1000})
    assert response.status_code == 200, response.text
    return {m["id"] for m in response.json()["items"]}


def segment(api: TestClient, ref: str | int) -> dict[str, Any]:
    response = api.get(f"/api/v1/segments/{ref}")
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]
