"""The real Segment and RudderStack Python SDKs, unchanged, against a live leadpond.

How they authenticate differs, and both ways must work:
- segment-analytics-python 2.3.x sends no Authorization header; the write key is only the
  ``writeKey`` field of the batch body.
- segment-analytics-python 2.4.x sends ``Authorization: Basic base64("<write key>:")`` and still
  puts ``writeKey`` in the body.
- rudder-sdk-python sends the Basic header, no ``writeKey`` in the body, and gzips by default.
All post ``/v1/batch``. 2.3.x is installed apart (``make install`` puts it in .venv/sdk/segment23)
and put ahead of the venv's 2.4.x on the client process's PYTHONPATH.
"""

import base64
import os
import subprocess
import sys
import uuid
from dataclasses import dataclass
from datetime import timedelta
from importlib.metadata import version
from pathlib import Path
from typing import Any

import httpx
import pytest

from leadpond.kit.clock import parse_timestamp, utcnow
from leadpond.pipeline import worker
from leadpond.workspaces.service import NewWorkspace
from tests.contract.conftest import LiveServer

pytestmark = pytest.mark.contract

CLIENT_SCRIPT = Path(__file__).with_name("sdk_client.py")
# Where the Makefile's install target puts it: $(VENV)/sdk/segment23, beside the venv's bin/.
SEGMENT23_DIR = Path(sys.executable).parent.parent / "sdk" / "segment23"


@dataclass(frozen=True)
class Sdk:
    label: str
    package: str
    segment23: bool = False
    gzip_flag: bool = False

    @property
    def expected_version(self) -> str:
        if self.segment23:
            return "2.3."
        return version(
            "segment-analytics-python" if self.package == "segment" else "rudder-sdk-python"
        )

    @property
    def sends_basic_auth(self) -> bool:
        return not self.segment23

    @property
    def write_key_in_body(self) -> bool:
        return self.package == "segment"

    @property
    def gzips(self) -> bool:
        return self.gzip_flag or self.package == "rudder"


SEGMENT_24 = Sdk("segment-2.4", "segment")
SEGMENT_23 = Sdk("segment-2.3", "segment", segment23=True)
RUDDER = Sdk("rudder", "rudder")
SDKS = [
    SEGMENT_24,
    Sdk("segment-2.4-gzip", "segment", gzip_flag=True),
    SEGMENT_23,
    Sdk("segment-2.3-gzip", "segment", segment23=True, gzip_flag=True),
    RUDDER,
]


def run_sdk(sdk: Sdk, host: str, write_key: str, run_id: str) -> subprocess.CompletedProcess[str]:
    """The SDK in its own process, sending the six calls and flushing."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    if sdk.segment23:
        if not (SEGMENT23_DIR / "segment" / "analytics").is_dir():
            pytest.fail(
                f"segment-analytics-python 2.3.x is missing in {SEGMENT23_DIR}: make install"
            )
        env["PYTHONPATH"] = str(SEGMENT23_DIR)
    command = [sys.executable, str(CLIENT_SCRIPT), sdk.package, host, write_key, run_id]
    if sdk.gzip_flag:
        command.append("--gzip")
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=False)


def _sent_by_type(sent: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {message["type"]: message for message in sent}


@pytest.mark.parametrize("sdk", SDKS, ids=lambda sdk: sdk.label)
def test_every_sdk_call_arrives_exactly_once_with_its_fields(
    sdk: Sdk, live_server: LiveServer, workspace: NewWorkspace
) -> None:
    run_id = uuid.uuid4().hex[:10]
    done = run_sdk(sdk, live_server.url, workspace.write_key, run_id)
    assert done.returncode == 0, done.stderr + done.stdout
    report = httpx.Response(200, content=done.stdout).json()
    assert report["version"].startswith(sdk.expected_version)
    sent = _sent_by_type(report["sent"])
    assert sorted(sent) == ["alias", "group", "identify", "page", "screen", "track"]

    posts = [r for r in live_server.recorder.seen if r.path == "/v1/batch"]
    assert posts and all(r.status == 200 for r in posts)
    basic = "Basic " + base64.b64encode(f"{workspace.write_key}:".encode()).decode()
    for post in posts:
        assert post.headers.get("authorization") == (basic if sdk.sends_basic_auth else None)
        assert ("writeKey" in post.json()) is sdk.write_key_in_body
        assert (post.headers.get("content-encoding") == "gzip") is sdk.gzips
        assert post.headers["user-agent"].startswith("analytics-python/")

    worker.drain()
    api = httpx.Client(
        base_url=live_server.url, headers={"Authorization": f"Bearer {workspace.api_key}"}
    )
    assert api.get("/api/v1/pipeline").json()["pending_events"] == 0
    everyone = api.get("/api/v1/people").json()
    assert everyone["total"] == 1
    person = everyone["items"][0]
    for query in (
        {"user_id": f"u-{run_id}"},
        {"anonymous_id": f"anon-{run_id}"},
        {"email": f"wang.{run_id}@yunchi.cn"},
    ):
        assert [p["id"] for p in api.get("/api/v1/people", params=query).json()["items"]] == [
            person["id"]
        ]
    assert person["event_count"] == 6
    # Rudder puts identify traits in context.traits only; the server lifts them.
    identify_traits = sent["identify"].get("traits") or sent["identify"]["context"]["traits"]
    assert person["traits"] == {**person["traits"], **identify_traits}
    assert person["traits"]["name"] == "王小明"

    timeline = api.get(f"/api/v1/people/{person['id']}/timeline").json()
    # Rules may add derived events to the timeline; what came through the tracking API is ours.
    tracked = [entry for entry in timeline["items"] if entry["source"] == "api"]
    entries = {entry["message_id"]: entry for entry in tracked}
    assert len(tracked) == len(entries) == 6
    assert sorted(entries) == sorted(message["messageId"] for message in sent.values())
    stored = {kind: entries[message["messageId"]] for kind, message in sent.items()}
    assert {kind: entry["type"] for kind, entry in stored.items()} == {k: k for k in sent}
    assert stored["track"]["event"] == "下载白皮书"
    assert stored["page"]["event"] == "定价"
    assert stored["screen"]["event"] == "首页"
    for kind in ("track", "page", "screen"):
        assert stored[kind]["properties"] == sent[kind]["properties"]
    assert stored["identify"]["traits"] == identify_traits
    assert stored["group"]["traits"]["name"] == "上海云池科技有限公司"
    now = utcnow()
    for kind, entry in stored.items():
        assert entry["context"]["campaign"] == {"name": "春季新品发布会", "source": "微信公众号"}
        assert entry["context"]["locale"] == "zh-CN"
        assert entry["context"]["library"]["version"] == report["version"], kind
        moment = parse_timestamp(entry["timestamp"])
        assert moment is not None and abs(moment - now) < timedelta(minutes=2), kind


@pytest.mark.parametrize("sdk", [SEGMENT_24, SEGMENT_23, RUDDER], ids=lambda sdk: sdk.label)
def test_a_wrong_write_key_reaches_the_sdk_as_a_401_error(
    sdk: Sdk, live_server: LiveServer
) -> None:
    done = run_sdk(sdk, live_server.url, "wk_not-a-key", uuid.uuid4().hex[:10])
    assert done.returncode == 1
    errors = httpx.Response(200, content=done.stdout).json()["errors"]
    assert errors and all("unauthorized" in error for error in errors)
    posts = [r for r in live_server.recorder.seen if r.path == "/v1/batch"]
    assert posts and all(r.status == 401 for r in posts)
