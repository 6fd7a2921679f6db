"""``leadpond workspace create``: the real command, its keys, and what it stores."""

import base64
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

from leadpond.db.engine import read_only
from leadpond.workspaces.models import ApiCredential, Workspace
from leadpond.workspaces.service import hash_secret

LEADPOND = Path(sys.executable).with_name("leadpond")


def leadpond(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LEADPOND_DATABASE_URL": database_url}
    return subprocess.run(
        [str(LEADPOND), *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_create_prints_json_keys_that_work(
    database_url: str, backend: str, client: TestClient
) -> None:
    done = leadpond("workspace", "create", "华东 销售团队", "--json", database_url=database_url)
    assert done.returncode == 0, done.stderr
    created = json.loads(done.stdout)
    assert sorted(created) == ["api_key", "workspace_id", "write_key"]
    workspace_id = uuid.UUID(created["workspace_id"])
    with read_only() as session:
        workspace = session.get(Workspace, workspace_id)
        assert workspace is not None and workspace.name == "华东 销售团队"

    basic = base64.b64encode(f"{created['write_key']}:".encode()).decode()
    tracked = client.post(
        "/v1/track",
        json={"userId": "u1", "event": "Signed Up"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert tracked.status_code == 200, tracked.text
    bearer = {"Authorization": f"Bearer {created['api_key']}"}
    assert client.get("/api/v1/pipeline", headers=bearer).json()["pending_events"] == 1
    swapped = client.get("/api/v1/pipeline", headers={"Authorization": f"Bearer {basic}"})
    assert swapped.status_code == 401


def test_only_hashes_of_the_keys_are_stored(database_url: str, backend: str) -> None:
    created = json.loads(
        leadpond("workspace", "create", "hash-check", "--json", database_url=database_url).stdout
    )
    with read_only() as session:
        rows = session.scalars(
            select(ApiCredential).where(
                ApiCredential.workspace_id == uuid.UUID(created["workspace_id"])
            )
        ).all()
    assert sorted(row.kind for row in rows) == ["api", "write"]
    by_kind = {row.kind: row for row in rows}
    for kind, key in (("write", created["write_key"]), ("api", created["api_key"])):
        row = by_kind[kind]
        assert row.secret_hash == hash_secret(key)
        stored_text = " ".join(str(value) for value in vars(row).values())
        assert key not in stored_text
        assert key.startswith(row.prefix) and len(row.prefix) < len(key) // 2


def test_an_empty_or_too_long_name_fails_with_a_message_and_creates_nothing(
    database_url: str, backend: str
) -> None:
    with read_only() as session:
        before = len(session.scalars(select(Workspace.id)).all())
    for name, problem in (
        ("", "must not be empty"),
        ("   ", "must not be empty"),
        ("工" * 201, "at most 200 characters"),
    ):
        done = leadpond("workspace", "create", name, "--json", database_url=database_url)
        assert done.returncode != 0
        assert done.stdout == ""
        assert problem in done.stderr
        assert "Traceback" not in done.stderr
    with read_only() as session:
        assert len(session.scalars(select(Workspace.id)).all()) == before
