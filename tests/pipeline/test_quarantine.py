"""No event stops the pipeline: a failing batch is bisected and the events that fail alone are
quarantined with their stage and error, while every other event (and workspace) goes on."""

import json
import uuid
from collections.abc import Iterator
from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from typer.testing import CliRunner

from leadpond.cli import app as cli
from leadpond.db.engine import read_only, unit_of_work
from leadpond.flow.batch import Batch
from leadpond.ingest.models import Event
from leadpond.ingest.service import append_events
from leadpond.ingest.spec import normalise
from leadpond.jobs.runner import JobRunner
from leadpond.kit.clock import utcnow
from leadpond.pipeline import worker
from leadpond.playbooks.service import start_workspace
from leadpond.workspaces.service import NewWorkspace

POISON = "Poisoned"


def _append(workspace: NewWorkspace, messages: list[dict[str, object]]) -> list[int]:
    """Append to the log; the new events' ids, in order."""
    now = utcnow()
    normalised = [normalise(m, received_at=now) for m in messages]
    with unit_of_work() as session:
        append_events(session, workspace.workspace_id, normalised, now)
        return list(
            session.scalars(
                select(Event.id)
                .where(
                    Event.workspace_id == workspace.workspace_id,
                    Event.message_id.in_([m.message_id for m in normalised]),
                )
                .order_by(Event.id)
            )
        )


def _insert_year_one_event(workspace: NewWorkspace, user_id: str) -> int:
    """The message the issue reproduces, written straight into the log (ingest may refuse it)."""
    message = {"type": "track", "userId": user_id, "event": "E"}
    (event_id,) = _append(workspace, [message])
    with unit_of_work() as session:
        session.execute(
            text("UPDATE event SET timestamp = :ts WHERE id = :id"),
            {"ts": datetime(1, 1, 1), "id": event_id},
        )
    return event_id


def _event(event_id: int) -> Event:
    with read_only() as session:
        return session.get_one(Event, event_id)


@pytest.fixture
def other(backend: str) -> NewWorkspace:
    with unit_of_work() as session:
        return start_workspace(session, f"other-{uuid.uuid4().hex[:8]}")


def test_a_year_one_event_is_quarantined_while_another_workspace_processes(
    api: TestClient, workspace: NewWorkspace, other: NewWorkspace
) -> None:
    worker.drain()
    # The person has a history first, so that their rules state is loaded around the poison.
    before = _append(workspace, [{"type": "track", "userId": "x", "event": "Signed Up"}])
    worker.drain()
    poison = _insert_year_one_event(workspace, "x")
    after = _append(workspace, [{"type": "track", "userId": "x", "event": "Webinar Attended"}])
    theirs = _append(
        other, [{"type": "track", "userId": f"o{n}", "event": "Signed Up"} for n in range(5)]
    )

    assert worker.drain(batch_size=50) == 1 + 5 + 1

    quarantined = _event(poison)
    assert quarantined.processed_at is None and quarantined.failed_at is not None
    assert quarantined.failed_stage and quarantined.failed_error
    assert "OverflowError" in quarantined.failed_error
    for event_id in [*before, *after, *theirs]:
        assert _event(event_id).processed_at is not None
    assert worker.status(other.workspace_id).quarantined_events == 0
    mine = api.get("/api/v1/pipeline").json()
    assert (mine["pending_events"], mine["quarantined_events"]) == (0, 1)
    listed = api.get("/api/v1/pipeline/quarantine").json()
    assert listed["total"] == 1
    assert listed["items"][0]["id"] == poison
    assert listed["items"][0]["failed_stage"] == quarantined.failed_stage

    # The backfill of that workspace replays processed events only: it succeeds as a job.
    queued = api.post("/api/v1/rules/backfill")
    assert queued.status_code == 202, queued.text
    JobRunner().run_pending()
    job = api.get(queued.headers["Location"]).json()
    assert job["state"] == "succeeded", job["last_error"]
    assert job["result"]["people"] >= 1

    # Retrying puts it back; it fails the same way and is quarantined again, alone.
    runner = CliRunner()
    retried = runner.invoke(
        cli, ["pipeline", "retry-failed", "--workspace", str(workspace.workspace_id)]
    )
    assert retried.exit_code == 0, retried.output
    assert "1 quarantined event(s) queued again" in retried.output
    assert worker.status(workspace.workspace_id).pending_events == 1
    assert worker.drain() == 1
    assert _event(poison).failed_at is not None
    status = json.loads(runner.invoke(cli, ["pipeline", "status"]).output)
    assert status["quarantined_by_workspace"][str(workspace.workspace_id)] == 1
    assert str(other.workspace_id) not in status["quarantined_by_workspace"]


@pytest.fixture
def poisoned_stage(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """A first stage that raises whenever its batch holds an event named ``Poisoned``; yields
    the sizes of the batches it saw."""
    seen: list[int] = []

    def refuse_poison(batch: Batch) -> None:
        seen.append(len(batch.events))
        if any(e.event == POISON for e in batch.events):
            raise ValueError("this stage cannot take a poisoned event")

    monkeypatch.setattr(worker, "STAGES", [refuse_poison, *worker.STAGES])
    yield seen


def test_one_poisoned_event_in_a_batch_of_100_leaves_99_processed(
    workspace: NewWorkspace, other: NewWorkspace, poisoned_stage: list[int]
) -> None:
    worker.drain()
    messages: list[dict[str, object]] = [
        {"type": "track", "userId": f"u{n}", "event": "Signed Up"} for n in range(100)
    ]
    messages[37]["event"] = POISON
    ids = _append(workspace, messages)
    theirs = _append(other, [{"type": "track", "userId": "o1", "event": "Signed Up"}])
    poisoned_stage.clear()

    assert worker.drain(batch_size=200) == 101

    poison = _event(ids[37])
    assert poison.failed_at is not None and poison.processed_at is None
    assert poison.failed_stage == "tests.pipeline.test_quarantine.refuse_poison"
    assert "ValueError: this stage cannot take a poisoned event" in (poison.failed_error or "")
    with read_only() as session:
        processed = session.scalar(
            select(text("count(*)"))
            .select_from(Event)
            .where(Event.id.in_([*ids, *theirs]), Event.processed_at.is_not(None))
        )
    assert processed == 100
    # Bisection: the whole batch, then halves down to the one event (log2 of 101 levels).
    assert poisoned_stage[0] == 101
    assert len(poisoned_stage) <= 2 * 8 + 1


def test_a_quarantined_event_is_processed_once_retried_after_the_fix(
    api: TestClient,
    workspace: NewWorkspace,
    poisoned_stage: list[int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    worker.drain()
    ids = _append(workspace, [{"type": "track", "userId": "p1", "event": POISON}])
    worker.drain()
    assert _event(ids[0]).failed_at is not None
    monkeypatch.setattr(worker, "STAGES", worker.STAGES[1:])  # the stage is fixed

    retried = api.post("/api/v1/pipeline/quarantine/retry")
    assert retried.json() == {"queued_again": 1}
    assert worker.drain() == 1
    fixed = _event(ids[0])
    assert fixed.processed_at is not None and fixed.failed_at is None
    assert fixed.failed_stage is None and fixed.failed_error is None


def test_the_pending_claim_reads_the_partial_index_that_leaves_quarantine_out(
    backend: str,
) -> None:
    if backend != "sqlite":
        pytest.skip("the plan of the SQLite claim; PostgreSQL plans by statistics")
    with read_only() as session:
        plan = session.execute(
            text(
                "EXPLAIN QUERY PLAN SELECT id FROM event "
                "WHERE processed_at IS NULL AND failed_at IS NULL ORDER BY id LIMIT 10"
            )
        ).all()
    assert "ix_event_pending" in " ".join(str(row[-1]) for row in plan)
