"""A live leadpond (demo world + ``leadpond serve``) per database backend, for browser tests."""

import contextlib
import json
import os
import shutil
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


def _admin(statement: str) -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(statement)


def _pg_url(name: str) -> str:
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{base}/{name}"


def _require_postgres() -> None:
    problem = _postgres_available()
    if problem is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required under CI and unreachable: {problem}")
        pytest.skip(f"PostgreSQL unreachable: {problem}")


@dataclass
class DemoWorld:
    """A built demo world to copy: its home (``var/`` with the keys, the console login, the
    ground truth and the content files; the SQLite file) and, on PostgreSQL, its database."""

    home: Path
    url: str
    pg_name: str | None


class DemoWorlds:
    """``leadpond demo --ensure`` run once per backend in this test process; every test module
    then gets a copy of its own (the SQLite file copied, ``CREATE DATABASE … TEMPLATE`` on
    PostgreSQL), so modules still never see each other's changes."""

    def __init__(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        self.tmp_path_factory = tmp_path_factory
        self.built: dict[str, DemoWorld] = {}
        self.pg_names: list[str] = []

    def _build(self, backend: str) -> DemoWorld:
        home = self.tmp_path_factory.mktemp(f"demo-{backend}")
        pg_name = None
        if backend == "sqlite":
            url = f"sqlite:///{home / 'leadpond.db'}"
        else:
            _require_postgres()
            pg_name = f"leadpond_e2e_demo_{os.getpid()}_{uuid.uuid4().hex[:8]}"
            _admin(f'CREATE DATABASE "{pg_name}"')
            self.pg_names.append(pg_name)
            url = _pg_url(pg_name)
        env = {**os.environ, "LEADPOND_DATABASE_URL": url}
        # Nothing the demo stores holds the server's address (links are made when messages
        # are delivered), so the world does not depend on the port of the server that serves it.
        env.pop("LEADPOND_PUBLIC_URL", None)
        subprocess.run(
            [LEADPOND, "demo", "--ensure", "--people", str(DEMO_PEOPLE)],
            cwd=home,
            env=env,
            check=True,
            capture_output=True,
            timeout=300,
        )
        self.built[backend] = DemoWorld(home, url, pg_name)
        return self.built[backend]

    def copy(self, backend: str, home: Path) -> tuple[str, str | None]:
        """A fresh copy of the backend's demo world in ``home``: (database URL, PG name)."""
        if backend == "postgresql":
            _require_postgres()
        world = self.built.get(backend) or self._build(backend)
        shutil.copytree(world.home, home, dirs_exist_ok=True)
        pg_name = None
        if world.pg_name is None:
            url = f"sqlite:///{home / 'leadpond.db'}"
        else:
            pg_name = f"leadpond_e2e_{os.getpid()}_{uuid.uuid4().hex[:8]}"
            _admin(f'CREATE DATABASE "{pg_name}" TEMPLATE "{world.pg_name}"')
            url = _pg_url(pg_name)
        # ``demo --ensure`` trusts the kept keys only for the database they were written for.
        credentials = home / "var" / "demo-credentials.json"
        kept = json.loads(credentials.read_text())
        credentials.write_text(json.dumps({**kept, "database_url": url}, indent=2))
        return url, pg_name

    def drop(self) -> None:
        for name in self.pg_names:
            _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def demo_worlds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoWorlds]:
    worlds = DemoWorlds(tmp_path_factory)
    yield worlds
    worlds.drop()


@contextlib.contextmanager
def demo_server(
    url: str, home: Path, people: int = DEMO_PEOPLE, *, ensure: bool = True
) -> Iterator[LiveServer]:
    """``leadpond serve`` of the database at ``url`` on a free loopback port until the block
    ends; with ``ensure``, ``leadpond demo --ensure`` first (``scripts/console_screenshots.py``;
    the tests serve a copy of a world already built)."""
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "LEADPOND_DATABASE_URL": url,
        "LEADPOND_PORT": str(port),
        # The links in messages (pixel, clicks, unsubscribe) point at this server.
        "LEADPOND_PUBLIC_URL": base_url,
    }
    if ensure:
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
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    demo_worlds: DemoWorlds,
) -> Iterator[LiveServer]:
    """A copy of the demo world (``leadpond demo --ensure``, built once per backend) served by
    ``leadpond serve`` on a free loopback port."""
    backend = request.param
    home = tmp_path_factory.mktemp(f"live-{backend}")
    url, pg_name = demo_worlds.copy(backend, home)
    try:
        with demo_server(url, home, ensure=False) as server:
            yield server
    finally:
        if pg_name:
            _admin(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')


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
