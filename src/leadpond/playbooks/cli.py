"""``leadpond playbook``: validate, apply and export a workspace's playbook; print its schema."""

import json
import uuid
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import Progress

from leadpond.db import migrate
from leadpond.db.engine import read_only, rolled_back, unit_of_work
from leadpond.jobs.models import Job
from leadpond.jobs.schemas import JobRead
from leadpond.kit.clock import parse_timestamp
from leadpond.kit.errors import InvalidInput
from leadpond.playbooks import service
from leadpond.playbooks.tasks import enqueue_replay
from leadpond.rules.backfill import BackfillReport
from leadpond.rules.playbook import json_schema
from leadpond.workspaces.service import find_workspace

playbook_app = typer.Typer(help="Playbooks: the marketing logic as YAML.", no_args_is_help=True)

FileArg = Annotated[Path, typer.Argument(help="Playbook YAML file")]
WorkspaceOpt = Annotated[str, typer.Option(help="Workspace name or id")]
AsJobOpt = Annotated[
    bool,
    typer.Option("--as-job", help="Queue the replay for the worker and print the job instead"),
]


def _read(path: Path) -> str:
    try:
        return path.read_text("utf-8")
    except OSError as exc:
        raise typer.BadParameter(f"cannot read {path}: {exc.strerror}") from exc


@playbook_app.command("validate")
def validate_command(file: FileArg) -> None:
    """Check a playbook file; every error is printed with its line and key."""
    try:
        valid = service.validate_playbook(_read(file))
    except service.PlaybookInvalid as exc:
        for error in exc.details["errors"]:
            line = f"line {error['line']}, " if error.get("line") else ""
            typer.echo(f"{file}: {line}{error['path']}: {error['message']}", err=True)
        raise typer.Exit(2) from None
    rs = valid.ruleset
    rules = len(rs.tag_rules) + len(rs.score_rules) + len(rs.key_events) + len(rs.stage_rules)
    typer.echo(f"{file}: valid ({rules} rules, {len(rs.stages)} stages)")


@playbook_app.command("apply")
def apply_command(
    file: FileArg,
    workspace: WorkspaceOpt,
    backfill: Annotated[
        bool, typer.Option("--backfill", help="Replay history through the new rules")
    ] = False,
    as_job: AsJobOpt = False,
) -> None:
    """Make the file the workspace's rules (a new version unless nothing changed)."""
    migrate.upgrade()
    text = _read(file)
    with unit_of_work() as session:
        found = find_workspace(session, workspace)
        result = service.apply_playbook(session, found.id, text, actor="cli")
        job = _job_read(enqueue_replay(session, found.id)) if backfill and as_job else None
    # The new version is committed first; the history is replayed in steps after it.
    report = _replay(found.id).__dict__ if backfill and not as_job else None
    typer.echo(
        json.dumps(
            {
                "version": result.version,
                "changed": result.changed,
                "backfill": report,
                "backfill_job": job,
            }
        )
    )


@playbook_app.command("dry-run")
def dry_run_command(
    file: FileArg,
    workspace: WorkspaceOpt,
    journey: Annotated[str, typer.Option(help="The key of a journey of the draft")],
    since: Annotated[str, typer.Option(help="Replay the history from this ISO time")],
    until: Annotated[str, typer.Option(help="Up to this ISO time (steps due by then run)")],
) -> None:
    """Try a journey of a draft playbook on real history without applying the draft: prints
    what it would have done as JSON (nothing is kept, nothing is sent)."""
    start, end = parse_timestamp(since), parse_timestamp(until)
    if start is None:
        raise InvalidInput(f"--since {since!r} is not an ISO time", field="since")
    if end is None:
        raise InvalidInput(f"--until {until!r} is not an ISO time", field="until")
    source = _read(file)
    migrate.upgrade()
    with read_only() as session:
        workspace_id = find_workspace(session, workspace).id
    with rolled_back() as session:
        report = service.dry_run_draft(session, workspace_id, source, journey, start, end)
    typer.echo(json.dumps(asdict(report), ensure_ascii=False, default=str))


@playbook_app.command("export")
def export_command(file: FileArg, workspace: WorkspaceOpt) -> None:
    """Write the workspace's current playbook to FILE (use - for stdout)."""
    with read_only() as session:
        text = service.export_playbook(session, find_workspace(session, workspace).id)
    if str(file) == "-":
        typer.echo(text, nl=False)
    else:
        file.write_text(text, "utf-8")


@playbook_app.command("backfill")
def backfill_command(workspace: WorkspaceOpt, as_job: AsJobOpt = False) -> None:
    """Replay the workspace's history through its current rules (one transaction per step)."""
    migrate.upgrade()
    if as_job:
        with unit_of_work() as session:
            job = _job_read(enqueue_replay(session, find_workspace(session, workspace).id))
        typer.echo(json.dumps(job))
        return
    with read_only() as session:
        workspace_id = find_workspace(session, workspace).id
    typer.echo(json.dumps(_replay(workspace_id).__dict__))


def _job_read(job: Job) -> dict[str, Any]:
    return JobRead.build(job).model_dump(mode="json")


def _replay(workspace_id: uuid.UUID) -> BackfillReport:
    with Progress(transient=True, console=Console(stderr=True)) as progress:
        task = progress.add_task("replaying history", total=None)
        return service.replay_history(
            workspace_id,
            on_step=lambda done, total: progress.update(task, completed=done, total=total),
        )


@playbook_app.command("schema")
def schema_command() -> None:
    """Print the JSON Schema of playbook files (for editors)."""
    typer.echo(json.dumps(json_schema(), ensure_ascii=False, indent=2))
