"""Hostile tracking requests: a bad message is refused alone; no body costs unbounded memory."""

import asyncio
import gzip
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from leadpond.app import create_app
from leadpond.db.engine import read_only
from leadpond.ingest import importer
from leadpond.ingest.models import Event
from leadpond.ingest.spec import MAX_NESTING_DEPTH, MAX_REQUEST_BYTES
from leadpond.workspaces.service import NewWorkspace
from tests.conftest import Tracker


def _events(workspace: NewWorkspace) -> list[Event]:
    with read_only() as session:
        return list(
            session.scalars(
                select(Event).where(Event.workspace_id == workspace.workspace_id).order_by(Event.id)
            )
        )


def _nested(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(levels - 1):
        value = {"k": value}
    return value


POISONS: dict[str, tuple[dict[str, Any], str]] = {
    "year 1": ({"timestamp": "0001-01-01T00:00:00Z"}, "timestamp_out_of_range"),
    "year 9999": ({"timestamp": "9999-12-31T23:59:59Z"}, "timestamp_out_of_range"),
    "offset past year 1": ({"timestamp": "0001-01-01T00:00:00+01:00"}, "invalid_timestamp"),
    "offset past year 9999": ({"timestamp": "9999-12-31T23:59:59-01:00"}, "invalid_timestamp"),
    "not a date": ({"timestamp": "not-a-date"}, "invalid_timestamp"),
    "a number as a date": ({"originalTimestamp": 1700000000}, "invalid_timestamp"),
    "unreadable sentAt": ({"sentAt": "yesterday"}, "invalid_timestamp"),
    "nested 300 deep": ({"properties": _nested(300)}, "too_deep"),
    "nested just past the limit": ({"properties": _nested(MAX_NESTING_DEPTH)}, "too_deep"),
    "NUL in a value": ({"properties": {"note": "a\x00b"}}, "nul_character"),
    "NUL in a key": ({"properties": {"a\x00b": 1}}, "nul_character"),
    "event name over 255": ({"event": "E" * 256}, "invalid_field"),
}


@pytest.mark.parametrize("poison", POISONS, ids=list(POISONS))
def test_a_batch_of_100_with_one_poison_stores_99_and_names_it(
    track: Tracker, workspace: NewWorkspace, poison: str
) -> None:
    fields, code = POISONS[poison]
    batch = [{"type": "track", "userId": f"u{i}", "event": "Good"} for i in range(100)]
    batch[42] = {"type": "track", "userId": "x", "event": "E", **fields}
    response = track.batch(batch, drain=False)
    body = response.json()
    assert body["accepted"] == 99
    assert [(r["index"], r["code"]) for r in body["rejected"]] == [(42, code)]
    assert body["rejected"][0]["message"]
    stored = _events(workspace)
    assert len(stored) == 99
    assert "x" not in {e.user_id for e in stored}


def test_a_single_call_with_a_poison_message_is_a_json_400(
    client: TestClient, track: Tracker, workspace: NewWorkspace
) -> None:
    for fields, code in POISONS.values():
        body = {"userId": "x", "event": "E", **fields}
        response = client.post("/v1/track", json=body, headers=track.auth_header)
        assert response.status_code == 400, (fields, response.text)
        assert response.json()["code"] == "invalid_input"
        assert response.json()["rejected"][0]["code"] == code
    assert _events(workspace) == []


def test_what_is_just_inside_the_limits_is_kept(track: Tracker, workspace: NewWorkspace) -> None:
    now = datetime.now(UTC)
    track.batch(
        [
            {"type": "track", "userId": "u", "event": "E", "timestamp": "2000-01-01T00:00:00Z"},
            {
                "type": "track",
                "userId": "u",
                "event": "E",
                "timestamp": (now + timedelta(hours=23)).isoformat(),
            },
            {"type": "track", "userId": "u", "event": "E" * 255},
            {"type": "track", "userId": "u", "event": "E", "properties": _nested(31)},
            # A literal backslash-u0000 is text, not a NUL.
            {"type": "track", "userId": "u", "event": "E", "properties": {"p": "\\u0000"}},
        ],
        drain=False,
    )
    stored = _events(workspace)
    assert len(stored) == 5
    assert stored[0].timestamp == datetime(2000, 1, 1)
    assert stored[4].payload["properties"] == {"p": "\\u0000"}


def test_skew_correction_cannot_overflow(track: Tracker, workspace: NewWorkspace) -> None:
    now = datetime.now(UTC)
    track.batch(
        [
            # A sentAt far from the message's own time is not trusted: its own time is kept.
            {
                "type": "track",
                "userId": "u",
                "event": "FarSentAt",
                "timestamp": "2025-05-05T00:00:00Z",
                "sentAt": "9999-12-31T23:59:59Z",
            },
            # A client whose clock reads year 1 all along is placed by the correction.
            {
                "type": "track",
                "userId": "u",
                "event": "ClockAtYearOne",
                "timestamp": "0001-01-01T00:00:00Z",
                "sentAt": "0001-01-01T00:00:10Z",
            },
        ],
        drain=False,
        sentAt="0001-01-01T00:00:00Z",
    )
    far, year_one = _events(workspace)
    assert far.timestamp == datetime(2025, 5, 5)
    placed = year_one.received_at - year_one.timestamp
    assert timedelta(seconds=9) < placed < timedelta(seconds=11)
    assert abs(year_one.received_at - now.replace(tzinfo=None)) < timedelta(minutes=1)


def test_an_unreadable_batch_sent_at_is_a_json_400(
    client: TestClient, track: Tracker, workspace: NewWorkspace
) -> None:
    response = client.post(
        "/v1/batch",
        json={"batch": [{"type": "track", "userId": "u", "event": "E"}], "sentAt": "soon"},
        headers=track.auth_header,
    )
    assert (response.status_code, response.json()["code"]) == (400, "invalid_input")
    assert _events(workspace) == []


def _gzip_bomb(inflated_mb: int) -> bytes:
    """Concatenated gzip members (valid gzip) of 1 MB of zeros each: ~1 KB per inflated MB."""
    return gzip.compress(b"\0" * 1_000_000) * inflated_mb


def _kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise AssertionError(f"{field} missing from /proc/self/status")


@pytest.mark.parametrize("announced", [True, False], ids=["content-encoding", "magic-bytes"])
def test_a_gzip_bomb_answers_413_without_growing_the_server(
    client: TestClient, track: Tracker, workspace: NewWorkspace, announced: bool
) -> None:
    body = _gzip_bomb(450)  # 450 KB on the wire, 450 MB inflated
    assert len(body) < MAX_REQUEST_BYTES
    headers = {**track.auth_header, "Content-Type": "application/json"}
    if announced:
        headers["Content-Encoding"] = "gzip"
    # The server runs in this process (TestClient): reset the peak resident set (VmHWM) to the
    # current one, then read the peak after the request.
    Path("/proc/self/clear_refs").write_text("5")
    before = _kb("VmRSS")
    response = client.post("/v1/batch", content=body, headers=headers)
    growth_mb = (_kb("VmHWM") - before) / 1024
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    assert growth_mb < 50, f"peak RSS grew {growth_mb:.0f} MB"
    assert _events(workspace) == []


def test_gzip_members_within_the_limit_are_all_read(
    client: TestClient, track: Tracker, workspace: NewWorkspace
) -> None:
    document = b'{"batch": [{"type": "track", "userId": "u", "event": "E"}]}'
    body = gzip.compress(document[:20]) + gzip.compress(document[20:])
    response = client.post("/v1/batch", content=body, headers=track.auth_header)
    assert response.status_code == 200, response.text
    assert len(_events(workspace)) == 1


@pytest.mark.parametrize("announced", [True, False], ids=["content-encoding", "magic-bytes"])
def test_a_truncated_gzip_body_is_a_json_400(
    client: TestClient, track: Tracker, workspace: NewWorkspace, announced: bool
) -> None:
    body = gzip.compress(b'{"batch": [{"type": "track", "userId": "u", "event": "E"}]}')
    headers = {**track.auth_header, **({"Content-Encoding": "gzip"} if announced else {})}
    for cut in (body[:-4], body[: len(body) // 2], body[:12]):
        response = client.post("/v1/batch", content=cut, headers=headers)
        assert response.status_code == 400, response.text
        assert response.json()["code"] == "invalid_input"
    garbage = client.post("/v1/batch", content=body + b"junk", headers=headers)
    assert garbage.status_code == 400
    assert _events(workspace) == []


def test_a_declared_oversized_body_is_refused_unread(client: TestClient, track: Tracker) -> None:
    response = client.post(
        "/v1/batch",
        content=b" " * (MAX_REQUEST_BYTES + 1),
        headers={**track.auth_header, "Content-Length": str(MAX_REQUEST_BYTES + 1)},
    )
    assert (response.status_code, response.json()["code"]) == (413, "payload_too_large")


def test_a_streamed_body_stops_being_read_once_past_the_limit(track: Tracker) -> None:
    """Driven at the ASGI interface: a chunked upload of 64 MB with no Content-Length."""
    chunk = b" " * 65_536
    pulled = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        pulled += 1
        return {"type": "http.request", "body": chunk, "more_body": pulled < 1024}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/v1/batch",
        "raw_path": b"/v1/batch",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"transfer-encoding", b"chunked"),
            *((k.lower().encode(), v.encode()) for k, v in track.auth_header.items()),
        ],
        "client": ("127.0.0.1", 1),
        "server": ("testserver", 80),
    }
    asyncio.run(create_app(with_worker=False)(scope, receive, send))
    assert sent[0]["status"] == 413
    assert pulled <= MAX_REQUEST_BYTES // len(chunk) + 1


def test_plain_deflate_garbage_after_magic_bytes_is_400(client: TestClient, track: Tracker) -> None:
    body = b"\x1f\x8b" + zlib.compress(b"{}")
    response = client.post("/v1/batch", content=body, headers=track.auth_header)
    assert (response.status_code, response.json()["code"]) == (400, "invalid_input")


def test_import_refuses_out_of_range_times_row_by_row_and_keeps_the_rest(
    workspace: NewWorkspace, tmp_path: Path
) -> None:
    path = tmp_path / "people.csv"
    rows = [
        "User ID,Name,Timestamp",
        "u1,Li Lei,2025-03-04 10:00:00",
        "u2,Han Meimei,0001-01-01 00:00:00",
        "u3,Wang Fang,9999-12-31 23:59:59",
        "u4,Chen Jing,1999-12-31 00:00:00",
        "u5,Zhao\x00Lei,",
    ]
    path.write_bytes("".join(f"{line}\r\n" for line in rows).encode())
    with path.open("rb") as stream:
        report = importer.import_people(workspace.workspace_id, stream, path.name).to_body()
    assert report["imported"] == 2, report
    assert [(r["row"], r["column"]) for r in report["rejected"]] == [
        (3, "Timestamp"),
        (4, "Timestamp"),
        (5, "Timestamp"),
    ]
    assert "2000-01-01" in report["rejected"][2]["reason"]
    stored = _events(workspace)
    assert {e.user_id for e in stored} == {"u1", "u5"}
    # Cells lose their NULs (the importer's rule; the tracking API refuses them instead).
    assert stored[1].payload["traits"]["name"] == "ZhaoLei"
