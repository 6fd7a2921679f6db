"""A live leadpond server on a loopback port, for clients that speak real HTTP.

Uvicorn serves ``create_app()`` from a thread of the test process, on a socket bound to a free
port, so the server uses the test session's database. A pure ASGI wrapper records every request
as the client sent it (headers and raw body) to pin how each SDK talks to us.
"""

import gzip
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest
import uvicorn

from leadpond.app import create_app


@dataclass
class SeenRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes = b""
    status: int | None = None

    def json(self) -> Any:
        raw = self.body
        if self.headers.get("content-encoding") == "gzip":
            raw = gzip.decompress(raw)
        return orjson.loads(raw)


@dataclass
class RequestRecorder:
    """ASGI middleware keeping what reached the app and what it answered."""

    app: Any
    seen: list[SeenRequest] = field(default_factory=list)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = SeenRequest(
            method=scope["method"],
            path=scope["path"],
            headers={k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]},
        )
        self.seen.append(request)

        async def recording_receive() -> dict[str, Any]:
            message: dict[str, Any] = await receive()
            if message["type"] == "http.request":
                request.body += message.get("body", b"")
            return message

        async def recording_send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                request.status = message["status"]
            await send(message)

        await self.app(scope, recording_receive, recording_send)


@dataclass
class LiveServer:
    url: str
    recorder: RequestRecorder


@pytest.fixture
def live_server(backend: str) -> Iterator[LiveServer]:
    """leadpond's HTTP API on 127.0.0.1:<free port>, without its worker (tests drain)."""
    recorder = RequestRecorder(create_app(with_worker=False))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(recorder, log_level="warning", lifespan="on", access_log=False)
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the live server did not start")
        time.sleep(0.01)
    try:
        yield LiveServer(url=f"http://127.0.0.1:{port}", recorder=recorder)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
