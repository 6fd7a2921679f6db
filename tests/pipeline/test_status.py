"""The pipeline's backlog, as the admin API and the CLI report it, and draining it."""

import json
from datetime import timedelta

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from leadpond.cli import app as cli
from leadpond.db.engine import unit_of_work
from leadpond.ingest.service import append_events
from leadpond.ingest.spec import normalise
from leadpond.kit.clock import utcnow
from leadpond.pipeline import worker
from leadpond.playbooks.service import start_workspace
from leadpond.workspaces.service import NewWorkspace
from tests.conftest import Tracker


def _append_tracks(workspace: NewWorkspace, count: int, minutes_ago: float = 0.0) -> None:
    """Events that arrived ``minutes_ago``, straight into the log."""
    received_at = utcnow() - timedelta(minutes=minutes_ago)
    messages = [
        normalise(
            {"type": "track", "userId": f"u{n}", "event": "浏览定价"}, received_at=received_at
        )
        for n in range(count)
    ]
    with unit_of_work() as session:
        append_events(session, workspace.workspace_id, messages, received_at)


def test_backlog_counts_and_oldest_age_before_and_after_drain(
    api: TestClient, workspace: NewWorkspace
) -> None:
    worker.drain()
    empty = api.get("/api/v1/pipeline")
    assert empty.status_code == 200
    assert empty.json() == {
        "pending_events": 0,
        "processed_events": 0,
        "oldest_pending_age_s": 0.0,
        "derived_events": 0,
        "quarantined_events": 0,
    }

    _append_tracks(workspace, 3, minutes_ago=5)
    _append_tracks(workspace, 2)
    waiting = api.get("/api/v1/pipeline").json()
    assert (waiting["pending_events"], waiting["processed_events"]) == (5, 0)
    assert 300 <= waiting["oldest_pending_age_s"] < 360

    assert worker.drain() == 5
    drained = api.get("/api/v1/pipeline").json()
    assert drained == {
        "pending_events": 0,
        "processed_events": 5,
        "oldest_pending_age_s": 0.0,
        "derived_events": 0,
        "quarantined_events": 0,
    }


def test_derived_events_are_counted_apart_from_received_ones(
    api: TestClient, track: Tracker
) -> None:
    track.track("Trial Requested", "t1")  # the default playbook derives Hand Raised from it
    counts = api.get("/api/v1/pipeline").json()
    assert counts["processed_events"] == 1
    assert counts["derived_events"] >= 1


def test_backlog_is_scoped_to_the_callers_workspace(
    api: TestClient, track: Tracker, workspace: NewWorkspace
) -> None:
    track.track("Signed Up", "u1")
    with unit_of_work() as session:
        other = start_workspace(session, "另一个工作区")
    _append_tracks(other, 4, minutes_ago=60)
    _append_tracks(workspace, 1)
    mine = api.get("/api/v1/pipeline").json()
    assert (mine["pending_events"], mine["processed_events"]) == (1, 1)
    assert mine["oldest_pending_age_s"] < 60
    theirs = api.get("/api/v1/pipeline", headers={"Authorization": f"Bearer {other.api_key}"})
    assert theirs.json()["pending_events"] == 4
    worker.drain()


def test_pipeline_status_needs_an_api_key(client: TestClient, workspace: NewWorkspace) -> None:
    missing = client.get("/api/v1/pipeline")
    write_key = client.get(
        "/api/v1/pipeline", headers={"Authorization": f"Bearer {workspace.write_key}"}
    )
    wrong = client.get("/api/v1/pipeline", headers={"Authorization": "Bearer lpk_wrong"})
    for response in (missing, write_key, wrong):
        assert response.status_code == 401
        assert response.json()["code"] == "unauthorized"


def test_cli_drain_processes_the_backlog_and_status_reports_it(
    api: TestClient, workspace: NewWorkspace
) -> None:
    worker.drain()
    _append_tracks(workspace, 7, minutes_ago=2)
    runner = CliRunner()

    before = runner.invoke(cli, ["pipeline", "status"])
    assert before.exit_code == 0, before.output
    assert json.loads(before.output)["pending_events"] == 7

    drained = runner.invoke(cli, ["pipeline", "drain", "--batch-size", "3"])
    assert drained.exit_code == 0, drained.output
    assert "processed 7 events" in drained.output
    assert api.get("/api/v1/pipeline").json()["processed_events"] == 7

    after = json.loads(runner.invoke(cli, ["pipeline", "status"]).output)
    assert (after["pending_events"], after["oldest_pending_age_s"]) == (0, 0.0)


def test_batch_size_must_be_positive(backend: str) -> None:
    runner = CliRunner()
    for command in (["pipeline", "drain"], ["worker"]):
        refused = runner.invoke(cli, [*command, "--batch-size", "0"])
        assert refused.exit_code == 2
        assert "--batch-size" in refused.output


def test_drain_reports_each_batch_to_its_progress_callback(workspace: NewWorkspace) -> None:
    worker.drain()
    _append_tracks(workspace, 7)
    heard: list[int] = []
    assert worker.drain(batch_size=3, progress=heard.append) == 7
    assert heard == [3, 3, 1]
