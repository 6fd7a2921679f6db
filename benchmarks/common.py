"""What every benchmark shares: results, scratch databases, the demo corpus, a live server."""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg

from leadpond.config import get_settings
from leadpond.db import migrate
from leadpond.db.engine import reset_engines, unit_of_work
from leadpond.demo.world import WorldSpec, WorldStats, iter_blocks
from leadpond.kit.clock import utcnow
from leadpond.playbooks.service import start_workspace
from leadpond.workspaces.service import NewWorkspace, key_cache

PG_ADMIN_URL = os.environ.get(
    "LEADPOND_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)
LEADPOND = Path(sys.executable).with_name("leadpond")
# The corpus ends yesterday: the same world (seed and shape) on every run, shifted in time, so
# rules and segments that read "now" (windows, decay, idle stages) do the same work every day.
CORPUS_END = utcnow().date() - timedelta(days=1)
SEED = 2026


@dataclass
class Result:
    """One benchmark's numbers: leadpond, the baseline of the same run, and the target."""

    name: str
    metric: str
    unit: str
    leadpond: float
    baseline_name: str
    baseline: float | None
    ratio: float | None  # leadpond / baseline, higher is better for leadpond
    target: str
    passed: bool | None
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Context:
    """The run's options and its scratch space."""

    size: str
    backend: str
    scratch: Path
    cache: dict[str, Any] = field(default_factory=dict)
    resources: ExitStack = field(default_factory=ExitStack)  # closed when the run ends

    @property
    def large(self) -> bool:
        return self.size == "1m"


def use_database(url: str) -> None:
    """Point this process's leadpond at ``url`` (settings, engines and key cache)."""
    os.environ["LEADPOND_DATABASE_URL"] = url
    get_settings.cache_clear()
    reset_engines()
    key_cache.clear()


@contextmanager
def scratch_database(ctx: Context, name: str) -> Iterator[str]:
    """A migrated, empty database of the run's backend, dropped afterwards."""
    if ctx.backend == "sqlite":
        url = f"sqlite:///{ctx.scratch / f'{name}.db'}"
        migrate.upgrade(url)
        yield url
        reset_engines()
        return
    db_name = f"leadpond_bench_{name}_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{db_name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    url = f"{base}/{db_name}"
    try:
        migrate.upgrade(url)
        yield url
    finally:
        reset_engines()
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')


def new_workspace(url: str, name: str = "bench") -> NewWorkspace:
    """A workspace (and its keys) in the database at ``url``."""
    use_database(url)
    with unit_of_work() as session:
        return start_workspace(session, name)


def demo_messages(min_messages: int, seed: int = SEED) -> tuple[list[dict[str, Any]], WorldSpec]:
    """At least ``min_messages`` demo messages (whole people), in the world's time order."""
    people = max(50, int(min_messages / 7.0))
    while True:
        spec = WorldSpec(seed, people, CORPUS_END)
        stats = WorldStats()
        messages = [m for block in iter_blocks(spec, stats) for m in block.messages]
        if len(messages) >= min_messages:
            return messages[:min_messages], spec
        people = int(people * 1.1 * min_messages / max(1, len(messages))) + 1


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def live_server(
    url: str,
    extra_env: dict[str, str] | None = None,
    start_seconds: float = 60,
    *,
    with_worker: bool = False,
) -> Iterator[str]:
    """``leadpond serve --no-worker`` (``serve`` with its worker: ``with_worker``) as a real
    process on a free loopback port, given ``start_seconds`` to answer."""
    port = free_port()
    env = {**os.environ, "LEADPOND_DATABASE_URL": url, **(extra_env or {})}
    log = tempfile.TemporaryFile()  # noqa: SIM115 (closed in the finally below)
    worker = [] if with_worker else ["--no-worker"]
    process = subprocess.Popen(
        [str(LEADPOND), "serve", *worker, "--no-migrate", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + start_seconds
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1.0).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                raise RuntimeError(f"server did not start: {log.read().decode()[-2000:]}")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_gb = 0.0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "memory_gb": memory_gb,
        "python": sys.version.split()[0],
        "sqlite": __import__("sqlite3").sqlite_version,
        "disk_free_gb": round(shutil.disk_usage("/tmp").free / 1e9, 1),
    }
