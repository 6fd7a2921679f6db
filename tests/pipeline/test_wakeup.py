"""The worker's loops hear of new rows from the commit that wrote them, not at their next poll.

Every poll here is two minutes long, far longer than the test is given, and each loop is idle
(it has looked and found nothing) before the row is written: only the wake-up can move the row
in time. An event posted through the HTTP API reaches its journey's first action in the outbox,
and a queued message is taken by the deliverer.
"""

import threading
import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from leadpond.channels.deliverer import Deliverer, _Claimed
from leadpond.channels.models import Message
from leadpond.channels.service import send
from leadpond.config import get_settings
from leadpond.db.engine import read_only, unit_of_work
from leadpond.ingest.models import Event
from leadpond.kit.scope import owned
from leadpond.pipeline.worker import Worker
from leadpond.workspaces.service import NewWorkspace
from tests.conftest import Tracker
from tests.journeys.conftest import messages, note, person_id, set_up
from tests.pipeline.processes import wait_until

POLL_S = "120"
# Generous for a loaded 2-core machine, and still far under the poll.
WITHIN_S = 45.0


@pytest.fixture
def long_polls() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        for name in ("PIPELINE", "CHANNELS", "JOBS"):
            patch.setenv(f"LEADPOND_{name}_IDLE_SLEEP_S", POLL_S)
        get_settings.cache_clear()
        yield
    get_settings.cache_clear()


def test_an_event_reaches_its_first_journey_action_without_waiting_for_the_poll(
    api: TestClient, track: Tracker, workspace: NewWorkspace, long_polls: None
) -> None:
    ws = workspace.workspace_id
    set_up(api, workspace, note("trial-mail", {"event": "Trial Requested"}))
    # The embedded worker, as ``leadpond serve`` runs it beside the API in one process.
    worker = Worker(with_jobs=False, with_channels=False)
    thread = worker.start_thread()
    try:
        # Idle: it claimed nothing, looked at what time changes, and now waits.
        wait_until(lambda: worker.time_checked_at is not None, timeout_s=WITHIN_S)
        body = {"event": "Trial Requested", "userId": "lead-1", "properties": {"plan": "pro"}}
        track.call("track", body, drain=False)  # the test does not drain: the worker must
        wait_until(lambda: len(messages(ws)) == 1, timeout_s=WITHIN_S)
    finally:
        worker.stop()
        thread.join(timeout=30)
    assert not thread.is_alive()
    [message] = messages(ws)
    assert message.person_id == person_id(api, "lead-1")
    with read_only() as session:
        [accepted] = session.scalars(
            select(Event.received_at).where(owned(Event, ws), Event.event == "Trial Requested")
        )
    assert message.created_at >= accepted


class _Observed(Deliverer):
    """A deliverer that says when a claim found nothing (it is about to wait)."""

    def __init__(self, workspace_id: uuid.UUID) -> None:
        super().__init__(workspace_id=workspace_id)
        self.idle = threading.Event()

    def _claim(self) -> _Claimed:
        claimed = super()._claim()
        if claimed.size == 0:
            self.idle.set()
        return claimed


def test_a_queued_message_is_taken_without_waiting_for_the_poll(
    api: TestClient, track: Tracker, workspace: NewWorkspace, long_polls: None
) -> None:
    ws = workspace.workspace_id
    set_up(api, workspace)
    track.identify("lead-2", {"name": "王芳"})  # no address: the deliverer skips the message
    deliverer = _Observed(ws)
    thread = deliverer.start_thread()
    try:
        assert deliverer.idle.wait(WITHIN_S)
        with unit_of_work() as session:
            queued = send(session, ws, "email", "welcome", person_id(api, "lead-2"))

        def taken() -> bool:
            with read_only() as session:
                return session.get_one(Message, queued.id).status != "queued"

        wait_until(taken, timeout_s=WITHIN_S)
    finally:
        deliverer.stop()
        thread.join(timeout=30)
    assert not thread.is_alive()
