"""Rules in the pipeline: events per second through every stage with the default B2B playbook.

Baseline: the same pipeline over the same demo events in a second scratch database whose
workspace has no playbook (identity, profiles and accounts only), so the ratio is what the rules
stage costs. Runnable alone: ``python -m benchmarks.rules_pipeline [--size small|1m]``.
"""

import argparse
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import delete, func, select

from benchmarks.common import CORPUS_END, SEED, Context, Result, new_workspace, scratch_database
from leadpond.db.engine import read_only, unit_of_work
from leadpond.demo.loaders import BulkLoader
from leadpond.demo.world import WorldSpec, WorldStats, iter_blocks
from leadpond.pipeline import worker
from leadpond.rules.models import PlaybookVersion, ScoreLedger, StageChange

NAME = "rules_pipeline"
TARGET_EVENTS_PER_S = 10_000


def load_world(ctx: Context, name: str, *, rules: bool) -> tuple[str, uuid.UUID]:
    """A scratch database holding the demo world, loaded but not yet processed."""
    url = ctx.resources.enter_context(scratch_database(ctx, name))
    workspace = new_workspace(url, name)
    if not rules:
        with unit_of_work() as session:
            session.execute(
                delete(PlaybookVersion).where(
                    PlaybookVersion.workspace_id == workspace.workspace_id
                )
            )
    loader = BulkLoader(workspace.workspace_id)
    spec = WorldSpec(SEED, 60_000 if ctx.large else 3_000, CORPUS_END)
    for block in iter_blocks(spec, WorldStats()):
        loader.load(block.messages)
    return url, workspace.workspace_id


def timed_drain() -> tuple[int, float]:
    started = time.perf_counter()
    events = worker.drain()
    return events, time.perf_counter() - started


def run(ctx: Context) -> list[Result]:
    """Drain the demo world with and without the default playbook."""
    load_world(ctx, "rules_off", rules=False)
    plain_events, plain_seconds = timed_drain()
    url, workspace_id = load_world(ctx, "rules_on", rules=True)
    events, seconds = timed_drain()
    with read_only() as session:
        ledger = session.scalar(select(func.count()).select_from(ScoreLedger)) or 0
        changes = session.scalar(select(func.count()).select_from(StageChange)) or 0
    ctx.cache["rules_world"] = (url, workspace_id, events)
    rate, plain_rate = events / seconds, plain_events / plain_seconds
    return [
        Result(
            name=NAME,
            metric="events processed per second, all stages, default playbook",
            unit="events/s",
            leadpond=round(rate),
            baseline_name="same pipeline, no playbook",
            baseline=round(plain_rate),
            ratio=round(rate / plain_rate, 3),
            target=f">= {TARGET_EVENTS_PER_S:,} events/s",
            passed=rate >= TARGET_EVENTS_PER_S,
            details={
                "events": events,
                "seconds": round(seconds, 2),
                "seconds_without_rules": round(plain_seconds, 2),
                "ledger_entries": ledger,
                "stage_changes": changes,
            },
        )
    ]


def main(argv: list[str] | None = None) -> int:
    """Run this benchmark alone and print its result as JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", choices=("small", "1m"), default="small")
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="leadpond-bench-") as scratch:
        ctx = Context(size=args.size, backend=args.backend, scratch=Path(scratch))
        with ctx.resources:
            results = run(ctx)
    print(json.dumps([r.to_dict() for r in results], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
