"""A dry-run over the same history answers what the live run did — the same people enrolled,
down the same arms, the same messages, ending in the same states — and keeps nothing; on both
databases, for generated histories (hypothesis)."""

import json
import uuid
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from typer.testing import CliRunner

from leadpond.channels.models import Message
from leadpond.cli import app
from leadpond.db.engine import read_only, rolled_back, unit_of_work
from leadpond.journeys.dryrun import DryRunReport, dry_run
from leadpond.journeys.models import Enrollment, StepLog
from leadpond.journeys.runner import run_due
from leadpond.kit.clock import isoformat, utcnow
from leadpond.kit.errors import InvalidInput
from leadpond.kit.scope import owned
from leadpond.playbooks.service import start_workspace
from leadpond.workspaces.service import NewWorkspace
from tests.conftest import Tracker
from tests.journeys.conftest import live_as_dry, playbook_with, set_up

CASES = {
    "key": "cases",
    "name": "行业案例",
    "trigger": {"event": "Trial Requested", "where": {"plan": "pro"}},
    "steps": [
        {
            "id": "which",
            "branch": [
                {"if": {"trait": "industry", "eq": "retail"}, "goto": "retail"},
                {"goto": "later"},
            ],
        },
        {"id": "retail", "send": {"channel": "email", "template": "case-a"}, "next": "exit"},
        {"id": "later", "wait": "1d"},
        {"id": "other", "send": {"channel": "email", "template": "case-b"}},
    ],
}
INDUSTRIES = ("retail", "banking", "energy")


def _dry(report: DryRunReport) -> dict[str, Any]:
    return {
        "enrolled": report.enrolled,
        "states": report.states,
        "steps": report.steps,
        "messages": report.messages,
        "paths": {
            p["person_id"]: [f"{s['step']}:{s['kind']}:{s.get('arm')}" for s in p["path"]]
            for p in report.people
        },
    }


def _rows(ws: uuid.UUID) -> tuple[int, int, int]:
    with read_only() as session:
        return (
            session.scalar(select(func.count()).where(owned(Enrollment, ws))) or 0,
            session.scalar(select(func.count()).select_from(StepLog).where(owned(StepLog, ws)))
            or 0,
            session.scalar(select(func.count()).select_from(Message).where(owned(Message, ws)))
            or 0,
        )


def _history(track: Tracker, people: list[tuple[str, bool]]) -> None:
    """Each person identified with an industry, then their trial request (pro or not)."""
    for i, (industry, pro) in enumerate(people):
        track.identify(
            f"u{i}", {"name": f"客户{i}", "email": f"u{i}@acme.cn", "industry": industry}
        )
        track.track("Trial Requested", f"u{i}", {"plan": "pro" if pro else "free"})


def _compare(ws: uuid.UUID, started: Any) -> None:
    later = utcnow() + timedelta(days=1, minutes=5)
    run_due(ws, later)
    live = live_as_dry(ws, "cases")
    before = _rows(ws)
    with rolled_back() as session:
        report = dry_run(session, ws, "cases", started - timedelta(minutes=1), later)
    assert _rows(ws) == before  # nothing kept
    assert _dry(report) == live
    assert report.triggered >= report.enrolled


def test_a_dry_run_answers_what_the_live_run_did_and_keeps_nothing(
    api: TestClient, track: Tracker, workspace: NewWorkspace
) -> None:
    set_up(api, workspace, CASES)
    started = utcnow()
    _history(track, [("retail", True), ("banking", True), ("energy", False), ("retail", True)])
    _compare(workspace.workspace_id, started)
    live = live_as_dry(workspace.workspace_id, "cases")
    assert live["messages"] == {"email case-a": 2, "email case-b": 1}


def test_a_dry_run_of_an_api_journey_or_a_backwards_period_is_refused(
    api: TestClient, workspace: NewWorkspace
) -> None:
    set_up(api, workspace, {**CASES, "trigger": {"api": True}})
    now = utcnow()
    with rolled_back() as session, pytest.raises(InvalidInput, match="API only"):
        dry_run(session, workspace.workspace_id, "cases", now - timedelta(days=1), now)
    with rolled_back() as session, pytest.raises(InvalidInput, match="until"):
        dry_run(session, workspace.workspace_id, "cases", now, now - timedelta(days=1))
    answer = api.post(
        "/api/v1/journeys/nope/dry-run",
        json={"since": "2026-01-01T00:00:00Z", "until": "2026-02-01T00:00:00Z"},
    )
    assert (answer.status_code, answer.json()["code"]) == (404, "journey_not_found")


def test_the_dry_run_api_reports_paths(
    api: TestClient, track: Tracker, workspace: NewWorkspace
) -> None:
    set_up(api, workspace, CASES)
    start = utcnow() - timedelta(minutes=1)
    _history(track, [("retail", True), ("banking", True)])
    until = start + timedelta(days=2)
    before = _rows(workspace.workspace_id)
    answer = api.post(
        "/api/v1/journeys/cases/dry-run",
        json={"since": start.isoformat() + "Z", "until": until.isoformat() + "Z"},
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["enrolled"] == 2 and body["messages"] == {"email case-a": 1, "email case-b": 1}
    assert body["states"] == {"exited": 1, "completed": 1}
    arms = sorted(s.get("arm") for p in body["people"] for s in p["path"] if s["step"] == "which")
    assert arms == ["later", "retail"]
    assert _rows(workspace.workspace_id) == before


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    people=st.lists(st.tuples(st.sampled_from(INDUSTRIES), st.booleans()), min_size=1, max_size=6)
)
def test_any_history_dry_run_equals_the_live_run(
    client: TestClient, people: list[tuple[str, bool]]
) -> None:
    with unit_of_work() as session:
        workspace = start_workspace(session, f"dry-{uuid.uuid4().hex[:8]}")
    client.headers["Authorization"] = f"Bearer {workspace.api_key}"
    set_up(client, workspace, CASES)
    started = utcnow()
    _history(Tracker(client, workspace), people)
    _compare(workspace.workspace_id, started)


def test_the_dry_run_command_prints_the_report_and_names_a_bad_time(
    api: TestClient, track: Tracker, workspace: NewWorkspace
) -> None:
    set_up(api, workspace, CASES)
    start = utcnow() - timedelta(minutes=1)
    _history(track, [("retail", True)])
    runner = CliRunner()
    ws = str(workspace.workspace_id)
    common = ["journey", "dry-run", "--workspace", ws, "--journey", "cases"]
    bad = runner.invoke(app, [*common, "--since", "last week", "--until", isoformat(utcnow())])
    assert bad.exit_code != 0 and "--since" in str(bad.exception)
    done = runner.invoke(
        app, [*common, "--since", isoformat(start), "--until", isoformat(utcnow())]
    )
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["messages"] == {"email case-a": 1}


def test_a_draft_journey_is_tried_on_history_without_applying_the_draft(
    api: TestClient, track: Tracker, workspace: NewWorkspace
) -> None:
    set_up(api, workspace)  # the templates; the current playbook has no journey "cases"
    start = utcnow() - timedelta(minutes=1)
    _history(track, [("retail", True), ("banking", True), ("energy", False)])
    version = api.get("/api/v1/journeys").json()["version"]
    window = {"since": isoformat(start), "until": isoformat(start + timedelta(days=2))}
    answer = api.post(
        "/api/v1/playbook/journeys/cases/dry-run",
        params=window,
        content=playbook_with(CASES).encode(),
        headers={"Content-Type": "application/yaml"},
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["triggered"], body["enrolled"]) == (2, 2)  # the free plan does not trigger
    assert body["messages"] == {"email case-a": 1, "email case-b": 1}
    after = api.get("/api/v1/journeys").json()
    assert after["version"] == version and "cases" not in {j["key"] for j in after["items"]}
    broken = api.post(
        "/api/v1/playbook/journeys/cases/dry-run",
        params=window,
        content=playbook_with({**CASES, "steps": [{"id": "x", "wait": "soon"}]}).encode(),
        headers={"Content-Type": "application/yaml"},
    )
    assert broken.status_code == 422 and broken.json()["code"] == "invalid_playbook"
    assert broken.json()["errors"][0]["line"]
