"""``leadpond jobs``: list, start, retry, cancel and run background jobs."""

import json
import uuid
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from leadpond.db import migrate
from leadpond.db.engine import read_only, unit_of_work
from leadpond.jobs import service
from leadpond.jobs.models import JobState
from leadpond.jobs.registry import kind_of, startable_kinds
from leadpond.jobs.runner import JobRunner
from leadpond.jobs.schemas import JobRead
from leadpond.kit.pagination import PageQuery
from leadpond.workspaces.service import find_workspace

jobs_app = typer.Typer(help="Background jobs: backfills, rebuilds.", no_args_is_help=True)
console = Console()

JobId = Annotated[int, typer.Argument(min=1, help="Job id")]
WorkspaceOption = Annotated[
    str | None, typer.Option(help="Workspace name or id (default: every workspace)")
]


def _workspace_id(workspace: str | None) -> uuid.UUID | None:
    if workspace is None:
        return None
    with read_only() as session:
        return find_workspace(session, workspace).id


def _progress(job: JobRead) -> str:
    done, total = job.progress.done, job.progress.total
    if done is None:
        return "—"
    return f"{done:,}/{total:,}" if total is not None else f"{done:,}"


@jobs_app.command("list")
def list_command(
    workspace: WorkspaceOption = None,
    state: Annotated[JobState | None, typer.Option(help="Only jobs in this state")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="At most this many")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """The newest jobs with their state, attempts, progress and last error."""
    migrate.upgrade()
    workspace_id = _workspace_id(workspace)
    with read_only() as session:
        total, found = service.list_jobs(
            session, workspace_id, state=state, page=PageQuery(limit=limit)
        )
        jobs = [JobRead.build(j) for j in found]
    if as_json:
        typer.echo(json.dumps({"total": total, "items": [j.model_dump(mode="json") for j in jobs]}))
        return
    table = Table(title=f"jobs ({len(jobs)} of {total})")
    for column in ("id", "kind", "state", "attempts", "progress", "created", "last error"):
        table.add_column(column, justify="right" if column in ("id", "attempts") else "left")
    for j in jobs:
        error = (j.last_error or "").strip().splitlines()
        table.add_row(
            str(j.id),
            j.kind,
            j.state,
            f"{j.attempts}/{j.max_attempts}",
            _progress(j),
            j.created_at.isoformat(timespec="seconds"),
            error[-1][:80] if error else "",
        )
    console.print(table)


@jobs_app.command("start")
def start_command(
    kind: Annotated[str, typer.Argument(help="Job kind, e.g. identity.rebuild")],
    workspace: Annotated[str, typer.Option(help="Workspace name or id")],
) -> None:
    """Queue a whole-workspace job; the worker (or ``leadpond jobs run``) runs it."""
    migrate.upgrade()
    found_kind = kind_of(kind)
    if found_kind is None or not found_kind.startable:
        raise typer.BadParameter(f"kind must be one of {', '.join(startable_kinds())}")
    with unit_of_work() as session:
        workspace_id = find_workspace(session, workspace).id
        job = service.enqueue(
            session, kind, f"{kind}:cli:{service.fresh_key()}", {}, workspace_id=workspace_id
        )
        read = JobRead.build(job)
    typer.echo(json.dumps(read.model_dump(mode="json")))


@jobs_app.command("retry")
def retry_command(job_id: JobId) -> None:
    """Queue a failed (dead) or cancelled job again with fresh attempts."""
    migrate.upgrade()
    with unit_of_work() as session:
        read = JobRead.build(service.retry(session, None, job_id))
    console.print(f"job {read.id} ({read.kind}) is queued again")


@jobs_app.command("cancel")
def cancel_command(job_id: JobId) -> None:
    """Cancel a queued job; a running one stops at its next progress report."""
    migrate.upgrade()
    with unit_of_work() as session:
        read = JobRead.build(service.cancel(session, None, job_id))
    console.print(f"job {read.id} ({read.kind}) is cancelled")


@jobs_app.command("run")
def run_command() -> None:
    """Run every job that is due now in this process, then exit (the worker does this too)."""
    migrate.upgrade()
    ran = JobRunner().run_pending()
    console.print(f"{ran} job(s) run")
