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
from datetime import timedelta
from pathlib import Path

from sqlalchemy import delete, func, insert, select

from benchmarks.common import CORPUS_END, SEED, Context, Result, new_workspace, scratch_database
from leadpond.db.engine import read_only, unit_of_work
from leadpond.demo.loaders import BulkLoader
from leadpond.demo.world import WorldSpec, WorldStats, iter_blocks
from leadpond.ingest.models import DERIVED_SOURCE, Event
from leadpond.kit.clock import utcnow
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
    copied = return_visits(workspace_id)
    again, again_seconds = timed_drain()
    assert again == copied, (again, copied)
    copied = return_visits(workspace_id, shift=timedelta(days=61), suffix="later")
    later, later_seconds = timed_drain()
    assert later == copied, (later, copied)
    ctx.cache["rules_world"] = (url, workspace_id, events + again + later)
    rate, plain_rate = events / seconds, plain_events / plain_seconds
    returning_rate, steady_rate = again / again_seconds, later / later_seconds
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
        ),
        Result(
            name=f"{NAME}_returning",
            metric="events processed per second when recently active people come back",
            unit="events/s",
            leadpond=round(returning_rate),
            baseline_name="the same world's first processing (new people), same run",
            baseline=round(rate),
            ratio=round(returning_rate / rate, 3),
            target=f">= {TARGET_EVENTS_PER_S:,} events/s",
            passed=returning_rate >= TARGET_EVENTS_PER_S,
            details={"events": again, "seconds": round(again_seconds, 2)},
        ),
        Result(
            name=f"{NAME}_steady",
            metric="events processed per second on a normal day: known people, in time order",
            unit="events/s",
            leadpond=round(steady_rate),
            baseline_name="the same world's first processing (new people), same run",
            baseline=round(rate),
            ratio=round(steady_rate / rate, 3),
            target=f">= {TARGET_EVENTS_PER_S:,} events/s",
            passed=steady_rate >= TARGET_EVENTS_PER_S,
            details={"events": later, "seconds": round(later_seconds, 2)},
        ),
    ]


def return_visits(
    workspace_id: uuid.UUID,
    days: int = 60,
    shift: timedelta = timedelta(minutes=1),
    suffix: str = "again",
) -> int:
    """The page and track calls of the world's last ``days`` again, ``shift`` later, with new
    message ids: recently active people (and their identifiers) coming back. A minute later,
    most copies are older than their person's newest event: late arrivals, each replaying its
    person. Shifted past the world's end, they are a normal day's traffic: known people, in
    time order. (A year's calls shifted forward would mostly wake dormant people.)"""
    columns = (
        Event.type,
        Event.event,
        Event.user_id,
        Event.anonymous_id,
        Event.group_id,
        Event.timestamp,
        Event.source,
        Event.payload,
        Event.message_id,
    )
    with unit_of_work() as session:
        last = session.scalar(
            select(func.max(Event.timestamp)).where(Event.workspace_id == workspace_id)
        )
        assert last is not None
        rows = session.execute(
            select(*columns)
            .where(
                Event.workspace_id == workspace_id,
                Event.type.in_(("page", "track")),
                Event.source != DERIVED_SOURCE,
                Event.timestamp > last - timedelta(days=days),
                Event.message_id.not_like("%:again"),
            )
            # In time order, as they would arrive (unordered, SQLite returns them by index:
            # every page before every track call, which makes most copies late).
            .order_by(Event.timestamp, Event.id)
        ).all()
        now = utcnow()
        copies = [
            {
                "workspace_id": workspace_id,
                "message_id": f"{row.message_id}:{suffix}"[:255],
                "type": row.type,
                "event": row.event,
                "user_id": row.user_id,
                "anonymous_id": row.anonymous_id,
                "group_id": row.group_id,
                "timestamp": row.timestamp + shift,
                "received_at": now,
                "source": row.source,
                "payload": row.payload,
            }
            for row in rows
        ]
        for start in range(0, len(copies), 5000):
            session.execute(insert(Event), copies[start : start + 5000])
    return len(copies)


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
