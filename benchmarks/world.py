"""The demo world, loaded into a scratch database and processed once per run (shared)."""

import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from benchmarks.common import CORPUS_END, SEED, Context, new_workspace, scratch_database
from leadpond.demo.loaders import BulkLoader
from leadpond.demo.truth import TruthWriter
from leadpond.demo.world import WorldSpec, WorldStats, iter_blocks
from leadpond.pipeline import worker


@dataclass
class ProcessedWorld:
    url: str
    workspace_id: uuid.UUID
    truth_dir: Path
    people: int
    events: int
    load_seconds: float
    drain_seconds: float
    baseline: "BaselineHook | None" = None


class BaselineHook:
    """Something to measure on the loaded, still unprocessed events (the pipeline's floor)."""

    def measure(self, url: str, workspace_id: uuid.UUID) -> dict[str, float]:
        raise NotImplementedError


def processed_world(ctx: Context, before_drain: BaselineHook | None = None) -> ProcessedWorld:
    """Load the demo world (bulk) and drain the pipeline over it, timed; cached for the run."""
    cached = ctx.cache.get("processed_world")
    if isinstance(cached, ProcessedWorld):
        return cached
    people = 130_000 if ctx.large else 4_000
    url = ctx.resources.enter_context(scratch_database(ctx, "world"))
    workspace = new_workspace(url)
    spec = WorldSpec(SEED, people, CORPUS_END)
    truth_dir = ctx.scratch / "truth"
    stats = WorldStats()
    loader = BulkLoader(workspace.workspace_id)
    started = time.perf_counter()
    with TruthWriter(truth_dir) as truth:
        for block in iter_blocks(spec, stats):
            truth.write(block)
            loader.load(block.messages)
        truth.close(spec, stats, {"workspace_id": str(workspace.workspace_id)})
    load_seconds = time.perf_counter() - started
    if before_drain is not None:
        ctx.cache["pipeline_baseline"] = before_drain.measure(url, workspace.workspace_id)
    started = time.perf_counter()
    drained = worker.drain()
    drain_seconds = time.perf_counter() - started
    world = ProcessedWorld(
        url, workspace.workspace_id, truth_dir, people, drained, load_seconds, drain_seconds
    )
    ctx.cache["processed_world"] = world
    return world
