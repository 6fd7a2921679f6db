"""``service.enqueue_many``: what ``send`` checks, for many messages in one statement, with the
same idempotency (a key again finds its first message)."""

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from leadpond.channels.models import Message, MessageEvent
from leadpond.channels.service import QueuedSend, enqueue_many
from leadpond.db.engine import read_only, unit_of_work
from leadpond.kit.errors import InvalidInput, NotFound
from leadpond.kit.scope import owned
from leadpond.workspaces.service import NewWorkspace
from tests.conftest import Tracker

TEMPLATE = {"key": "hello", "channel": "email", "subject": "你好", "body": "<p>你好</p>"}


def _people(api: TestClient, track: Tracker, n: int) -> list[int]:
    track.batch(
        [
            {"type": "identify", "userId": f"p{i}", "traits": {"email": f"p{i}@x.cn"}}
            for i in range(n)
        ]
    )
    return [
        api.get("/api/v1/people", params={"user_id": f"p{i}"}).json()["items"][0]["id"]
        for i in range(n)
    ]


def test_many_messages_in_one_call_and_again_nothing_new(
    api: TestClient, track: Tracker, workspace: NewWorkspace
) -> None:
    ws = workspace.workspace_id
    assert api.post("/api/v1/templates", json=TEMPLATE).status_code == 201
    people = _people(api, track, 3)
    sends = [QueuedSend(pid, "email", "hello", f"k-{pid}", "test", {"n": pid}) for pid in people]
    with unit_of_work() as session:
        first = enqueue_many(session, ws, sends)
    with unit_of_work() as session:
        again = enqueue_many(session, ws, [*sends, *sends[:1]])
    assert first == again and set(first) == {f"k-{pid}" for pid in people}
    with read_only() as session:
        rows = list(session.scalars(select(Message).where(owned(Message, ws))))
        queued = session.scalar(
            select(func.count()).select_from(MessageEvent).where(owned(MessageEvent, ws))
        )
    assert len(rows) == 3 and queued == 3
    assert {(m.person_id, m.status, m.purpose, m.variables["n"]) for m in rows} == {
        (pid, "queued", "marketing", pid) for pid in people
    }


def test_the_checks_of_send_hold_for_every_message_before_anything_is_written(
    api: TestClient, track: Tracker, workspace: NewWorkspace
) -> None:
    ws = workspace.workspace_id
    assert api.post("/api/v1/templates", json=TEMPLATE).status_code == 201
    [pid] = _people(api, track, 1)
    cases = [
        (QueuedSend(pid, "sms", "hello", "a", "test"), InvalidInput, "channel"),
        (QueuedSend(pid, "email", "nope", "b", "test"), NotFound, "template"),
        (QueuedSend(10**12, "email", "hello", "c", "test"), NotFound, "person_id"),
    ]
    for bad, error, field in cases:
        with pytest.raises(error) as raised, unit_of_work() as session:
            enqueue_many(session, ws, [QueuedSend(pid, "email", "hello", "ok", "test"), bad])
        assert raised.value.details["field"] == field
    with read_only() as session:
        assert (
            session.scalar(select(func.count()).select_from(Message).where(owned(Message, ws))) == 0
        )
