"""``leadpond journey``: advance due steps (as if the clock read ``--now``)."""

import json
from dataclasses import asdict
from typing import Annotated

import typer

from leadpond.db import migrate
from leadpond.db.engine import read_only, rolled_back, unit_of_work
from leadpond.journeys.dryrun import dry_run
from leadpond.journeys.engine import RUN_BATCH
from leadpond.journeys.runner import run_due
from leadpond.journeys.versions import migrate_enrollments
from leadpond.kit.clock import parse_timestamp, utcnow
from leadpond.kit.errors import InvalidInput
from leadpond.workspaces.service import find_workspace

journey_app = typer.Typer(
    help="Journeys: run due steps, dry-run on history, migrate enrollments.", no_args_is_help=True
)


@journey_app.command("run-due")
def run_due_command(
    workspace: Annotated[str, typer.Option(help="Workspace name or id")],
    now: Annotated[
        str | None,
        typer.Option(help="ISO time to act as the clock (catch-up, tests); default: now"),
    ] = None,
    batch: Annotated[
        int, typer.Option(min=1, help="Enrollments claimed per transaction")
    ] = RUN_BATCH,
) -> None:
    """Run every journey step due at ``--now``: waits that ended, then what follows them."""
    moment = None
    if now is not None:
        moment = parse_timestamp(now)
        if moment is None:
            raise InvalidInput(f"--now {now!r} is not an ISO time", field="now")
    migrate.upgrade()
    with read_only() as session:
        workspace_id = find_workspace(session, workspace).id
    report = run_due(workspace_id, moment, limit=batch)
    typer.echo(json.dumps(asdict(report)))


@journey_app.command("dry-run")
def dry_run_command(
    workspace: Annotated[str, typer.Option(help="Workspace name or id")],
    journey: Annotated[str, typer.Option(help="The journey's key")],
    since: Annotated[str, typer.Option(help="Replay the history from this ISO time")],
    until: Annotated[str, typer.Option(help="Up to this ISO time (steps due by then run)")],
) -> None:
    """What a journey would have done over real history: the engine runs it in a transaction
    that is rolled back, so nothing is kept and nothing is sent. Prints the report as JSON."""
    start, end = parse_timestamp(since), parse_timestamp(until)
    if start is None:
        raise InvalidInput(f"--since {since!r} is not an ISO time", field="since")
    if end is None:
        raise InvalidInput(f"--until {until!r} is not an ISO time", field="until")
    migrate.upgrade()
    with read_only() as session:
        workspace_id = find_workspace(session, workspace).id
    with rolled_back() as session:
        report = dry_run(session, workspace_id, journey, start, end)
    typer.echo(json.dumps(asdict(report), ensure_ascii=False, default=str))


@journey_app.command("migrate")
def migrate_command(
    workspace: Annotated[str, typer.Option(help="Workspace name or id")],
    journey: Annotated[str, typer.Option(help="The journey's key")],
    from_version: Annotated[int, typer.Option(help="The playbook version to move from")],
) -> None:
    """Move the journey's waiting enrollments of ``--from-version`` to the current playbook
    version's step of the same id; prints how many moved and lists those left on their version
    (their step is gone), as JSON."""
    migrate.upgrade()
    with read_only() as session:
        workspace_id = find_workspace(session, workspace).id
    with unit_of_work() as session:
        report = migrate_enrollments(session, workspace_id, journey, from_version, utcnow())
    typer.echo(json.dumps(asdict(report), ensure_ascii=False))
