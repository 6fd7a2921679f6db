"""Same events, same profile: process one demo world several ways and count the people who differ.

Each way gets a database of its own, the same messages (in the demo's arrival order, or shuffled
within the lateness window) and a different processing: batch sizes, the `leadpond worker` loop
instead of `pipeline drain`, a rules backfill over the processed world, two workers at once
(PostgreSQL). Every way is compared with the first through ``pipeline.fingerprint``: people
matched by the messages they hold, and everything derived for them (identifiers, traits, tags,
scores and their ledger, stage and history, derived events, segments, accounts).

    python -m benchmarks.determinism --people 2000
    python -m benchmarks.determinism --people 2000 --backend postgresql --ways drain-2500,workers-2

The figure that matters is the last column: 0 people differ.
"""

import argparse
import json
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from benchmarks.common import Context, scratch_database, use_database
from leadpond.db.engine import read_only, reset_engines, unit_of_work
from leadpond.demo.loaders import BulkLoader
from leadpond.demo.world import WorldSpec, iter_blocks
from leadpond.kit.clock import parse_timestamp, utcnow
from leadpond.pipeline import worker
from leadpond.pipeline.fingerprint import Snapshot, differing, digest, snapshot
from leadpond.playbooks.service import replay_history, start_workspace

# Arrival may lag event time by up to this much (the pipeline's lateness window).
LATENESS = timedelta(hours=1)
ALL_WAYS = (
    "drain-1",
    "drain-2500",
    "drain-20000",
    "backfill",
    "worker-200",
    "worker-2500",
    "shuffled-100",
)


@dataclass
class Way:
    name: str
    seconds: float = 0.0
    people: int = 0
    digest: str = ""
    differ: int | None = None
    parts: dict[str, int] = field(default_factory=dict)


def world_messages(people: int, seed: int, end: date) -> list[dict[str, Any]]:
    """The demo world's messages, in the order the demo loader sends them."""
    spec = WorldSpec(seed, people, end)
    return [message for block in iter_blocks(spec) for message in block.messages]


def shuffled(messages: list[dict[str, Any]], seed: int) -> list[dict[str, Any]]:
    """The same messages arriving in time order, each delayed by up to the lateness window."""
    rng = random.Random(seed)
    window = LATENESS.total_seconds()

    def arrival(message: dict[str, Any]) -> float:
        at = parse_timestamp(message.get("timestamp"))
        assert at is not None
        return at.timestamp() + rng.uniform(0, window)

    return sorted(messages, key=arrival)


def load(messages: list[dict[str, Any]]) -> uuid.UUID:
    with unit_of_work() as session:
        created = start_workspace(session, f"det-{uuid.uuid4().hex[:8]}")
    BulkLoader(created.workspace_id).load(messages)
    return created.workspace_id


def run_workers(workspace_id: uuid.UUID, batch_size: int, count: int) -> None:
    """`leadpond worker` processes (``count`` loops at once) until the backlog is gone and they
    have swept once after it."""
    workers = [worker.Worker(batch_size=batch_size, time_check_s=1.0) for _ in range(count)]
    threads = [w.start_thread() for w in workers]
    drained = None
    try:
        while True:
            time.sleep(0.2)
            if drained is None and worker.status(workspace_id).pending_events == 0:
                drained = utcnow()
            checks = [w.time_checked_at for w in workers]
            if drained is not None and any(c is not None and c > drained for c in checks):
                break
    finally:
        for w in workers:
            w.stop()
        for thread in threads:
            thread.join()


def process(way: str, workspace_id: uuid.UUID) -> None:
    kind, _, size = way.partition("-")
    if kind in ("drain", "shuffled"):
        worker.drain(batch_size=int(size))
    elif kind == "backfill":
        worker.drain(batch_size=2500)
        replay_history(workspace_id)
    elif kind == "worker":
        run_workers(workspace_id, int(size), 1)
    elif kind == "workers":
        run_workers(workspace_id, 500, int(size))
    else:
        raise SystemExit(f"unknown way: {way}")


@contextmanager
def database(backend: str, scratch: Path, name: str) -> Iterator[str]:
    with scratch_database(Context("determinism", backend, scratch), name) as url:
        use_database(url)
        try:
            yield url
        finally:
            reset_engines()


def run_way(
    way: str, messages: list[dict[str, Any]], backend: str, scratch: Path, seed: int
) -> tuple[Way, Snapshot]:
    result = Way(way)
    arriving = shuffled(messages, seed) if way.startswith("shuffled") else messages
    with database(backend, scratch, way.replace("-", "_")):
        workspace_id = load(arriving)
        started = time.perf_counter()
        process(way, workspace_id)
        result.seconds = round(time.perf_counter() - started, 2)
        with read_only() as session:
            found = snapshot(session, workspace_id)
    result.people, result.digest = len(found), digest(found)
    return result, found


def main(argv: list[str] | None = None, out: Callable[[str], None] = print) -> list[Way]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--end", type=date.fromisoformat, default=date(2026, 12, 1))
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--ways", default=",".join(ALL_WAYS), help="comma-separated")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    ways = [w.strip() for w in args.ways.split(",") if w.strip()]
    messages = world_messages(args.people, args.seed, args.end)
    out(f"world: {args.people} people, seed {args.seed}, {len(messages)} messages, {args.backend}")
    results: list[Way] = []
    reference: Snapshot | None = None
    with scratch_root() as scratch:
        for way in ways:
            result, found = run_way(way, messages, args.backend, scratch, args.seed)
            if reference is None:
                reference, result.differ = found, 0
            else:
                diff = differing(reference, found)
                result.differ, result.parts = diff.people, diff.parts
            results.append(result)
            out(
                f"{way:<14} {result.seconds:>8.1f} s  {result.people:>6} people  "
                f"{result.digest}  differ from {ways[0]}: {result.differ}"
                + (f"  {result.parts}" if result.parts else "")
            )
    worst = max((r.differ or 0) for r in results)
    out(f"people who differ across {len(results)} ways: {worst}")
    if args.json:
        args.json.write_text(json.dumps([r.__dict__ for r in results], indent=2))
    return results


@contextmanager
def scratch_root() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="leadpond-determinism-") as path:
        yield Path(path)


if __name__ == "__main__":
    results = main()
    sys.exit(1 if any(r.differ for r in results) else 0)
