"""The app served by uvicorn on a loopback port: the public form pages met by a real client."""

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn

from leadpond.app import create_app


@pytest.fixture
def live_url(backend: str) -> Iterator[str]:
    """The whole app on 127.0.0.1:<free port>, served by uvicorn in a thread."""
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
