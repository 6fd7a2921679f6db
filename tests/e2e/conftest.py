"""A live leadpond (demo world + ``leadpond serve``) per database backend, for browser tests."""

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.conftest import PG_ADMIN_URL, _postgres_available

DEMO_PEOPLE = 300
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LEADPOND = str(Path(sys.executable).parent / "leadpond")


@dataclass
class LiveServer:
    backend: str
    base_url: str
    email: str
    password: str
    api_key: str
    # For tests that run ``leadpond`` commands against the same database.
    env: dict[str, str] | None = None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _database(backend: str, home: Path) -> tuple[str, str | None]:
    if backend == "sqlite":
        return f"sqlite:///{home / 'leadpond.db'}", None
    problem = _postgres_available()
    if problem is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required under CI and unreachable: {problem}")
        pytest.skip(f"PostgreSQL unreachable: {problem}")
    name = f"leadpond_e2e_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{base}/{name}", name


@contextlib.contextmanager
def demo_server(url: str, home: Path, people: int = DEMO_PEOPLE) -> Iterator[LiveServer]:
    """``leadpond demo --ensure`` on the database at ``url``, then ``leadpond serve`` on a free
    loopback port until the block ends (also used by ``scripts/console_screenshots.py``)."""
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "LEADPOND_DATABASE_URL": url,
        "LEADPOND_PORT": str(port),
        # The links in messages (pixel, clicks, unsubscribe) point at this server.
        "LEADPOND_PUBLIC_URL": base_url,
    }
    subprocess.run(
        [LEADPOND, "demo", "--ensure", "--people", str(people)],
        cwd=home,
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    console = json.loads((home / "var" / "demo-console.json").read_text())
    keys = json.loads((home / "var" / "demo-credentials.json").read_text())
    log = (home / "serve.log").open("w")
    server = subprocess.Popen(
        [LEADPOND, "serve", "--port", str(port)], cwd=home, env=env, stdout=log, stderr=log
    )
    try:
        for _ in range(120):
            try:
                if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        else:
            raise RuntimeError(f"server did not start: {(home / 'serve.log').read_text()[-2000:]}")
        yield LiveServer(
            url.split(":", 1)[0].split("+", 1)[0],
            base_url,
            console["email"],
            console["password"],
            keys["api_key"],
            env,
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def live_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """``leadpond demo --ensure`` then ``leadpond serve`` on a free loopback port."""
    backend = request.param
    home = tmp_path_factory.mktemp(f"live-{backend}")
    url, pg_name = _database(backend, home)
    try:
        with demo_server(url, home) as server:
            yield server
    finally:
        if pg_name:
            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's chromium, headless (never a downloaded browser)."""
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: apt-get install -y chromium")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh browser context and page: 1400×900, zh-CN, and whatever the test module's
    ``BROWSER_CONTEXT`` adds (e.g. a reader's user agent)."""
    options = {
        "viewport": {"width": 1400, "height": 900},
        "locale": "zh-CN",
        **getattr(request.module, "BROWSER_CONTEXT", {}),
    }
    context = browser.new_context(**options)
    opened = context.new_page()
    opened.set_default_timeout(20_000)
    yield opened
    context.close()
