"""Identity jobs: rebuilding the identity graph after its rules changed; scanning for duplicates."""

from dataclasses import asdict
from typing import Any

from leadpond.db.engine import unit_of_work
from leadpond.identity import duplicates
from leadpond.identity.rebuild import rebuild
from leadpond.jobs.registry import JobContext

REBUILD_GRAPH = "identity.rebuild"
SCAN_DUPLICATES = duplicates.SCAN_DUPLICATES


def rebuild_graph_task(ctx: JobContext) -> dict[str, Any]:
    """Replay every processed event through the current identity rules, in one transaction
    (the graph moves as a whole: people never see half a rebuild)."""
    ctx.progress(0, None, "rebuilding the identity graph")
    with unit_of_work(ctx.url) as session:
        report = rebuild(session, ctx.workspace_id)
    return asdict(report)


def scan_duplicates_task(ctx: JobContext) -> dict[str, Any]:
    """Score people with the linkage model and queue likely duplicates for review (a full scan
    when the payload asks for one or none ran yet; else the people changed since the last)."""
    ctx.progress(0, None, "starting the duplicate scan")
    report = duplicates.scan(
        ctx.workspace_id,
        full=bool(ctx.payload.get("full")),
        url=ctx.url,
        progress=ctx.progress,
    )
    return duplicates.report_dict(report)
