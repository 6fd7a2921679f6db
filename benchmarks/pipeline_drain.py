"""Pipeline: events per second through every stage (``drain()``) on the demo mix.

Baseline: the floor of any batch worker over the same events in the same database: claim a
batch of pending ids, read and parse their payloads, mark them processed, commit; on a copy of
the event table, so leadpond's own run starts from the same state.
"""

import time
import uuid

import orjson
from sqlalchemy import text

from benchmarks.common import Context, Result
from benchmarks.world import BaselineHook, processed_world
from leadpond.config import get_settings
from leadpond.db.engine import get_engine, is_postgres

NAME = "pipeline_drain"
TARGET_EVENTS_PER_S = 10_000


class ClaimReadMark(BaselineHook):
    """Claim, read, parse and mark every event of a copy of the log, a batch per transaction."""

    def measure(self, url: str, workspace_id: uuid.UUID) -> dict[str, float]:
        engine = get_engine(url)
        postgres = is_postgres(engine)
        batch = get_settings().pipeline_batch_size
        with engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS bench_event"))
            connection.execute(
                text(
                    "CREATE TABLE bench_event AS SELECT id, payload, processed_at "
                    "FROM event WHERE workspace_id = :w"
                ),
                {"w": workspace_id.hex if not postgres else workspace_id},
            )
            connection.execute(text("CREATE UNIQUE INDEX ix_bench_event_id ON bench_event (id)"))
            connection.execute(
                text(
                    "CREATE INDEX ix_bench_event_pending ON bench_event (id) "
                    "WHERE processed_at IS NULL"
                )
            )
        lock = " FOR UPDATE SKIP LOCKED" if postgres else ""
        claim = text(
            "SELECT id, payload FROM bench_event WHERE processed_at IS NULL "
            f"ORDER BY id LIMIT {batch}{lock}"
        )
        mark = text("UPDATE bench_event SET processed_at = CURRENT_TIMESTAMP WHERE id = :id")
        events = 0
        started = time.perf_counter()
        while True:
            with engine.begin() as connection:
                rows = connection.execute(claim).all()
                if not rows:
                    break
                for _, payload in rows:
                    if isinstance(payload, str | bytes):
                        orjson.loads(payload)
                connection.execute(mark, [{"id": row[0]} for row in rows])
                events += len(rows)
        seconds = time.perf_counter() - started
        with engine.begin() as connection:
            connection.execute(text("DROP TABLE bench_event"))
        return {"events": events, "seconds": seconds}


def run(ctx: Context) -> list[Result]:
    """Drain the loaded demo world; compare with the claim-read-mark floor."""
    world = processed_world(ctx, before_drain=ClaimReadMark())
    rate = world.events / world.drain_seconds
    floor = ctx.cache.get("pipeline_baseline")
    floor_rate = floor["events"] / floor["seconds"] if floor else None
    return [
        Result(
            name=NAME,
            metric="events processed per second (identity, accounts, profiles)",
            unit="events/s",
            leadpond=round(rate),
            baseline_name="claim + read + mark, no stages",
            baseline=round(floor_rate) if floor_rate else None,
            ratio=round(rate / floor_rate, 3) if floor_rate else None,
            target=f">= {TARGET_EVENTS_PER_S:,} events/s",
            passed=rate >= TARGET_EVENTS_PER_S,
            details={
                "people": world.people,
                "events": world.events,
                "drain_seconds": round(world.drain_seconds, 2),
                "bulk_load_seconds": round(world.load_seconds, 2),
                "bulk_load_events_per_s": round(world.events / world.load_seconds),
                "batch_size": get_settings().pipeline_batch_size,
            },
        )
    ]
