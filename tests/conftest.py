"""Test fixtures: every test runs once per database backend, each test in its own workspace.

A fresh database is created per test session and backend (a SQLite file in a temp dir; a
uniquely named PostgreSQL database, dropped at the end). PostgreSQL is optional on a laptop and
mandatory under ``CI=true``.
"""

import base64
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import uvicorn
from fastapi.testclient import TestClient

import leadpond.wiring  # noqa: F401  (installs the hooks and job kinds)
from leadpond.app import create_app
from leadpond.config import get_settings
from leadpond.db import migrate
from leadpond.db.engine import reset_engines, unit_of_work
from leadpond.jobs.runner import JobRunner
from leadpond.pipeline import worker
from leadpond.playbooks.service import start_workspace
from leadpond.rules.active import _compiled as compiled_rulesets
from leadpond.workspaces import service as workspace_service
from leadpond.workspaces.service import key_cache

PG_ADMIN_URL = os.environ.get(
    "LEADPOND_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def _postgres_available() -> str | None:
    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return str(exc)


def _use_database(url: str) -> None:
    os.environ["LEADPOND_DATABASE_URL"] = url
    get_settings.cache_clear()
    reset_engines()
    key_cache.clear()
    # Compiled rules are cached by playbook version id, which each database numbers anew.
    compiled_rulesets.clear()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A migrated, empty database of the requested backend, for this whole test session."""
    backend = request.param
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'leadpond.db'}"
        _use_database(url)
        migrate.upgrade(url)
        yield url
        reset_engines()
        return
    problem = _postgres_available()
    if problem is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required under CI and unreachable: {problem}")
        pytest.skip(f"PostgreSQL unreachable: {problem}")
    name = f"leadpond_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    url = f"{base}/{name}"
    _use_database(url)
    migrate.upgrade(url)
    yield url
    reset_engines()
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def backend(database_url: str) -> str:
    """'sqlite' or 'postgresql'."""
    if os.environ.get("LEADPOND_DATABASE_URL") != database_url:
        _use_database(database_url)
    return "postgresql" if database_url.startswith("postgresql") else "sqlite"


@pytest.fixture
def empty_database(backend: str, tmp_path: Path) -> Iterator[str]:
    """An empty database of its own, not migrated (for tests of the migrations themselves)."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'rollups.db'}"
        return
    name = f"leadpond_rollups_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def workspace(backend: str) -> workspace_service.NewWorkspace:
    """A fresh workspace with its keys: tests never see each other's data."""
    with unit_of_work() as session:
        return start_workspace(session, f"test-{uuid.uuid4().hex[:8]}")


@pytest.fixture
def client(backend: str) -> Iterator[TestClient]:
    """The app in-process, without its background worker (tests drain explicitly)."""
    with TestClient(create_app(with_worker=False)) as test_client:
        yield test_client


@dataclass
class Tracker:
    """Sends Segment calls with a workspace's write key and drains the pipeline."""

    client: TestClient
    workspace: workspace_service.NewWorkspace

    @property
    def auth_header(self) -> dict[str, str]:
        token = base64.b64encode(f"{self.workspace.write_key}:".encode()).decode()
        return {"Authorization": f"Basic {token}"}

    def call(self, kind: str, body: dict[str, Any], *, drain: bool = True) -> httpx.Response:
        response = self.client.post(f"/v1/{kind}", json=body, headers=self.auth_header)
        assert response.status_code == 200, response.text
        if drain:
            worker.drain()
        return response

    def identify(
        self, user_id: str | None = None, traits: dict[str, Any] | None = None, **extra: Any
    ) -> httpx.Response:
        body: dict[str, Any] = {"traits": traits or {}, **extra}
        if user_id is not None:
            body["userId"] = user_id
        return self.call("identify", body)

    def track(
        self,
        event: str,
        user_id: str | None = None,
        properties: dict[str, Any] | None = None,
        **extra: Any,
    ) -> httpx.Response:
        body: dict[str, Any] = {"event": event, "properties": properties or {}, **extra}
        if user_id is not None:
            body["userId"] = user_id
        return self.call("track", body)

    def batch(
        self, messages: list[dict[str, Any]], *, drain: bool = True, **extra: Any
    ) -> httpx.Response:
        return self.call("batch", {"batch": messages, **extra}, drain=drain)


def finish_job(api: TestClient, queued: httpx.Response) -> dict[str, Any]:
    """Run the jobs due now (the worker's job runner, in this process) and answer the job that
    ``queued`` (a 202 answer with a Location) points at."""
    assert queued.status_code == 202, queued.text
    JobRunner().run_pending()
    job: dict[str, Any] = api.get(queued.headers["Location"]).json()
    assert job["state"] == "succeeded", job["last_error"]
    return job


@pytest.fixture
def track(client: TestClient, workspace: workspace_service.NewWorkspace) -> Tracker:
    return Tracker(client, workspace)


@pytest.fixture
def api(client: TestClient, workspace: workspace_service.NewWorkspace) -> TestClient:
    """The admin API client, authenticated with the workspace's API key."""
    client.headers["Authorization"] = f"Bearer {workspace.api_key}"
    return client


@pytest.fixture
def var_dir() -> Path:
    path = Path(__file__).resolve().parent.parent / "var"
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture
def live_url(backend: str) -> Iterator[str]:
    """The whole app (API and public pages) on 127.0.0.1:<free port>, served by uvicorn in a
    thread: for tests that need a real HTTP server (a real client, concurrent posts)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(
        uvicorn.Config(create_app(with_worker=False), log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
