"""``leadpond channel bounces FILE...``: apply DSN files (a bounce mailbox's messages)."""

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from leadpond.channels import bounces
from leadpond.db.engine import read_only, unit_of_work
from leadpond.workspaces.service import find_workspace

app = typer.Typer(help="Email bounces.", no_args_is_help=True)
console = Console()


@app.callback()
def bounces_group() -> None:
    """Mounted under ``leadpond channel``."""


@app.command("bounces")
def bounces_command(
    files: Annotated[list[Path], typer.Argument(exists=True, dir_okay=False, help="DSN files")],
    workspace: Annotated[str, typer.Option(help="Workspace name or id")],
) -> None:
    """Apply each DSN to its message: hard bounces suppress the address."""
    with read_only() as session:
        workspace_id = find_workspace(session, workspace).id
    for path in files:
        with unit_of_work() as session:
            report = bounces.process_dsn(session, path.read_bytes(), workspace_id)
        console.print(f"{path}: {json.dumps(report.to_body(), ensure_ascii=False)}")
