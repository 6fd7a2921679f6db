"""An account's overview answers from the database: the first people of each role with every
role's count, and engagement counted per day; equal to what the account's people hold."""

from collections import Counter
from datetime import date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from leadpond.accounts import overview
from leadpond.db.engine import read_only
from leadpond.ingest.models import Event
from leadpond.kit.clock import utcnow
from leadpond.workspaces.service import NewWorkspace
from tests.conftest import Tracker
from tests.segments.helpers import ago


def _account_world(track: Tracker) -> None:
    for i, title in enumerate(["工程师", "开发工程师", "架构师", "CIO", "采购经理"]):
        track.identify(
            f"u{i}",
            traits={"name": f"员工{i}", "email": f"e{i}@xinghuan.cn", "title": title},
            timestamp=ago(days=3 * i),
        )
        for days in range(i + 1):
            track.track("Page Viewed", f"u{i}", timestamp=ago(days=days * 9))
    track.track("Page Viewed", "u0", timestamp=ago(days=400))  # before the chart's weeks


def test_each_role_shows_its_first_people_and_counts_them_all(
    api: TestClient, track: Tracker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(overview, "ROLE_PAGE", 2)
    _account_world(track)
    person = api.get("/api/v1/search/people", params={"q": "员工0"}).json()["items"][0]
    found = api.get(f"/api/v1/accounts/{person['account_id']}/overview").json()
    counts = found["role_counts"]
    assert sum(counts.values()) == 5
    for role, rows in found["people_by_role"].items():
        assert len(rows) == min(2, counts[role])
    assert {role: n for role, n in counts.items() if role in found["coverage"]} == {
        role: n for role, n in found["coverage"].items() if n
    }
    assert max(counts.values()) > 2  # three engineers: one role is cut to the page


def test_engagement_counts_the_events_of_the_accounts_people_by_week(
    api: TestClient, track: Tracker, workspace: NewWorkspace
) -> None:
    _account_world(track)
    person = api.get("/api/v1/search/people", params={"q": "员工0"}).json()["items"][0]
    today = utcnow().date()
    with read_only() as session:
        found = overview.overview(session, workspace.workspace_id, person["account_id"], today)
        stamps = session.scalars(
            select(Event.timestamp).where(
                Event.workspace_id == workspace.workspace_id, Event.person_id.is_not(None)
            )
        ).all()
    monday = today - timedelta(days=today.weekday())
    first = monday - timedelta(weeks=overview.ENGAGEMENT_WEEKS - 1)
    expected: Counter[date] = Counter(
        s.date() - timedelta(days=s.date().weekday())
        for s in stamps
        if s >= datetime.combine(first, datetime.min.time()) and s.date() <= monday + timedelta(6)
    )
    assert found.engagement == [
        (week, expected[date.fromisoformat(week)]) for week, _n in found.engagement
    ]
    assert sum(n for _w, n in found.engagement) == sum(expected.values()) > 15
