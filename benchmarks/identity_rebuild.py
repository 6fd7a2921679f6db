"""Identity rebuild: replay the whole processed demo world through the resolver (rules unchanged).

Budget: 1M identifiers in < 30 s. Baseline: reading the same events, extracting the same
normalised identifiers and union-finding them in memory (no rules, no writes), same run.
"""

import time

from sqlalchemy import select

from benchmarks.common import Context, Result, use_database
from benchmarks.identity_accuracy import _UnionFind
from benchmarks.world import processed_world
from leadpond.db.engine import read_only, unit_of_work
from leadpond.flow.batch import PipelineEvent
from leadpond.identity.config import load_config
from leadpond.identity.keys import event_identifiers
from leadpond.identity.rebuild import rebuild
from leadpond.ingest.models import Event

NAME = "identity_rebuild"
TARGET_IDENTIFIERS_PER_S = 1_000_000 / 30


def _floor(workspace_id: object) -> tuple[float, int]:
    columns = (
        Event.id,
        Event.workspace_id,
        Event.type,
        Event.event,
        Event.user_id,
        Event.anonymous_id,
        Event.group_id,
        Event.timestamp,
        Event.payload,
    )
    started = time.perf_counter()
    joined = _UnionFind()
    with read_only() as session:
        config = load_config(session, workspace_id)  # type: ignore[arg-type]
        rows = session.execute(
            select(*columns).where(Event.workspace_id == workspace_id).order_by(Event.id)
        )
        for row in rows:
            keys = event_identifiers(PipelineEvent(*row), config)
            for key in keys[1:]:
                joined.union(keys[0], key)
            if keys:
                joined.find(keys[0])
    return time.perf_counter() - started, len(joined.parent)


def run(ctx: Context) -> list[Result]:
    """Rebuild the processed world's identity graph; compare with the in-memory floor."""
    world = processed_world(ctx)
    use_database(world.url)
    floor_seconds, floor_identifiers = _floor(world.workspace_id)
    started = time.perf_counter()
    with unit_of_work() as session:
        report = rebuild(session, world.workspace_id)
    seconds = time.perf_counter() - started
    rate = report.identifiers / seconds
    floor_rate = floor_identifiers / floor_seconds
    return [
        Result(
            name=NAME,
            metric="identifiers rebuilt per second (full replay, commit included)",
            unit="identifiers/s",
            leadpond=round(rate),
            baseline_name="read + normalise + in-memory union-find",
            baseline=round(floor_rate),
            ratio=round(rate / floor_rate, 3),
            target=">= 33,333 identifiers/s (1M in < 30 s)",
            passed=rate >= TARGET_IDENTIFIERS_PER_S,
            details={
                "events": report.events,
                "identifiers": report.identifiers,
                "seconds": round(seconds, 2),
                "events_moved": report.events_moved,
                "people_created": report.people_created,
                "baseline_seconds": round(floor_seconds, 2),
            },
        )
    ]
