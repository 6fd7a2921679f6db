"""Helpers for the events tests: a conference with booths and sessions, registering through
the public page, reading what the pipeline made of it."""

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from leadpond.db.engine import read_only
from leadpond.ingest.models import Event
from leadpond.kit.scope import owned
from leadpond.profiles.models import Person
from leadpond.rules.models import PersonScore, PersonTag

MOBILE = "13800138000"


def conference(key: str, days: float = 3, **extra: Any) -> dict[str, Any]:
    start = datetime.now(UTC) + timedelta(days=days)
    body: dict[str, Any] = {
        "key": key,
        "name_zh": "图灵数智春季用户大会",
        "name_en": "Spring User Conference",
        "kind": "conference",
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=8)).isoformat(),
        "city": "上海",
        "venue": "国际会议中心 3F",
        "topic": "graph_database",
        "sessions": [
            {
                "key": "keynote",
                "title": "主题演讲：图数据库的下一个十年",
                "starts_at": "2030-04-18T09:30:00",
                "speaker": "王磊",
                "speaker_title": "CTO",
            },
            {
                "key": "fin",
                "title": "金融风控实践",
                "forum": "金融分论坛",
                "starts_at": "2030-04-18T14:00:00",
            },
        ],
        "booths": [
            {"key": "b1", "name": "图数据库展台", "product_line": "graph_database", "points": 5},
            {"key": "b2", "name": "时序数据库展台", "product_line": "timeseries", "points": 5},
        ],
    }
    return body | extra


def create(api: TestClient, body: dict[str, Any]) -> dict[str, Any]:
    answer = api.post("/api/v1/events", json=body)
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def form_token(client: TestClient, key: str) -> str:
    page = client.get(f"/e/{key}/register")
    assert page.status_code == 200, page.text
    found = re.search(r'name="form_token" value="([^"]+)"', page.text)
    assert found is not None
    return found.group(1)


def register_on_page(client: TestClient, key: str, **values: str) -> tuple[str, str | None]:
    """Post the registration page; the page's HTML and the badge token it shows (if any)."""
    fields = {"name": "张伟", "mobile": MOBILE, "company": "上海银行", "title": "信息中心主任"}
    fields |= values
    answer = client.post(
        f"/e/{key}/register", data={"form_token": form_token(client, key), **fields}
    )
    assert answer.status_code == 200, answer.text
    token = re.search(r'id="badge-token">([^<]+)<', answer.text)
    return answer.text, token.group(1) if token else None


def people_with(workspace_id: Any, name: str) -> set[int]:
    """The (live) people the pipeline gave events called ``name``."""
    with read_only() as session:
        found = set(
            session.scalars(
                select(Event.person_id).where(owned(Event, workspace_id), Event.event == name)
            )
        )
        return set(
            session.scalars(
                select(func.coalesce(Person.merged_into_id, Person.id)).where(Person.id.in_(found))
            )
        )


def tags_of(person_id: int) -> set[str]:
    with read_only() as session:
        return set(session.scalars(select(PersonTag.tag).where(PersonTag.person_id == person_id)))


def score_of(person_id: int, model: str = "engagement") -> float:
    with read_only() as session:
        found = session.scalar(
            select(PersonScore.points).where(
                PersonScore.person_id == person_id, PersonScore.model == model
            )
        )
    return float(found or 0)


def events_named(workspace_id: Any, name: str) -> int:
    with read_only() as session:
        return int(
            session.scalar(
                select(func.count()).where(owned(Event, workspace_id), Event.event == name)
            )
            or 0
        )
