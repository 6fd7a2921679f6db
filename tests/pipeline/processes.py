"""Real ``leadpond`` processes for the crash tests: start them, wait for them, kill -9 them."""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

LEADPOND = Path(sys.executable).with_name("leadpond")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LeadpondProcess:
    """One ``leadpond ...`` subprocess on the test database; its output goes to a log file."""

    def __init__(self, args: list[str], database_url: str, log_path: Path) -> None:
        env = {
            **os.environ,
            "LEADPOND_DATABASE_URL": database_url,
            "LEADPOND_PIPELINE_IDLE_SLEEP_S": "0.05",
        }
        self.log_path = log_path
        self._log = log_path.open("ab")
        self.popen = subprocess.Popen(
            [str(LEADPOND), *args], env=env, stdout=self._log, stderr=subprocess.STDOUT
        )

    def kill_9(self) -> None:
        """SIGKILL: no handler, no cleanup, no flush; the process just stops."""
        if self.popen.poll() is None:
            os.kill(self.popen.pid, signal.SIGKILL)
        self.popen.wait(timeout=10)
        self._log.close()

    def log_tail(self, chars: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:]

    def assert_alive(self) -> None:
        code = self.popen.poll()
        assert code is None, f"leadpond exited with {code}:\n{self.log_tail()}"


# spawn(args, log file name): the fixture in conftest.py, which kills leftovers at teardown.
Spawn = Callable[[list[str], str], LeadpondProcess]


def wait_until(
    condition: Callable[[], bool],
    timeout_s: float,
    poll_s: float = 0.02,
    describe: Callable[[], str] = lambda: "",
) -> None:
    """Poll; a generous timeout is only a safety net (a shared 2-core machine can be slow)."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout_s} s. {describe()}")
        time.sleep(poll_s)


def start_server(
    spawn: Spawn, log_name: str, *, worker: bool = False
) -> tuple[LeadpondProcess, str]:
    """``leadpond serve`` (``--no-worker`` unless ``worker``) on a free port, once it answers
    /healthz."""
    port = free_port()
    args = ["serve", *([] if worker else ["--no-worker"]), "--host", "127.0.0.1"]
    server = spawn([*args, "--port", str(port)], log_name)
    url = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        server.assert_alive()
        try:
            return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    wait_until(healthy, timeout_s=60, poll_s=0.05, describe=server.log_tail)
    return server, url
