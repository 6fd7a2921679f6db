"""Two batches about the same person, committed by two workers at the same time.

The interleaving is forced, not hoped for: each worker's transaction pauses just before it first
writes a person row until the other one gets there too (or 1.5 s pass, which is what
happens when one of them holds a lock the other waits for).
"""

import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, event

from leadpond.pipeline import worker
from leadpond.workspaces.service import NewWorkspace
from tests.conftest import Tracker


@contextmanager
def meeting_before_person_write() -> Iterator[None]:
    """In the block, each thread's first ``UPDATE person`` waits for another's (1.5 s at most)."""
    barrier = threading.Barrier(2, timeout=1.5)
    waited = threading.local()

    def before_execute(*args: Any) -> None:
        statement: str = args[2]
        if statement.lstrip().upper().startswith("UPDATE PERSON") and not getattr(
            waited, "done", False
        ):
            waited.done = True
            with suppress(threading.BrokenBarrierError):
                barrier.wait()

    event.listen(Engine, "before_cursor_execute", before_execute)
    try:
        yield
    finally:
        event.remove(Engine, "before_cursor_execute", before_execute)


def test_two_workers_updating_one_person_at_once_lose_nothing(
    backend: str,
    track: Tracker,
    api: TestClient,
    workspace: NewWorkspace,
) -> None:
    track.identify("u-1", traits={"email": "u1@acme.cn"})
    track.call(
        "identify",
        {"userId": "u-1", "traits": {"title": "CTO"}, "timestamp": "2026-03-01T00:00:00Z"},
        drain=False,
    )
    track.call(
        "identify",
        {"userId": "u-1", "traits": {"city": "杭州"}, "timestamp": "2026-03-02T00:00:00Z"},
        drain=False,
    )
    done: list[int] = []
    workers = [
        threading.Thread(target=lambda: done.append(worker.process_batch(batch_size=1)))
        for _ in range(2)
    ]
    with meeting_before_person_write():
        for thread in workers:
            thread.start()
        for thread in workers:
            thread.join(timeout=30)
    assert done == [1, 1]

    person = api.get("/api/v1/people", params={"user_id": "u-1"}).json()["items"][0]
    assert person["event_count"] == 3
    assert {"email", "title", "city"} <= set(person["traits"])
