"""The ``leadpond`` command: serve, worker, db, workspace, pipeline, channel…"""

import json
import logging
import sys
import time
from typing import Annotated

import typer
import uvicorn
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

import leadpond.wiring  # noqa: F401  (installs the hooks and job kinds)
from leadpond.channels.cli import channel_app
from leadpond.config import get_settings
from leadpond.db import migrate
from leadpond.db.engine import read_only, unit_of_work
from leadpond.demo.cli import demo as demo_command
from leadpond.identity.cli import identity_app
from leadpond.ingest.import_cli import import_app
from leadpond.jobs.cli import jobs_app
from leadpond.journeys.cli import journey_app
from leadpond.kit.errors import LeadpondError
from leadpond.kit.runtime import tune_for_batches
from leadpond.pipeline import quarantine
from leadpond.pipeline import worker as pipeline_worker
from leadpond.pipeline.sweep import sweep_idle_stages
from leadpond.playbooks.cli import playbook_app
from leadpond.playbooks.service import start_workspace
from leadpond.segments.cli import segment_app
from leadpond.users.cli import user_app
from leadpond.workspaces.service import find_workspace

app = typer.Typer(
    help="leadpond: B2B customer data platform and marketing automation.", no_args_is_help=True
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
workspace_app = typer.Typer(help="Workspaces and their keys.", no_args_is_help=True)
pipeline_app = typer.Typer(help="The event processing pipeline.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(workspace_app, name="workspace")
app.add_typer(pipeline_app, name="pipeline")
app.add_typer(import_app, name="import")
app.add_typer(identity_app, name="identity")
app.add_typer(user_app, name="user")
app.add_typer(playbook_app, name="playbook")
app.add_typer(segment_app, name="segment")
app.add_typer(jobs_app, name="jobs")
app.add_typer(channel_app, name="channel")
app.add_typer(journey_app, name="journey")
app.command("demo")(demo_command)

console = Console()
err_console = Console(stderr=True)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind")] = None,
    port: Annotated[int | None, typer.Option(help="TCP port")] = None,
    no_worker: Annotated[
        bool, typer.Option("--no-worker", help="API only; run workers apart")
    ] = False,
    migrate_first: Annotated[
        bool, typer.Option("--migrate/--no-migrate", help="Upgrade the schema first")
    ] = True,
) -> None:
    """Serve the tracking API, the admin API and (unless --no-worker) the pipeline worker."""
    from leadpond.app import create_app

    settings = get_settings()
    if migrate_first:
        migrate.upgrade()
    served = create_app(with_worker=not no_worker, with_console=True)
    tune_for_batches()
    uvicorn.run(
        served,
        host=host if host is not None else settings.host,
        port=port if port is not None else settings.port,
        log_level="info",
    )


@app.command()
def worker(
    batch_size: Annotated[int | None, typer.Option(min=1, help="Events per batch")] = None,
) -> None:
    """Run a pipeline worker until interrupted (any number may run against PostgreSQL)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    runner = pipeline_worker.Worker(batch_size=batch_size)
    tune_for_batches()
    try:
        runner.run()
    except KeyboardInterrupt:
        runner.stop()


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database to the newest schema."""
    migrate.upgrade()
    console.print("database is up to date")


@db_app.command("check")
def db_check() -> None:
    """Fail when the models and the migrations disagree."""
    migrate.check()
    console.print("models and migrations agree")


@workspace_app.command("create")
def workspace_create(
    name: Annotated[str, typer.Argument(help="Workspace name")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Create a workspace; its write key and API key are shown once."""
    migrate.upgrade()
    with unit_of_work() as session:
        created = start_workspace(session, name)
    result = {
        "workspace_id": str(created.workspace_id),
        "write_key": created.write_key,
        "api_key": created.api_key,
    }
    if as_json:
        typer.echo(json.dumps(result))
    else:
        for key, value in result.items():
            console.print(f"[bold]{key}[/bold]: {value}")
        console.print("Keep the keys now: only their hashes are stored.")


@pipeline_app.command("drain")
def pipeline_drain(
    batch_size: Annotated[int | None, typer.Option(min=1, help="Events per batch")] = None,
) -> None:
    """Process every pending event, then exit (with a progress bar on a terminal)."""
    started = time.perf_counter()
    pending = pipeline_worker.status().pending_events
    columns = (
        TextColumn("processing"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]} events/s"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, disable=not console.is_terminal) as progress:
        task = progress.add_task("processing", total=pending or None, rate="–")

        def advance(done: int) -> None:
            seconds = max(time.perf_counter() - started, 1e-9)
            progress.advance(task, done)
            rate = progress.tasks[0].completed / seconds
            progress.update(task, rate=f"{rate:,.0f}")

        done = pipeline_worker.drain(batch_size, progress=advance)
    seconds = time.perf_counter() - started
    console.print(f"processed {done} events in {seconds:.1f} s")


@pipeline_app.command("sweep")
def pipeline_sweep() -> None:
    """Apply idle stage rules now (the worker does this every minute)."""
    migrate.upgrade()
    for workspace_id, report in sweep_idle_stages().items():
        console.print(
            f"{workspace_id}: {report.candidates} quiet people looked at, {len(report.moved)} moved"
        )


@pipeline_app.command("status")
def pipeline_status(
    workspace: Annotated[str | None, typer.Option(help="Workspace name or id")] = None,
) -> None:
    """Backlog size and age, and quarantined events per workspace (all workspaces by default)."""
    workspace_id = None
    if workspace is not None:
        with read_only() as session:
            workspace_id = find_workspace(session, workspace).id
    s = pipeline_worker.status(workspace_id)
    typer.echo(json.dumps(s.__dict__))


@pipeline_app.command("retry-failed")
def pipeline_retry_failed(
    workspace: Annotated[str | None, typer.Option(help="Workspace name or id")] = None,
) -> None:
    """Put quarantined events back in the queue (all workspaces by default)."""
    migrate.upgrade()
    with unit_of_work() as session:
        workspace_id = find_workspace(session, workspace).id if workspace is not None else None
        count = quarantine.retry_failed(session, workspace_id)
    console.print(f"{count} quarantined event(s) queued again")


def main() -> None:
    """Entry point: domain errors become a message and a non-zero exit."""
    try:
        app()
    except LeadpondError as exc:
        err_console.print(f"[red]error[/red]: {exc.message}")
        sys.exit(2)
