"""``leadpond identity``: rebuild the graph after the rules change."""

import json
from typing import Annotated

import typer

from leadpond.db import migrate
from leadpond.db.engine import unit_of_work
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
