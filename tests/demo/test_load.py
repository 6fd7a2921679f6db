"""Loading the demo into a workspace (bulk and HTTP), processing it, and ``--ensure``."""

import json
import os
import stat
import subprocess
import sys
import uuid
from datetime import date
from pathlib import Path

import orjson
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from leadpond.db.engine import read_only
from leadpond.demo import service, truth
from leadpond.demo.loaders import HttpLoader, batch_bodies
from leadpond.demo.service import DemoOptions
from leadpond.demo.world import WorldSpec, iter_blocks
from leadpond.ingest.models import Event
from leadpond.ingest.spec import MAX_BATCH_EVENTS, MAX_REQUEST_BYTES
from leadpond.pipeline import worker
from leadpond.workspaces.service import NewWorkspace

LEADPOND = Path(sys.executable).with_name("leadpond")
END = date(2026, 2, 28)


def _options(tmp_path: Path, **overrides: object) -> DemoOptions:
    values: dict[str, object] = {
        "people": 60,
        "seed": 21,
        "end": END,
        "workspace": f"demo-{uuid.uuid4().hex[:8]}",
        "truth_root": tmp_path / "truth",
        "credentials_path": tmp_path / "credentials.json",
    }
    values.update(overrides)
    return DemoOptions(**values)  # type: ignore[arg-type]


def _stored(workspace_id: uuid.UUID) -> tuple[int, int]:
    """Loaded events and how many wait (rules add derived events of their own)."""
    with read_only() as session:
        total, pending = session.execute(
            select(func.count(), func.count().filter(Event.processed_at.is_(None))).where(
                Event.workspace_id == workspace_id, Event.source.in_(("demo", "api"))
            )
        ).one()
    return int(total), int(pending)


def test_a_small_world_loads_processes_and_scores(backend: str, tmp_path: Path) -> None:
    report = service.run(_options(tmp_path))
    assert report.created and report.messages > 200
    assert report.inserted == report.messages
    assert _stored(report.workspace_id) == (report.messages, 0)
    assert report.truth_dir is not None
    ground = truth.load(report.truth_dir)
    assert ground.summary["workspace_id"] == str(report.workspace_id)
    with read_only() as session:
        resolved = truth.resolved_people(session, report.workspace_id)
        scores = truth.identity_scores(session, report.workspace_id, ground)
    assert set(ground.person) <= set(resolved)
    assert all(resolved[message_id] is not None for message_id in ground.person)
    assert scores.items == report.messages
    assert scores.precision > 0.5 and scores.recall > 0.3


def test_loading_the_same_world_again_stores_nothing_new(backend: str, tmp_path: Path) -> None:
    options = _options(tmp_path, process=False)
    first = service.run(options)
    again = service.run(options)
    assert again.workspace_id == first.workspace_id and not again.created
    assert again.messages == first.messages and again.inserted == 0
    assert _stored(first.workspace_id) == (first.messages, first.messages)
    worker.drain()


def test_ensure_creates_once_then_only_reports(backend: str, tmp_path: Path) -> None:
    options = _options(tmp_path, people=30)
    created = service.ensure(options)
    assert created.created and created.loaded and created.inserted > 0
    mode = stat.S_IMODE(os.stat(options.credentials_path).st_mode)
    assert mode == 0o600
    kept = json.loads(options.credentials_path.read_text())
    assert kept["write_key"] == created.credentials["write_key"]
    again = service.ensure(options)
    assert (again.workspace_id, again.created, again.loaded) == (created.workspace_id, False, False)
    assert again.credentials == created.credentials
    assert _stored(created.workspace_id)[0] == created.inserted


def test_ensure_issues_new_keys_when_the_plain_ones_are_lost(backend: str, tmp_path: Path) -> None:
    options = _options(tmp_path, people=5)
    created = service.ensure(options)
    options.credentials_path.unlink()
    again = service.ensure(options)
    assert again.workspace_id == created.workspace_id
    assert again.credentials["write_key"] != created.credentials["write_key"]
    assert (
        json.loads(options.credentials_path.read_text())["api_key"] == again.credentials["api_key"]
    )


def test_http_loader_posts_batches_the_api_accepts(
    client: TestClient, workspace: NewWorkspace
) -> None:
    messages = [m for block in iter_blocks(WorldSpec(8, 40, END)) for m in block.messages]
    loader = HttpLoader("http://testserver", workspace.write_key, concurrency=1, client=client)
    loader.load(messages)
    assert loader.inserted == len(messages)
    assert _stored(workspace.workspace_id) == (len(messages), len(messages))
    worker.drain()
    assert _stored(workspace.workspace_id)[1] == 0


def test_batch_bodies_stay_within_the_tracking_api_limits() -> None:
    messages = [m for block in iter_blocks(WorldSpec(9, 600, END)) for m in block.messages]
    bodies = list(batch_bodies(messages))
    assert sum(count for _, count in bodies) == len(messages)
    for body, count in bodies:
        assert len(body) <= MAX_REQUEST_BYTES and count <= MAX_BATCH_EVENTS
        assert len(orjson.loads(body)["batch"]) == count
    small = list(batch_bodies({"type": "track", "n": i} for i in range(6000)))
    assert [count for _, count in small] == [2500, 2500, 1000]


def test_the_command_prints_where_to_go_and_the_keys(database_url: str, tmp_path: Path) -> None:
    env = {**os.environ, "LEADPOND_DATABASE_URL": database_url}
    name = f"cli-demo-{uuid.uuid4().hex[:6]}"
    args = [str(LEADPOND), "demo", "--ensure", "--workspace", name, "--people", "20"]
    args += ["--end", "2026-02-28"]
    done = subprocess.run(args, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "http://127.0.0.1:8000/console" in done.stdout and "/docs" in done.stdout
    kept = json.loads((tmp_path / "var" / "demo-credentials.json").read_text())
    assert kept["write_key"] in done.stdout and kept["api_key"] in done.stdout
    assert (tmp_path / "var" / "demo" / "7-20" / "truth.jsonl.gz").exists()
    again = subprocess.run(args, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0 and "ready" in again.stdout and kept["write_key"] in again.stdout
