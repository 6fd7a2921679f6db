"""``leadpond segment``: list, show, export, rebuild and refresh segments."""

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from leadpond.db import migrate
from leadpond.db.engine import read_only, unit_of_work
from leadpond.kit.clock import utcnow
from leadpond.segments import service
from leadpond.segments.definitions import load_segments
from leadpond.segments.exports import check_columns, export_rows, to_csv, to_xlsx
from leadpond.segments.personas import rebuild_personas
from leadpond.segments.scheduler import refresh_workspace
from leadpond.segments.schemas import SegmentRead
from leadpond.workspaces.service import find_workspace

segment_app = typer.Typer(help="Segments (客户分群): live audiences.", no_args_is_help=True)
console = Console()

WorkspaceOption = Annotated[str, typer.Option(help="Workspace name or id")]


@segment_app.command("list")
def list_command(
    workspace: WorkspaceOption,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Every segment with its count and last build."""
    migrate.upgrade()
    with read_only() as session:
        found = find_workspace(session, workspace)
        segments = [SegmentRead.build(s) for s in service.list_segments(session, found.id)]
    if as_json:
        typer.echo(json.dumps([s.model_dump(mode="json") for s in segments], ensure_ascii=False))
        return
    table = Table(title=f"segments of {found.name}")
    for column in ("id", "key", "name", "kind", "level", "count", "last build"):
        table.add_column(column, justify="right" if column in ("id", "count") else "left")
    for s in segments:
        built = s.last_built_at.isoformat(timespec="seconds") if s.last_built_at else "—"
        table.add_row(str(s.id), s.key, s.name or "", s.kind, s.level, str(s.count), built)
    console.print(table)


@segment_app.command("show")
def show_command(
    segment: Annotated[str, typer.Argument(help="Segment id or key")],
    workspace: WorkspaceOption,
) -> None:
    """One segment's definition, count and last build, as JSON."""
    migrate.upgrade()
    with read_only() as session:
        found = find_workspace(session, workspace)
        read = SegmentRead.build(service.get_segment(session, found.id, segment))
    typer.echo(json.dumps(read.model_dump(mode="json"), ensure_ascii=False, indent=2))


@segment_app.command("export")
def export_command(
    segment: Annotated[str, typer.Argument(help="Segment id or key")],
    workspace: WorkspaceOption,
    output: Annotated[Path, typer.Option("--output", "-o", help="A .csv or .xlsx file")],
    columns: Annotated[
        str | None, typer.Option(help="Comma-separated, e.g. name,company,title,owner,phone,email")
    ] = None,
) -> None:
    """Write the members to CSV (UTF-8 with BOM, for Excel) or XLSX; opted-out people flagged."""
    migrate.upgrade()
    suffix = output.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise typer.BadParameter("the output file must end in .csv or .xlsx", param_hint="--output")
    with read_only() as session:
        found = find_workspace(session, workspace)
        chosen_segment = service.get_segment(session, found.id, segment)
        chosen = check_columns(chosen_segment, columns.split(",") if columns else None)
        rows = export_rows(session, found.id, chosen_segment, chosen)
        if suffix == ".xlsx":
            output.write_bytes(to_xlsx(rows, chosen_segment.key))
        else:
            with output.open("wb") as handle:
                for chunk in to_csv(rows):
                    handle.write(chunk)
        count = chosen_segment.member_count
    console.print(f"wrote {count} members to {output}")


@segment_app.command("rebuild")
def rebuild_command(
    segment: Annotated[str, typer.Argument(help="Segment id or key")],
    workspace: WorkspaceOption,
) -> None:
    """Recompute one segment from scratch and record who entered and left."""
    migrate.upgrade()
    with unit_of_work() as session:
        found = find_workspace(session, workspace)
        report = service.build_segment(
            session, found.id, service.get_segment(session, found.id, segment)
        )
    typer.echo(json.dumps(report.__dict__))


@segment_app.command("personas")
def personas_command(workspace: WorkspaceOption) -> None:
    """Rebuild the persona memberships the directory filters by (the live path keeps them
    afterwards); prints each persona's size."""
    migrate.upgrade()
    with unit_of_work() as session:
        found = find_workspace(session, workspace)
        sizes = rebuild_personas(session, load_segments(session, found.id), utcnow())
    typer.echo(json.dumps(sizes, ensure_ascii=False))


@segment_app.command("refresh")
def refresh_command(
    workspace: WorkspaceOption,
    force: Annotated[bool, typer.Option(help="Rebuild even if refreshed recently")] = False,
) -> None:
    """Re-evaluate segments that time alone can change (windows, score decay, accounts)."""
    migrate.upgrade()
    with unit_of_work() as session:
        found = find_workspace(session, workspace)
        reports = refresh_workspace(session, found.id, utcnow(), force=force)
    typer.echo(json.dumps([r.__dict__ for r in reports]))
