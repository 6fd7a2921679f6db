"""The events' scheduled jobs: the reminder before the start (through the outbox, once per
registration and channel), the no-show marking at the end, and jobs of an event that moved
doing nothing; on both databases."""

import uuid
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from leadpond.channels.models import Message
from leadpond.db.engine import read_only, unit_of_work
from leadpond.engage import events_messages
from leadpond.engage.events_models import MarketingEvent
from leadpond.jobs.models import Job
from leadpond.jobs.runner import JobRunner
from leadpond.kit.clock import utcnow
from leadpond.kit.scope import owned
from leadpond.pipeline import worker
from leadpond.workspaces.service import NewWorkspace
from tests.engage.events_world import conference, create, register_on_page


def _jobs(workspace: NewWorkspace, kind: str) -> list[Job]:
    with read_only() as session:
        return list(
            session.scalars(
                select(Job)
                .where(owned(Job, workspace.workspace_id), Job.kind == kind)
                .order_by(Job.id)
            )
        )


def _due_now(job_ids: list[int]) -> None:
    with unit_of_work() as session:
        session.execute(update(Job).where(Job.id.in_(job_ids)).values(run_at=utcnow()))


def test_reminders_go_once_and_no_shows_are_marked_at_the_end(
    api: TestClient, client: TestClient, workspace: NewWorkspace
) -> None:
    template = {
        "key": "event-reminder",
        "channel": "email",
        "purpose": "transactional",
        "subject": "明天见：{{ event.name }}",
        "body": "<p>{{ event.starts_at }} {{ event.venue }}</p>",
    }
    assert api.post("/api/v1/templates", json=template).status_code == 201
    body = conference(f"conf-{uuid.uuid4().hex[:8]}", messages={"reminder_email": "event-reminder"})
    event = create(api, body)
    register_on_page(client, event["key"], email="zhangwei@shbank.cn")
    worker.drain()
    [remind] = _jobs(workspace, "events.remind")
    [close] = _jobs(workspace, "events.close")
    end = datetime.fromisoformat(event["ends_at"]).replace(tzinfo=None)
    assert abs(close.run_at - end) < timedelta(seconds=1)
    start = datetime.fromisoformat(event["starts_at"]).replace(tzinfo=None)
    assert abs(remind.run_at - (start - timedelta(hours=24))) < timedelta(seconds=1)
    _due_now([remind.id])
    JobRunner().run_pending()
    with unit_of_work() as session:  # the reminder decided again (a retry) sends nothing more
        again = session.get(MarketingEvent, event["id"])
        assert again is not None and events_messages.remind(session, again) == (1, 0)
    with read_only() as session:
        sent = session.scalars(
            select(Message.idempotency_key).where(owned(Message, workspace.workspace_id))
        ).all()
    assert len(sent) == 1 and sent[0].startswith("event-reminder:")

    moved = {**body, "starts_at": (datetime.now(UTC) - timedelta(hours=9)).isoformat()}
    moved["ends_at"] = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    assert api.put(f"/api/v1/events/{event['id']}", json=moved).status_code == 200
    closes = _jobs(workspace, "events.close")
    assert len(closes) == 2
    _due_now([j.id for j in closes])
    JobRunner().run_pending()
    results = [j.result for j in _jobs(workspace, "events.close")]
    assert results == [{"skipped": "the event moved"}, {"no_shows": 1}]
    with read_only() as session:
        marked = session.scalar(
            select(MarketingEvent.no_shows_marked_at).where(MarketingEvent.id == event["id"])
        )
    assert marked is not None
