"""The directory at scale: a filter matching few people is read as a list of ids, a count of many
stops at a limit. Both must answer what the plain subquery answers."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from leadpond.reports import directory
from tests.conftest import Tracker

PEOPLE = (
    ("u1", "张伟", "zhang.wei@xinghuan.cn", "北京星环信息科技有限公司"),
    ("u2", "Alice Chen", "alice@xinghuan.cn", "星环科技"),
    ("u3", "王芳", "wangfang@qq.com", None),
    ("u4", "李娜", "li.na@zhonghai.com", "成都中海地产有限公司"),
    ("u5", "张建国", "jianguo@zhonghai.com", "成都中海地产有限公司"),
    ("u6", "Bob Li", "bob@example.cn", None),
)


def _world(track: Tracker) -> None:
    for user, name, email, company in PEOPLE:
        traits = {"name": name, "email": email} | ({"company": company} if company else {})
        track.identify(user, traits=traits)
    # A demo request tags the person need:evaluation and makes them an opportunity.
    for user in ("u1", "u3", "u4", "u6"):
        track.track("Demo Requested", user)
    for _ in range(2):
        track.track("Page Viewed", "u5")
    track.track("Page Viewed", anonymousId="visitor-1")


QUERIES: list[dict[str, Any]] = [
    {},
    {"known": "true"},
    {"q": "张"},
    {"q": "xinghuan"},
    {"q": "zhonghai.com"},
    {"q": "成都中海"},
    {"q": "建国"},
    {"q": "nobody"},
    {"tag": "need:evaluation"},
    {"tag": "need:evaluation", "q": "张"},
    {"stage": "opportunity", "known": "true"},
    {"stage": "opportunity", "tag": "need:evaluation", "q": "zhonghai"},
    {"stage": "no-such-stage"},
]
SORTS = ("-last_seen", "last_seen", "name", "-name", "-events", "id", "-id")


def _pages(api: TestClient, query: dict[str, Any], sort: str) -> list[tuple[int, list[int]]]:
    answers = []
    for offset in range(0, 8, 3):
        params = {**query, "sort": sort, "limit": 3, "offset": offset}
        body = api.get("/api/v1/search/people", params=params).json()
        assert body["total_exact"] is True
        answers.append((body["total"], [item["id"] for item in body["items"]]))
    return answers


def test_a_filter_read_as_ids_answers_as_the_subquery_does(
    api: TestClient, track: Tracker, monkeypatch: pytest.MonkeyPatch
) -> None:
    _world(track)
    for query in QUERIES:
        for sort in SORTS:
            monkeypatch.setattr(directory, "CANDIDATE_LIMIT", 1000)  # every filter as ids
            listed = _pages(api, query, sort)
            monkeypatch.setattr(directory, "CANDIDATE_LIMIT", 0)  # every filter a subquery
            assert _pages(api, query, sort) == listed, (query, sort)


def test_a_count_past_the_limit_says_more_than(
    api: TestClient, track: Tracker, monkeypatch: pytest.MonkeyPatch
) -> None:
    _world(track)
    monkeypatch.setattr(directory, "COUNT_LIMIT", 3)
    monkeypatch.setattr(directory, "CANDIDATE_LIMIT", 2)

    def answer(**params: Any) -> tuple[int, bool, int]:
        body = api.get("/api/v1/search/people", params=params).json()
        return body["total"], body["total_exact"], len(body["items"])

    # Four people hold the tag: more than the three the count goes to; every one is listed.
    assert answer(tag="need:evaluation") == (3, False, 4)
    assert answer(tag="need:evaluation", limit=1, offset=3) == (3, False, 1)
    # Three: the count reaches them all, so it is exact.
    assert answer(tag="need:evaluation", q="zhonghai.com") == (1, True, 1)
    assert answer(q="张") == (2, True, 2)
    # No filter: the workspace's people are counted on their index, exactly.
    assert answer() == (7, True, 7)
    assert answer(known="true") == (6, True, 6)


def test_a_search_matching_nobody_reads_no_people(
    api: TestClient, track: Tracker, monkeypatch: pytest.MonkeyPatch
) -> None:
    _world(track)
    read: list[str] = []
    original = directory.describe

    def describe(*args: Any) -> Any:
        read.append("describe")
        return original(*args)

    monkeypatch.setattr(directory, "describe", describe)
    body = api.get("/api/v1/search/people", params={"q": "重庆中海"}).json()
    assert body == {"total": 0, "items": [], "total_exact": True}
    assert read == []


def test_a_stage_filter_answers_the_people_of_that_stage_in_every_sort(
    api: TestClient, track: Tracker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The filter reads ``person.stage``; the rows' stage comes from ``person_stage``: the page
    and total are those of the unfiltered list's people of that stage, in its order."""
    _world(track)
    stages = set()
    for candidates in (1000, 0):  # the other filters as ids, and as subqueries
        monkeypatch.setattr(directory, "CANDIDATE_LIMIT", candidates)
        for others in ({}, {"known": "true"}, {"tag": "need:evaluation"}, {"q": "张"}):
            for sort in SORTS:
                params = {**others, "sort": sort, "limit": 100}
                everyone = api.get("/api/v1/search/people", params=params).json()["items"]
                stages |= {row["stage"] for row in everyone}
                for stage in ("opportunity", "registered", "visit", "dormant"):
                    held = [row["id"] for row in everyone if row["stage"] == stage]
                    expected = [(len(held), held[at : at + 3]) for at in range(0, 8, 3)]
                    assert _pages(api, {**others, "stage": stage}, sort) == expected, (
                        others,
                        sort,
                        stage,
                    )
    assert stages >= {"opportunity", "registered", "visit"}, stages
