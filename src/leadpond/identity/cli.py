"""``leadpond identity``: rebuild the graph after the rules change; scan for duplicates."""

import json
from typing import Annotated

import typer

from leadpond.db import migrate
from leadpond.db.engine import unit_of_work
from leadpond.identity import duplicates
from leadpond.identity.rebuild import rebuild
from leadpond.workspaces.service import find_workspace

identity_app = typer.Typer(help="The identity graph (ID mapping).", no_args_is_help=True)


@identity_app.command("rebuild")
def rebuild_command(
    workspace: Annotated[str, typer.Option(help="Workspace name or id")],
) -> None:
    """Replay every event through the current identity rules and apply what changed."""
    migrate.upgrade()
    with unit_of_work() as session:
        found = find_workspace(session, workspace)
        report = rebuild(session, found.id)
    typer.echo(json.dumps(report.__dict__))


@identity_app.command("scan")
def scan_command(
    workspace: Annotated[str, typer.Option(help="Workspace name or id")],
    full: Annotated[bool, typer.Option(help="Score every pair, not only changed people")] = False,
) -> None:
    """Score people with the linkage model and queue likely duplicates for review."""
    migrate.upgrade()
    with unit_of_work() as session:
        found = find_workspace(session, workspace)
        workspace_id = found.id

    def show(done: int, total: int | None, message: str) -> None:
        typer.echo(f"{message}: {done}" + (f"/{total}" if total is not None else ""), err=True)

    report = duplicates.scan(workspace_id, full=full, progress=show)
    typer.echo(json.dumps(duplicates.report_dict(report)))
