"""Playbooks as code: validate, apply (versioned, idempotent), export; errors name line and key."""

import json
from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from leadpond.cli import app as cli
from leadpond.jobs.runner import JobRunner
from leadpond.playbooks.service import default_source
from leadpond.workspaces.service import NewWorkspace
from tests.conftest import Tracker, finish_job
from tests.rules.helpers import person_id, scores

SMALL = """\
version: 1
stages:
  - {key: lead}
  - {key: hot}
tag_categories:
  - {key: topic}
tag_rules:
  - id: topic
    on: {event: Article Read}
    then: {add_tags: ["topic:{topic}"]}
score_models:
  - key: reading
    rules:
      - {id: read, on: {event: Article Read}, points: 5}
stage_rules:
  - {to: lead}
  - {to: hot, if: {score: {reading: {gte: 10}}}}
"""

WITH_SEGMENT = (
    SMALL
    + """\
segments:
  - key: readers
    name: Readers
    if: {stage: {in: [hot]}}
"""
)

BROKEN = """\
version: 1
stages:
  - {key: lead}
stage_rules:
  - to: lead
    if:
      all:
        - {trait: title, matches: CIO}
        - {score: {reading: {gte: lots}}}
"""


def test_new_workspaces_run_the_default_playbook(api: TestClient) -> None:
    exported = api.get("/api/v1/playbook")
    assert exported.status_code == 200
    assert exported.text == default_source()


def test_apply_is_versioned_and_idempotent(api: TestClient) -> None:
    first = api.post(
        "/api/v1/playbook", content=SMALL, headers={"Content-Type": "application/yaml"}
    )
    assert first.status_code == 200, first.text
    assert first.json() == {"version": 2, "changed": True, "backfill_job": None}
    again = api.post("/api/v1/playbook", content=SMALL)
    assert again.json() == {"version": 2, "changed": False, "backfill_job": None}
    assert api.get("/api/v1/playbook").text == SMALL


def test_errors_point_to_the_line_and_key(api: TestClient) -> None:
    response = api.post("/api/v1/playbook", content=BROKEN)
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid_playbook"
    error = body["errors"][0]
    assert (error["path"], error["line"]) == ("stage_rules[0].if.all[1].score.reading.gte", 9)
    assert body["message"].startswith("line 9, stage_rules[0].if.all[1].score.reading.gte")
    unknown = api.post("/api/v1/playbook", content=SMALL.replace("{to: hot, if", "{to: warm, if"))
    assert unknown.json()["errors"][0]["path"] == "stage_rules[1].to"
    assert unknown.json()["errors"][0]["line"] == 17
    typo = api.post("/api/v1/playbook", content=SMALL.replace("points: 5", "pionts: 5"))
    assert typo.status_code == 422
    assert typo.json()["errors"][0]["line"] == 14
    assert api.get("/api/v1/playbook").text == default_source()


def test_json_schema_is_published(client: TestClient) -> None:
    schema = client.get("/api/v1/playbook/schema").json()
    assert schema["title"] == "leadpond playbook"
    assert "Condition" in schema["$defs"]
    assert schema["$defs"]["TagRule"]["properties"]["if"]["$ref"] == "#/$defs/Condition"


def test_apply_with_backfill_replays_history(track: Tracker, api: TestClient) -> None:
    track.track("Article Read", "r1", {"topic": "graph"})
    track.track("Article Read", "r1", {"topic": "ai"})
    pid = person_id(api, user_id="r1")
    assert "reading" not in scores(api, pid)
    applied = api.post("/api/v1/playbook", params={"backfill": "true"}, content=WITH_SEGMENT)
    assert applied.json()["version"] == 2 and applied.json()["changed"] is True
    assert applied.json()["backfill_job"]["state"] == "queued"
    report = finish_job(api, applied)["result"]
    assert report["people"] == 1 and report["events"] == 2
    assert scores(api, pid)["reading"]["points"] == 10
    assert api.get(f"/api/v1/people/{pid}/stage").json()["stage"] == "hot"
    tags = {t["tag"] for t in api.get(f"/api/v1/people/{pid}/tags").json()["items"]}
    assert tags == {"topic:graph", "topic:ai"}
    # The segment was built when the playbook was applied, before the replay gave the points:
    # the replay rebuilds it, and its history says why the person entered.
    members = api.get("/api/v1/segments/readers/members").json()
    assert [m["id"] for m in members["items"]] == [pid]
    history = api.get("/api/v1/segments/readers/history").json()["items"]
    assert [(h["member_id"], h["change"], h["reason"]) for h in history] == [
        (pid, "entered", "history replayed")
    ]


def test_cli_backfill_replays_rules_and_segments(
    track: Tracker, api: TestClient, workspace: NewWorkspace, tmp_path: Path
) -> None:
    track.track("Article Read", "r2", {"topic": "graph"})
    track.track("Article Read", "r2", {"topic": "ai"})
    pid = person_id(api, user_id="r2")
    good = tmp_path / "good.yaml"
    good.write_text(WITH_SEGMENT)
    ws = str(workspace.workspace_id)
    runner = CliRunner()
    applied = runner.invoke(cli, ["playbook", "apply", str(good), "--workspace", ws, "--backfill"])
    assert applied.exit_code == 0, applied.output
    assert json.loads(applied.stdout)["backfill"]["events"] == 2
    assert api.get(f"/api/v1/people/{pid}/stage").json()["stage"] == "hot"
    members = api.get("/api/v1/segments/readers/members").json()
    assert [m["id"] for m in members["items"]] == [pid]


def test_cli_backfill_as_a_job_is_run_by_the_job_runner(
    track: Tracker, api: TestClient, workspace: NewWorkspace
) -> None:
    track.track("Article Read", "r3", {"topic": "graph"})
    queued = CliRunner().invoke(
        cli, ["playbook", "backfill", "--workspace", str(workspace.workspace_id), "--as-job"]
    )
    assert queued.exit_code == 0, queued.output
    job = json.loads(queued.stdout)
    assert (job["kind"], job["state"]) == ("rules.backfill", "queued")
    JobRunner().run_pending()
    done = api.get(f"/api/v1/jobs/{job['id']}").json()
    assert done["state"] == "succeeded" and done["result"]["events"] == 1


def test_cli_validate_apply_export(workspace: NewWorkspace, tmp_path: Path) -> None:
    runner = CliRunner()
    good, bad, out = tmp_path / "good.yaml", tmp_path / "bad.yaml", tmp_path / "out.yaml"
    good.write_text(SMALL)
    bad.write_text(BROKEN)
    assert runner.invoke(cli, ["playbook", "validate", str(good)]).exit_code == 0
    failed = runner.invoke(cli, ["playbook", "validate", str(bad)])
    assert failed.exit_code == 2
    assert "line 9, stage_rules[0].if.all[1].score.reading.gte" in failed.output
    ws = str(workspace.workspace_id)
    applied = runner.invoke(cli, ["playbook", "apply", str(good), "--workspace", ws])
    assert applied.exit_code == 0, applied.output
    assert json.loads(applied.output)["version"] == 2
    exported = runner.invoke(cli, ["playbook", "export", str(out), "--workspace", ws])
    assert exported.exit_code == 0, exported.output
    assert out.read_text() == SMALL
