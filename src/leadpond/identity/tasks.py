"""Identity jobs: rebuilding a workspace's identity graph after its rules changed."""

from dataclasses import asdict
from typing import Any

from leadpond.db.engine import unit_of_work
from leadpond.identity.rebuild import rebuild
from leadpond.jobs.registry import JobContext

REBUILD_GRAPH = "identity.rebuild"


def rebuild_graph_task(ctx: JobContext) -> dict[str, Any]:
    """Replay every processed event through the current identity rules, in one transaction
    (the graph moves as a whole: people never see half a rebuild)."""
    ctx.progress(0, None, "rebuilding the identity graph")
    with unit_of_work(ctx.url) as session:
        report = rebuild(session, ctx.workspace_id)
    return asdict(report)
