"""The job layer: enqueued in the caller's transaction, run with leases, retried with backoff,
dead-lettered with the error, followed through /api/v1/jobs and ``leadpond jobs``."""

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from leadpond.cli import app as cli
from leadpond.db.engine import read_only, unit_of_work
from leadpond.jobs import registry, service
from leadpond.jobs.models import Job
from leadpond.jobs.registry import JobContext, JobKind
from leadpond.jobs.runner import JobRunner
from leadpond.kit.clock import utcnow
from leadpond.playbooks.service import start_workspace
from leadpond.wiring import JOB_KINDS
from leadpond.workspaces.service import NewWorkspace
from tests.conftest import Tracker
from tests.jobs.slow_runner import SLOW, slow
from tests.pipeline.processes import LeadpondProcess, start_server, wait_until

FLAKY = "tests.flaky"
UNKNOWN = "tests.unknown"
calls: dict[str, int] = {}


def flaky(ctx: JobContext) -> dict[str, Any]:
    """Fails until its payload's ``fail_times`` is used up, reporting progress each time."""
    seen = calls[ctx.payload["name"]] = calls.get(ctx.payload["name"], 0) + 1
    ctx.progress(seen, ctx.payload["fail_times"] + 1, "trying")
    if seen <= ctx.payload["fail_times"]:
        raise RuntimeError(f"failure number {seen}")
    return {"calls": seen}


# The product's kinds and this test's: installed when the module loads, like leadpond.wiring.
registry.install(
    [*JOB_KINDS, JobKind(FLAKY, flaky, startable=False), JobKind(SLOW, slow, startable=False)]
)


def _job(job_id: int) -> Job:
    with read_only() as session:
        return session.get_one(Job, job_id)


def _enqueue(workspace: NewWorkspace, fail_times: int, max_attempts: int = 3) -> tuple[int, str]:
    name = uuid.uuid4().hex
    with unit_of_work() as session:
        job = service.enqueue(
            session,
            FLAKY,
            name,
            {"name": name, "fail_times": fail_times},
            workspace_id=workspace.workspace_id,
            max_attempts=max_attempts,
        )
        return job.id, name


def _make_due(job_id: int) -> None:
    with unit_of_work() as session:
        session.get_one(Job, job_id).run_at = utcnow()


@pytest.fixture
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr("leadpond.jobs.runner.backoff_s", lambda attempts: 0.0)
    yield


def test_the_same_key_returns_the_first_job_and_a_rollback_queues_nothing(
    workspace: NewWorkspace,
) -> None:
    ws = workspace.workspace_id
    with unit_of_work() as session:
        first = service.enqueue(session, UNKNOWN, "k1", {"a": 1}, workspace_id=ws)
        again = service.enqueue(session, UNKNOWN, "k1", {"a": 2}, workspace_id=ws)
        assert again.id == first.id and again.payload == {"a": 1}
    with pytest.raises(RuntimeError), unit_of_work() as session:
        service.enqueue(session, UNKNOWN, "k2", {}, workspace_id=ws)
        raise RuntimeError("the request failed after queueing")
    with read_only() as session:
        keys = session.scalars(
            select(Job.key).where(Job.workspace_id == workspace.workspace_id)
        ).all()
    assert keys == ["k1"]
    # A kind no handler knows is a dead letter at once, not a crash of the runner.
    JobRunner().run_pending()
    dead = _job(first.id)
    assert dead.state == "failed" and "no handler" in (dead.last_error or "")


def test_a_failing_job_backs_off_then_succeeds(workspace: NewWorkspace) -> None:
    JobRunner().run_pending()
    job_id, _name = _enqueue(workspace, fail_times=1)
    runner = JobRunner()
    assert runner.run_one()
    failed_once = _job(job_id)
    assert (failed_once.state, failed_once.attempts) == ("queued", 1)
    assert "RuntimeError: failure number 1" in (failed_once.last_error or "")
    # Exponential backoff: not due again for a while, so the runner finds nothing now.
    assert failed_once.run_at > utcnow()
    assert JobRunner().run_pending() == 0
    _make_due(job_id)
    assert runner.run_one()
    done = _job(job_id)
    assert (done.state, done.attempts, done.result) == ("succeeded", 2, {"calls": 2})
    assert (done.progress_done, done.progress_total) == (2, 2)
    assert done.finished_at is not None and done.locked_by is None


def test_backoff_doubles_per_attempt(monkeypatch: pytest.MonkeyPatch) -> None:
    from leadpond.jobs.runner import backoff_s

    assert [backoff_s(n) for n in (1, 2, 3, 4)] == [10.0, 20.0, 40.0, 80.0]
    assert backoff_s(30) == 3600.0


def test_a_job_that_always_fails_ends_dead_with_its_error_then_retries_by_hand(
    api: TestClient, workspace: NewWorkspace, no_backoff: None
) -> None:
    job_id, _name = _enqueue(workspace, fail_times=5, max_attempts=3)
    JobRunner().run_pending()
    dead = api.get(f"/api/v1/jobs/{job_id}").json()
    assert (dead["state"], dead["attempts"]) == ("failed", 3)
    assert "RuntimeError: failure number 3" in dead["last_error"]
    assert dead["finished_at"].endswith("Z")

    runner = CliRunner()
    listed = runner.invoke(cli, ["jobs", "list", "--state", "failed", "--json"])
    assert listed.exit_code == 0, listed.output
    assert job_id in [j["id"] for j in json.loads(listed.output)["items"]]
    table = runner.invoke(cli, ["jobs", "list", "--workspace", str(workspace.workspace_id)])
    assert table.exit_code == 0 and FLAKY in table.output

    retried = runner.invoke(cli, ["jobs", "retry", str(job_id)])
    assert retried.exit_code == 0, retried.output
    assert (_job(job_id).state, _job(job_id).attempts) == ("queued", 0)
    JobRunner().run_pending()
    # Three more attempts (calls 4, 5 fail; the 6th succeeds).
    assert _job(job_id).state == "succeeded"


def test_cancel_a_queued_job_and_refuse_to_cancel_it_twice(
    api: TestClient, workspace: NewWorkspace
) -> None:
    job_id, _name = _enqueue(workspace, fail_times=0)
    cancelled = api.post(f"/api/v1/jobs/{job_id}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
    JobRunner().run_pending()
    assert _job(job_id).state == "cancelled"
    again = CliRunner().invoke(cli, ["jobs", "cancel", str(job_id)])
    assert again.exit_code != 0
    refused = api.post(f"/api/v1/jobs/{job_id}/cancel")
    assert refused.status_code == 409 and refused.json()["code"] == "job_state_conflict"
    assert api.post(f"/api/v1/jobs/{job_id}/retry").json()["state"] == "queued"


def test_a_job_whose_runner_died_is_taken_again_when_its_lease_lapses(
    workspace: NewWorkspace,
) -> None:
    JobRunner().run_pending()
    job_id, name = _enqueue(workspace, fail_times=0)
    killed = JobRunner(lease_s=0.2)
    assert killed.claim() is not None  # ... and the process dies before running it
    assert _job(job_id).state == "running"
    assert JobRunner().claim() is None  # the lease holds meanwhile
    time.sleep(0.3)
    assert JobRunner().run_one()
    done = _job(job_id)
    assert (done.state, done.attempts, calls[name]) == ("succeeded", 2, 1)


def test_a_lease_that_lapses_on_the_last_attempt_is_a_dead_letter(
    workspace: NewWorkspace,
) -> None:
    JobRunner().run_pending()
    job_id, _name = _enqueue(workspace, fail_times=0, max_attempts=1)
    assert JobRunner(lease_s=0.1).claim() is not None
    time.sleep(0.2)
    JobRunner().run_one()
    dead = _job(job_id)
    assert dead.state == "failed" and "lease expired" in (dead.last_error or "")


def test_jobs_are_scoped_to_their_workspace(
    api: TestClient, client: TestClient, workspace: NewWorkspace
) -> None:
    job_id, _name = _enqueue(workspace, fail_times=0)
    with unit_of_work() as session:
        other = start_workspace(session, f"other-{uuid.uuid4().hex[:8]}")
    theirs = {"Authorization": f"Bearer {other.api_key}"}
    missing = client.get(f"/api/v1/jobs/{job_id}", headers=theirs)
    assert missing.status_code == 404 and missing.json()["code"] == "job_not_found"
    assert client.get("/api/v1/jobs", headers=theirs).json()["total"] == 0
    assert api.get("/api/v1/jobs").json()["items"][0]["id"] == job_id
    assert client.get(f"/api/v1/jobs/{job_id}", headers={"Authorization": ""}).status_code == 401
    assert api.get("/api/v1/jobs/0").status_code == 422


def test_the_rules_backfill_answers_202_and_its_job_reports_progress_and_the_report(
    api: TestClient, track: Tracker
) -> None:
    for n in range(3):
        track.track("Signed Up", f"b{n}")
    queued = api.post("/api/v1/rules/backfill", headers={"Idempotency-Key": "bf-1"})
    assert queued.status_code == 202
    body = queued.json()
    assert body["state"] == "queued" and body["kind"] == "rules.backfill"
    assert queued.headers["Location"] == f"/api/v1/jobs/{body['id']}"
    # A retried request (same key) answers the same job instead of a second replay.
    assert (
        api.post("/api/v1/rules/backfill", headers={"Idempotency-Key": "bf-1"}).json()["id"]
        == body["id"]
    )
    JobRunner().run_pending()
    done = api.get(queued.headers["Location"]).json()
    assert done["state"] == "succeeded"
    assert done["result"]["people"] == 3 and done["result"]["events"] == 3
    assert done["progress"] == {"done": 3, "total": 3, "message": "people replayed"}


def test_start_a_whole_workspace_job_by_kind(api: TestClient, track: Tracker) -> None:
    track.identify("r1", traits={"email": "r1@acme.cn"})
    started = api.post("/api/v1/jobs", json={"kind": "identity.rebuild"})
    assert started.status_code == 202, started.text
    JobRunner().run_pending()
    done = api.get(started.headers["Location"]).json()
    assert done["state"] == "succeeded" and done["result"]["events"] == 1
    unknown = api.post("/api/v1/jobs", json={"kind": "tests.flaky"})
    assert unknown.status_code == 400 and unknown.json()["code"] == "invalid_input"
    cli_started = CliRunner().invoke(
        cli, ["jobs", "start", "identity.rebuild", "--workspace", str(track.workspace.workspace_id)]
    )
    assert cli_started.exit_code == 0, cli_started.output
    assert json.loads(cli_started.output)["state"] == "queued"
    assert CliRunner().invoke(cli, ["jobs", "run"]).exit_code == 0


def test_a_runner_process_killed_mid_job_hands_the_job_to_the_next_runner(
    database_url: str, workspace: NewWorkspace, tmp_path: Path
) -> None:
    JobRunner().run_pending()
    with unit_of_work() as session:
        job_id = service.enqueue(
            session, SLOW, "kill-me", {}, workspace_id=workspace.workspace_id
        ).id
    root = Path(__file__).resolve().parents[2]
    env = {
        **os.environ,
        "LEADPOND_DATABASE_URL": database_url,
        "PYTHONPATH": os.pathsep.join([str(root / "src"), str(root)]),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.jobs.slow_runner", "1.0"],
        env=env,
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "runner.log").open("wb"),
    )
    try:
        wait_until(
            lambda: _job(job_id).progress_done == 1,
            timeout_s=60,
            describe=lambda: (tmp_path / "runner.log").read_text()[-3000:],
        )
        assert _job(job_id).state == "running"
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    wait_until(lambda: JobRunner().run_pending() > 0, timeout_s=10, poll_s=0.2)
    done = _job(job_id)
    assert (done.state, done.attempts, done.result) == (
        "succeeded",
        2,
        {"finished_on_attempt": 2},
    )


def test_a_runner_that_stops_hands_its_job_back_at_the_next_progress_report(
    workspace: NewWorkspace,
) -> None:
    JobRunner().run_pending()
    job_id, name = _enqueue(workspace, fail_times=0)
    stopping = JobRunner()
    ctx = stopping.claim()
    assert ctx is not None and ctx.job_id == job_id
    stopping.stop()
    stopping.execute(ctx)  # the handler's first progress report finds the runner stopping
    handed_back = _job(job_id)
    assert (handed_back.state, handed_back.attempts, handed_back.locked_by) == ("queued", 0, None)
    assert JobRunner().run_one()
    assert (_job(job_id).state, calls[name]) == ("succeeded", 2)


def test_leadpond_serve_runs_the_backfill_it_was_asked_for(
    database_url: str, workspace: NewWorkspace, tmp_path: Path
) -> None:
    started: list[LeadpondProcess] = []

    def spawn(args: list[str], log_name: str) -> LeadpondProcess:
        started.append(LeadpondProcess(args, database_url, tmp_path / log_name))
        return started[-1]

    headers = {"Authorization": f"Bearer {workspace.api_key}"}
    try:
        server, url = start_server(spawn, "serve.log", worker=True)
        queued = httpx.post(f"{url}/api/v1/rules/backfill", headers=headers, timeout=10)
        assert queued.status_code == 202, queued.text
        location = f"{url}{queued.headers['Location']}"

        def finished() -> bool:
            return httpx.get(location, headers=headers, timeout=5).json()["state"] == "succeeded"

        wait_until(finished, timeout_s=60, poll_s=0.1, describe=server.log_tail)
    finally:
        for process in started:
            process.kill_9()
