"""``leadpond demo``: generate the demo world into a workspace, with Rich progress bars."""

from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from leadpond.config import get_settings
from leadpond.db import migrate
from leadpond.db.engine import unit_of_work
from leadpond.demo import service
from leadpond.demo.service import DemoOptions, DemoReport
from leadpond.users.demo import CONSOLE_CREDENTIALS_PATH, ensure_demo_admin

console = Console()


class RichHooks:
    """One progress bar per phase of the run."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.task: TaskID | None = None

    def phase(self, name: str, total: int | None) -> None:
        """Start a new bar (and stop the previous one)."""
        if self.task is not None:
            self.progress.stop_task(self.task)
        self.task = self.progress.add_task(name, total=total)

    def advance(self, amount: int) -> None:
        """Move the current bar on."""
        if self.task is not None:
            self.progress.advance(self.task, amount)


def _print_report(report: DemoReport) -> None:
    settings = get_settings()
    base = f"http://{settings.host}:{settings.port}"
    verb = "created and loaded" if report.created else "ready"
    if report.loaded and not report.created:
        verb = "loaded into"
    console.print(
        f"[bold green]Demo workspace {verb}[/]: {report.workspace_name} ({report.workspace_id})"
    )
    if report.loaded:
        console.print(
            f"  {report.messages:,} messages generated, {report.inserted:,} stored "
            f"in {report.load_seconds:.1f} s; {report.processed:,} processed "
            f"in {report.process_seconds:.1f} s"
        )
        console.print(f"  ground truth: {report.truth_dir}")
    console.print(f"  console:  {base}/console")
    console.print(f"  API docs: {base}/docs")
    for key in ("write_key", "api_key"):
        if key in report.credentials:
            console.print(f"  {key.replace('_', ' ')}: [bold]{report.credentials[key]}[/]")
    if report.credentials:
        console.print(f"  (kept in {DemoOptions().credentials_path}, mode 0600)")


def demo(
    workspace: Annotated[
        str | None, typer.Option(help="Workspace name or id (default: a new demo workspace)")
    ] = None,
    people: Annotated[int, typer.Option(min=1, help="People in the world")] = (
        service.DEFAULT_PEOPLE
    ),
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same world")] = (
        service.DEFAULT_SEED
    ),
    end: Annotated[
        datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="Last day of the world's year (default: today)"),
    ] = None,
    via: Annotated[
        str | None, typer.Option(help="Post over HTTP to this server, e.g. http://127.0.0.1:8000")
    ] = None,
    process: Annotated[
        bool, typer.Option("--process/--no-process", help="Run the pipeline after loading")
    ] = True,
    ensure: Annotated[
        bool, typer.Option("--ensure", help="Create and load the demo only if it does not exist")
    ] = False,
    truth_dir: Annotated[
        Path, typer.Option(help="Where the ground truth goes (in <seed>-<people>/)")
    ] = service.TRUTH_ROOT,
) -> None:
    """Generate a B2B world (companies, people, a year of behaviour) into a workspace."""
    migrate.upgrade()
    end_date: date | None = end.date() if end else None
    options = DemoOptions(
        people=people,
        seed=seed,
        end=end_date,
        workspace=workspace,
        via=via,
        process=process,
        truth_root=truth_dir,
    )
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        hooks = RichHooks(progress)
        report = service.ensure(options, hooks) if ensure else service.run(options, hooks)
    _print_report(report)
    with unit_of_work() as session:
        login = ensure_demo_admin(session, report.workspace_id)
    console.print(
        f"  console login: [bold]{login['console_email']}[/] / [bold]{login['console_password']}[/]"
        f" (kept in {CONSOLE_CREDENTIALS_PATH})"
    )
