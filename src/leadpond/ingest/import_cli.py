"""`leadpond import people FILE --workspace W`: exit 0 all good, 1 rows rejected, 2 unusable."""

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from leadpond.db.engine import read_only
from leadpond.ingest import importer
from leadpond.kit.errors import InvalidInput, LeadpondError
from leadpond.workspaces.service import find_workspace

import_app = typer.Typer(help="Import people from files.", no_args_is_help=True)

console = Console()
err_console = Console(stderr=True)


def parse_mapping(pairs: list[str]) -> dict[str, str]:
    """``--map`` values (``column=trait``, ``column=`` ignores the column) as a dict."""
    mapping: dict[str, str] = {}
    for pair in pairs:
        column, sep, target = pair.rpartition("=")
        if not sep or not column.strip():
            raise InvalidInput(f"--map expects COLUMN=TRAIT (or COLUMN= to ignore), got {pair!r}")
        mapping[column.strip()] = target.strip()
    return mapping


def _print_report(report: importer.ImportReport, dry_run: bool) -> None:
    bad_rows = len({problem["row"] for problem in report.rejected})
    summary = Table(title="dry run: nothing written" if dry_run else "import finished")
    for name in ("rows", "imported", "duplicates", "rejected rows"):
        summary.add_column(name, justify="right")
    summary.add_row(str(report.rows), str(report.imported), str(report.duplicates), str(bad_rows))
    console.print(summary)
    for problem in report.rejected:
        column = f", column {problem['column']}" if problem["column"] else ""
        console.print(f"row {problem['row']}{column}: {problem['reason']}", markup=False)


@import_app.command("people")
def import_people(
    file: Annotated[Path, typer.Argument(help="A .csv (UTF-8 or GB18030/GBK) or .xlsx file")],
    workspace: Annotated[str, typer.Option("--workspace", "-w", help="Workspace name or id")],
    mapping: Annotated[
        list[str] | None,
        typer.Option("--map", help="COLUMN=TRAIT (repeatable); COLUMN= ignores the column"),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Validate and report; write nothing")
    ] = False,
    timezone: Annotated[
        str, typer.Option(help="Time zone of timestamps written without an offset")
    ] = importer.DEFAULT_TIMEZONE,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON")] = False,
) -> None:
    """Import people: good rows are written, every bad row is listed with its row and column."""
    try:
        with read_only() as session:
            workspace_id = find_workspace(session, workspace).id
        with console.status("importing…") as status, file.open("rb") as stream:
            report = importer.import_people(
                workspace_id,
                stream,
                file.name,
                mapping=parse_mapping(mapping or []),
                dry_run=dry_run,
                timezone=timezone,
                on_progress=lambda r: status.update(f"importing… {r.rows:,} rows read"),
            )
    except (LeadpondError, OSError) as exc:
        err_console.print(f"[red]error[/red]: {getattr(exc, 'message', exc)}")
        raise typer.Exit(2) from exc
    if as_json:
        typer.echo(json.dumps(report.to_body(), ensure_ascii=False))
    else:
        _print_report(report, dry_run)
    raise typer.Exit(1 if report.rejected else 0)
