"""The outbox: one message per idempotency key, retries with backoff, permanent failures, and a
message handed over before its deliverer died is never sent again (in doubt)."""

from dataclasses import dataclass
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from leadpond.channels import outbox
from leadpond.channels.deliverer import Deliverer
from leadpond.channels.models import Message
from leadpond.channels.senders.base import Result
from leadpond.db.engine import read_only, unit_of_work
from leadpond.ingest.models import Event
from leadpond.kit.scope import owned
from leadpond.pipeline import worker
from leadpond.workspaces.service import NewWorkspace
from tests.channels.conftest import SMTP, Clock, FakeSender, message, person, send, set_channel
from tests.channels.conftest import template as save_template
from tests.conftest import Tracker


@dataclass
class Rig:
    """What most outbox tests use: the API, the tracker, a deliverer with its scripted sender
    and clock, and the workspace."""

    api: TestClient
    track: Tracker
    deliverer: Deliverer
    sender: FakeSender
    clock: Clock
    workspace: NewWorkspace


@pytest.fixture
def rig(
    api: TestClient,
    track: Tracker,
    deliverer: Deliverer,
    sender: FakeSender,
    clock: Clock,
    workspace: NewWorkspace,
) -> Rig:
    return Rig(api, track, deliverer, sender, clock, workspace)


def _ready(api: TestClient, track: Tracker) -> int:
    set_channel(api, "email", "smtp", SMTP)
    save_template(api, "welcome")
    return person(track, api, "u1", email="li@acme.cn", name="李雷")


def test_the_same_key_twice_is_one_message(api: TestClient, track: Tracker) -> None:
    pid = _ready(api, track)
    first = send(api, pid, "welcome", idempotency_key="signup-42")
    again = send(api, pid, "welcome", idempotency_key="signup-42")
    by_header = api.post(
        "/api/v1/sends",
        json={"channel": "email", "template": "welcome", "person_id": pid},
        headers={"Idempotency-Key": "signup-42"},
    ).json()["message_id"]
    assert first == again == by_header
    assert api.get(f"/api/v1/people/{pid}/messages").json()["total"] == 1
    other = send(api, pid, "welcome")
    assert other != first


def test_a_sent_message_has_its_history_and_is_on_the_timeline(
    api: TestClient,
    track: Tracker,
    deliverer: Deliverer,
    sender: FakeSender,
    workspace: NewWorkspace,
) -> None:
    pid = _ready(api, track)
    mid = send(api, pid, "welcome")
    assert deliverer.run_pending() == 1
    found = message(api, mid)
    assert found["status"] == "sent"
    assert [h["kind"] for h in found["history"]] == ["queued", "sending", "sent"]
    assert found["address"] == "li@acme.cn"
    assert found["subject"] == "你好 李雷"
    [handed] = sender.handed
    assert handed.body == "<p>Hi 李雷 of acme.cn</p>"  # the account from the email's domain
    assert handed.extra["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    worker.drain()
    timeline = api.get(f"/api/v1/people/{pid}/timeline").json()["items"]
    assert "Email Sent" in [e.get("event") for e in timeline]
    with read_only() as session:
        processed = session.scalar(
            select(Event.processed_at).where(Event.person_id == pid, Event.event == "Email Sent")
        )
        # None of this workspace's events was quarantined (other test files' may be, in the
        # same session: the count is the workspace's, not the database's).
        failed = session.scalar(
            select(func.count()).where(
                owned(Event, workspace.workspace_id), Event.failed_at.is_not(None)
            )
        )
    assert processed is not None and failed == 0


def test_a_temporary_failure_is_retried_with_backoff(rig: Rig) -> None:
    pid = _ready(rig.api, rig.track)
    mid = send(rig.api, pid, "welcome")
    rig.sender.script = [Result.TEMPORARY, Result.TEMPORARY, Result.SENT]
    rig.deliverer.run_pending()
    assert message(rig.api, mid)["status"] == "queued"
    rig.clock.advance(seconds=29)
    assert rig.deliverer.run_pending() == 0  # the first wait is the base, 30 s
    rig.clock.advance(seconds=1)
    rig.deliverer.run_pending()
    rig.clock.advance(seconds=59)
    assert rig.deliverer.run_pending() == 0  # then 60 s
    rig.clock.advance(seconds=1)
    rig.deliverer.run_pending()
    found = message(rig.api, mid)
    assert (found["status"], found["attempts"]) == ("sent", 3)
    assert len(rig.sender.handed) == 3


def test_a_permanent_failure_and_the_last_attempt_fail(rig: Rig) -> None:
    pid = _ready(rig.api, rig.track)
    bad = send(rig.api, pid, "welcome")
    rig.sender.script = [Result.PERMANENT]
    rig.deliverer.run_pending()
    assert message(rig.api, bad)["status"] == "failed"
    tired = send(rig.api, pid, "welcome")
    rig.sender.script = [Result.TEMPORARY] * 5
    for _ in range(5):
        rig.deliverer.run_pending()
        rig.clock.advance(hours=6)
    found = message(rig.api, tired)
    assert (found["status"], found["attempts"]) == ("failed", 5)


def test_a_message_handed_over_before_its_deliverer_died_is_in_doubt(rig: Rig) -> None:
    pid = _ready(rig.api, rig.track)
    mid = send(rig.api, pid, "welcome")
    # A rig.deliverer claims it and commits handed_at, then is killed before the outcome.
    with unit_of_work() as session:
        [claimed] = outbox.claim(session, "dead", 60, 10, rig.clock(), rig.workspace.workspace_id)
    with unit_of_work() as session:
        outbox.hand_over(session, "dead", [claimed.id], rig.clock(), 60)
    assert rig.deliverer.run_pending() == 0  # under lease
    rig.clock.advance(seconds=61)
    rig.deliverer.run_pending()
    found = message(rig.api, mid)
    assert found["status"] == "in_doubt"
    assert rig.sender.handed == []


def test_a_lapsed_claim_never_handed_over_is_sent(rig: Rig) -> None:
    pid = _ready(rig.api, rig.track)
    mid = send(rig.api, pid, "welcome")
    with unit_of_work() as session:
        outbox.claim(session, "dead", 60, 10, rig.clock(), rig.workspace.workspace_id)
    rig.clock.advance(seconds=61)
    rig.deliverer.run_pending()
    assert message(rig.api, mid)["status"] == "sent"
    assert len(rig.sender.handed) == 1


def test_a_provider_that_deduplicates_gets_the_doubtful_message_again(rig: Rig) -> None:
    set_channel(rig.api, "webhook", "http", {"url": "http://127.0.0.1:9/h", "secret": "x" * 16})
    save_template(
        rig.api, "hook", channel="webhook", subject=None, body='{"who": "{{ person.id }}"}'
    )
    pid = person(rig.track, rig.api, "u2", email="han@acme.cn")
    mid = send(rig.api, pid, "hook", channel="webhook")
    with unit_of_work() as session:
        [claimed] = outbox.claim(session, "dead", 60, 10, rig.clock(), rig.workspace.workspace_id)
        key = claimed.idempotency_key
    with unit_of_work() as session:
        outbox.hand_over(session, "dead", [mid], rig.clock(), 60)
    rig.clock.advance(seconds=61)
    rig.deliverer.run_pending()
    assert message(rig.api, mid)["status"] == "sent"
    [again] = rig.sender.handed
    assert again.idempotency_key == key
    assert again.extra["document"] == {"who": str(pid)}


def test_a_claim_is_a_lease(
    api: TestClient, track: Tracker, clock: Clock, workspace: NewWorkspace
) -> None:
    pid = _ready(api, track)
    send(api, pid, "welcome")
    with unit_of_work() as session:
        [claimed] = outbox.claim(session, "a", 60, 10, clock(), workspace.workspace_id)
        assert claimed.locked_until == clock() + timedelta(seconds=60)
    with unit_of_work() as session:
        assert outbox.claim(session, "b", 60, 10, clock(), workspace.workspace_id) == []
        assert session.get(Message, claimed.id) is not None


def test_a_claim_that_outlived_its_lease_is_still_sent_once_by_its_deliverer(
    api: TestClient, track: Tracker, clock: Clock, workspace: NewWorkspace
) -> None:
    """A batch prepared (or waiting for a connection) past its lease: nobody claimed it since,
    so its deliverer hands it over and the lease is renewed for the send; nobody else can take
    it then, and a second hand-over of it is refused."""
    pid = _ready(api, track)
    mid = send(api, pid, "welcome")
    with unit_of_work() as session:
        [claimed] = outbox.claim(session, "slow", 60, 10, clock(), workspace.workspace_id)
        assert claimed.id == mid
    clock.advance(seconds=90)
    with unit_of_work() as session:
        assert outbox.hand_over(session, "slow", [mid], clock(), 60) == {mid}
    with unit_of_work() as session:
        assert outbox.claim(session, "other", 60, 10, clock(), workspace.workspace_id) == []
        assert outbox.hand_over(session, "slow", [mid], clock(), 60) == set()
        assert session.get(Message, mid).locked_until == clock() + timedelta(seconds=60)


def test_a_lapsed_claim_taken_by_another_deliverer_is_not_handed_over_by_the_first(
    api: TestClient, track: Tracker, clock: Clock, workspace: NewWorkspace
) -> None:
    pid = _ready(api, track)
    mid = send(api, pid, "welcome")
    with unit_of_work() as session:
        outbox.claim(session, "slow", 60, 10, clock(), workspace.workspace_id)
    clock.advance(seconds=61)
    with unit_of_work() as session:
        [again] = outbox.claim(session, "other", 60, 10, clock(), workspace.workspace_id)
        assert again.id == mid
    with unit_of_work() as session:
        assert outbox.hand_over(session, "slow", [mid], clock(), 60) == set()
        assert outbox.hand_over(session, "other", [mid], clock(), 60) == {mid}
