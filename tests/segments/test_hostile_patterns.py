"""A catastrophic regular expression costs linear time, and a preview has a time budget."""

import threading
import time

import httpx
import pytest
from sqlalchemy import text

from leadpond.conditions.ast import Test as ValueTest
from leadpond.conditions.evaluate import value_holds
from leadpond.db.engine import read_only
from leadpond.segments.build import PreviewOverBudget, time_budget
from leadpond.workspaces.service import NewWorkspace
from tests.conftest import Tracker

CATASTROPHIC = {"trait": "title", "matches": "^(a+)+$"}
# Python's backtracking re needs about 2**25 steps per title: seconds each.
TITLE = "a" * 25 + "!"


def test_the_catastrophic_pattern_previews_in_under_a_second_while_healthz_answers(
    track: Tracker, workspace: NewWorkspace, live_url: str
) -> None:
    people = [
        {"type": "identify", "userId": f"u{i}", "traits": {"title": TITLE}} for i in range(200)
    ]
    people[7]["traits"]["title"] = "a" * 25
    track.batch(people)

    health: list[tuple[int, float]] = []
    answered, ready = threading.Event(), threading.Event()

    def poll_health() -> None:
        with httpx.Client(base_url=live_url) as probe:
            probe.get("/healthz")  # the connection and the server's first request, not counted
            ready.set()
            while not answered.is_set():
                started = time.perf_counter()
                status = probe.get("/healthz").status_code
                health.append((status, time.perf_counter() - started))
                time.sleep(0.005)

    poller = threading.Thread(target=poll_health)
    answers: list[tuple[httpx.Response, float]] = []
    with httpx.Client(
        base_url=live_url, headers={"Authorization": f"Bearer {workspace.api_key}"}
    ) as client:
        client.post("/api/v1/segments:preview", json={"condition": {"trait": "title", "eq": "a"}})
        poller.start()
        ready.wait(5)
        for _ in range(5):  # a window long enough for /healthz to be asked meanwhile
            started = time.perf_counter()
            response = client.post("/api/v1/segments:preview", json={"condition": CATASTROPHIC})
            answers.append((response, time.perf_counter() - started))
        answered.set()
        poller.join()
    for response, seconds in answers:
        assert response.status_code == 200, response.text
        assert response.json()["count"] == 1
        assert seconds < 1, f"preview took {seconds:.2f} s"
    assert health, "no /healthz answer while the previews ran"
    assert {status for status, _ in health} == {200}
    slowest = max(seconds for _, seconds in health)
    assert slowest < 0.1, f"/healthz took up to {slowest * 1000:.0f} ms"


def test_the_evaluator_answers_the_catastrophic_pattern_in_linear_time() -> None:
    test = ValueTest(op="matches", value=CATASTROPHIC["matches"])
    started = time.perf_counter()
    assert not any(value_holds(TITLE, test) for _ in range(10_000))
    assert value_holds("a" * 25, test)
    assert time.perf_counter() - started < 1


def test_a_segment_with_the_pattern_is_kept_up_to_date_by_the_pipeline(
    track: Tracker, api: httpx.Client
) -> None:
    created = api.post(
        "/api/v1/segments", json={"key": "aaa", "condition": CATASTROPHIC, "name": "aaa"}
    )
    assert created.status_code == 201, created.text
    started = time.perf_counter()
    track.batch(
        [{"type": "identify", "userId": f"u{i}", "traits": {"title": TITLE}} for i in range(100)]
        + [{"type": "identify", "userId": "match", "traits": {"title": "aaa"}}]
    )
    assert time.perf_counter() - started < 5
    assert api.get("/api/v1/segments/aaa").json()["count"] == 1


def _slow(backend: str, seconds: float) -> str:
    """A statement that runs about ``seconds``; pg_sleep stands for any slow statement."""
    if backend == "postgresql":
        return f"SELECT pg_sleep({seconds})"
    rows = int(seconds * 2_000_000)  # SQLite counts some millions of rows a second here
    return (
        f"WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < {rows}) "
        "SELECT count(*) FROM n"
    )


def test_the_time_budget_stops_a_slow_statement(backend: str, workspace: NewWorkspace) -> None:
    with read_only() as session:
        started = time.perf_counter()
        with pytest.raises(PreviewOverBudget) as refused, time_budget(session, 0.2):
            session.execute(text(_slow(backend, 30)))
        assert time.perf_counter() - started < 1.5
        assert refused.value.to_body()["code"] == "preview_over_budget"


def test_the_time_budget_ends_with_its_block(backend: str, workspace: NewWorkspace) -> None:
    with read_only() as session:
        with time_budget(session, 0.3):
            session.execute(text(_slow(backend, 0.01)))
        session.execute(text(_slow(backend, 0.6)))
