"""Running the demo: a workspace, the world streamed into it, ground truth beside it, processing."""

import json
import os
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import select

from leadpond.config import get_settings
from leadpond.db.engine import read_only, unit_of_work
from leadpond.demo.content import ensure_demo_content
from leadpond.demo.duplicates import queue_first_scans
from leadpond.demo.events import ensure_events
from leadpond.demo.forms import ensure_demo_forms
from leadpond.demo.loaders import BulkLoader, HttpLoader
from leadpond.demo.templates import ensure_journey_templates
from leadpond.demo.truth import TruthWriter
from leadpond.demo.world import WorldSpec, WorldStats, iter_blocks
from leadpond.pipeline import worker
from leadpond.playbooks.service import start_workspace
from leadpond.workspaces import service as workspace_service
from leadpond.workspaces.models import Workspace
from leadpond.workspaces.service import KeyKind

DEFAULT_WORKSPACE = "Demo"
DEFAULT_PEOPLE = 2_000
DEFAULT_SEED = 7
CREDENTIALS_PATH = Path("var/demo-credentials.json")
TRUTH_ROOT = Path("var/demo")


class ProgressHooks(Protocol):
    """Where a long run reports how far it got (the CLI draws Rich progress bars)."""

    def phase(self, name: str, total: int | None) -> None:
        """A new phase begins, of ``total`` units when known."""

    def advance(self, amount: int) -> None:
        """``amount`` more units of the current phase are done."""


@dataclass
class DemoOptions:
    """What to generate and where to put it."""

    people: int = DEFAULT_PEOPLE
    seed: int = DEFAULT_SEED
    end: date | None = None  # the world's year ends here (default: today, UTC)
    workspace: str | None = None
    via: str | None = None  # base URL of a running server: load over HTTP
    process: bool = True
    truth_root: Path = TRUTH_ROOT
    credentials_path: Path = CREDENTIALS_PATH
    http_concurrency: int = 2


@dataclass
class DemoReport:
    """What a run did: the workspace, its keys, and the counts and times of each phase."""

    workspace_id: uuid.UUID
    workspace_name: str
    created: bool
    credentials: dict[str, str] = field(default_factory=dict)
    loaded: bool = False
    messages: int = 0
    inserted: int = 0
    processed: int = 0
    load_seconds: float = 0.0
    process_seconds: float = 0.0
    truth_dir: Path | None = None


def world_spec(options: DemoOptions) -> WorldSpec:
    """The world the options describe."""
    return WorldSpec(options.seed, options.people, options.end or datetime.now(UTC).date())


def _find(name_or_id: str) -> Workspace | None:
    with read_only() as session:
        try:
            by_id = session.get(Workspace, uuid.UUID(name_or_id))
        except ValueError:
            by_id = None
        if by_id is not None:
            return by_id
        found = session.scalars(select(Workspace).where(Workspace.name == name_or_id)).all()
        return found[0] if len(found) == 1 else None


def _create(name: str) -> tuple[Workspace, dict[str, str]]:
    with unit_of_work() as session:
        created = start_workspace(session, name)
        workspace = workspace_service.get_workspace(session, created.workspace_id)
    keys = {"write_key": created.write_key, "api_key": created.api_key}
    return workspace, keys


def _issue_keys(workspace_id: uuid.UUID, kinds: tuple[KeyKind, ...]) -> dict[str, str]:
    with unit_of_work() as session:
        return {
            f"{kind.value}_key": workspace_service.issue_key(session, workspace_id, kind, "demo")
            for kind in kinds
        }


def write_credentials(path: Path, workspace: Workspace, keys: dict[str, str]) -> dict[str, str]:
    """Keep the demo's plain keys (only hashes are in the database), readable by the owner only."""
    credentials = {
        "workspace_id": str(workspace.id),
        "workspace_name": workspace.name,
        "database_url": get_settings().database_url,
        **keys,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(credentials, handle, indent=2, ensure_ascii=False)
    path.chmod(0o600)
    return credentials


def read_credentials(path: Path, workspace_id: uuid.UUID) -> dict[str, str] | None:
    """The stored keys of this workspace, or None when the file is missing or for another one."""
    try:
        stored: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if stored.get("workspace_id") != str(workspace_id):
        return None
    if stored.get("database_url") != get_settings().database_url:
        return None
    return stored


def _ensure_templates(workspace_id: uuid.UUID, spec: WorldSpec) -> None:
    """The templates of the default playbook's journeys and the content pool, before the world
    is processed (so its last day's trial requests queue their notes), and in a demo workspace
    made before the journeys (or the content pool) existed."""
    with unit_of_work() as session:
        ensure_journey_templates(session, workspace_id)
        ensure_demo_forms(session, workspace_id)
        ensure_demo_content(session, workspace_id, spec)


def ensure(options: DemoOptions, hooks: ProgressHooks | None = None) -> DemoReport:
    """The demo workspace as it is if it exists; otherwise created and loaded."""
    name = options.workspace or DEFAULT_WORKSPACE
    existing = _find(name)
    if existing is None:
        return run(options, hooks, name=name)
    _ensure_templates(existing.id, world_spec(options))
    credentials = read_credentials(options.credentials_path, existing.id)
    if credentials is None:
        # The plain keys are gone (hashes only in the database): issue a fresh pair to show.
        keys = _issue_keys(existing.id, (KeyKind.WRITE, KeyKind.API))
        credentials = write_credentials(options.credentials_path, existing, keys)
    return DemoReport(existing.id, existing.name, created=False, credentials=credentials)


def run(
    options: DemoOptions, hooks: ProgressHooks | None = None, name: str | None = None
) -> DemoReport:
    """Generate the world into a workspace (new unless named), write its truth, process it."""
    spec = world_spec(options)
    name = name or options.workspace
    workspace = _find(name) if name else None
    created = workspace is None
    keys: dict[str, str] = {}
    if workspace is None:
        default_name = f"Demo {spec.seed}-{spec.people} {datetime.now(UTC):%Y%m%d-%H%M%S}"
        workspace, keys = _create(name or default_name)
    elif options.via:
        keys = _issue_keys(workspace.id, (KeyKind.WRITE,))
    report = DemoReport(workspace.id, workspace.name, created=created, loaded=True)
    _ensure_templates(workspace.id, spec)
    if created:
        report.credentials = write_credentials(options.credentials_path, workspace, keys)
    report.truth_dir = options.truth_root / f"{spec.seed}-{spec.people}"
    started = time.perf_counter()
    _load(spec, options, report, report.truth_dir, keys, hooks)
    report.load_seconds = time.perf_counter() - started
    if options.process:
        started = time.perf_counter()
        if hooks:
            hooks.phase("processing", report.inserted)
        report.processed = worker.drain(progress=hooks.advance if hooks else None)
        if ensure_events(report.workspace_id, spec.seed):  # through the events service
            report.processed += worker.drain()
        report.process_seconds = time.perf_counter() - started
        queue_first_scans(workspace.id)
    return report


def _load(
    spec: WorldSpec,
    options: DemoOptions,
    report: DemoReport,
    truth_dir: Path,
    keys: dict[str, str],
    hooks: ProgressHooks | None,
) -> None:
    stats = WorldStats()
    loader: BulkLoader | HttpLoader
    if options.via:
        loader = HttpLoader(options.via, keys["write_key"], options.http_concurrency)
    else:
        loader = BulkLoader(report.workspace_id)
    if hooks:
        hooks.phase("generating and loading people", spec.people)
    try:
        with TruthWriter(truth_dir) as truth:
            for block in iter_blocks(spec, stats):
                truth.write(block)
                loader.load(block.messages)
                if hooks:
                    hooks.advance(block.person_count)
            extra: dict[str, Any] = {"workspace_id": str(report.workspace_id)}
            extra["loaded_via"] = options.via or "bulk"
            truth.close(spec, stats, extra)
    finally:
        if isinstance(loader, HttpLoader):
            loader.close()
    report.messages = stats.messages
    report.inserted = loader.inserted
