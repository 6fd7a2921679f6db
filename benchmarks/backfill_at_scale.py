"""The rules backfill at the issue's scale: 1M people / 20M events, time and peak memory.

No generator writes 20M events in a session, so this starts from a processed demo world (for
example ``leadpond demo --people 1000000``, 7.7M events) and gives its people earlier years:
every received (not derived) event of the workspace is copied ``--years`` times, one year
earlier each time, with new message ids, already resolved to the same person and marked
processed, as a pipeline that ran through those years would have left them. Then it times
``leadpond playbook backfill`` (one transaction per 2,000 people, then the segment rebuild) in
a child process under ``getrusage``, against the floor of any replay measured in the same run:
reading every event of the workspace's people in (person, time) order with its properties.

    python -m benchmarks.backfill_at_scale --database /tmp/x/demo.db --workspace Demo --years 2

Processing a 1M-person world takes longer than a session, so ``--resolve-by-truth DIR`` takes a
*loaded, unprocessed* demo world instead and resolves it with the demo's ground truth: one
person per true human (traits come from the identify calls, as in any replay), every event
assigned to its human and marked processed. That is the log a perfect resolver would have left
(no merges, no accounts linked), built in minutes; the backfill's work per event is the same.

The copies go into the database given; use a copy of a world you want to keep. At 1M people a
year's copy is slow (7.7M inserts into the log's unique message-id index on a 10 GB file: more
than 10 minutes each on this machine); ``--years 0`` replays the world as it is.
"""

import argparse
import gzip
import json
import os
import resource
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import orjson
from sqlalchemy import func, select

from benchmarks.common import use_database
from benchmarks.rules_backfill import scan_floor
from leadpond.db.engine import read_only
from leadpond.profiles.models import Person
from leadpond.rules.state import DERIVED
from leadpond.workspaces.service import find_workspace

LEADPOND = str(Path(sys.executable).parent / "leadpond")
COLUMNS = (
    "workspace_id, message_id, type, event, user_id, anonymous_id, group_id, timestamp, "
    "received_at, source, payload, person_id, origin_person_id, processed_at"
)


def add_earlier_years(path: Path, workspace_hex: str, years: int) -> int:
    """Copy the workspace's received events ``years`` times, a year earlier each; returns the
    number of events its people now have."""
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        for year in range(1, years + 1):
            started = time.perf_counter()
            connection.execute("BEGIN IMMEDIATE")
            connection.execute(
                f"""
                INSERT INTO event ({COLUMNS})
                SELECT workspace_id, message_id || ':y-{year}', type, event, user_id,
                       anonymous_id, group_id,
                       strftime('%Y-%m-%d %H:%M:%S', timestamp, '-{365 * year} days')
                           || substr(timestamp, 20),
                       received_at, source, payload, person_id, origin_person_id, processed_at
                FROM event
                WHERE workspace_id = ? AND source != ? AND processed_at IS NOT NULL
                  AND person_id IS NOT NULL AND message_id NOT LIKE '%:y-%'
                """,
                (workspace_hex, DERIVED),
            )
            connection.execute("COMMIT")
            print(f"year -{year} copied in {time.perf_counter() - started:.0f} s", flush=True)
        (total,) = connection.execute(
            "SELECT count(*) FROM event WHERE workspace_id = ? AND person_id IS NOT NULL "
            "AND source != ?",
            (workspace_hex, DERIVED),
        ).fetchone()
        return int(total)
    finally:
        connection.close()


def resolve_by_truth(path: Path, workspace_hex: str, truth_dir: Path) -> int:
    """Give every event of a loaded world its true person (see the module doc); returns the
    number of people."""
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute("PRAGMA temp_store=MEMORY")
        started = time.perf_counter()
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("CREATE TEMP TABLE truth (m TEXT PRIMARY KEY, p INTEGER) WITHOUT ROWID")
        with gzip.open(truth_dir / "truth.jsonl.gz", "rb") as lines:
            rows = ((row["m"], int(row["p"]) + 1) for row in map(orjson.loads, lines))
            connection.executemany("INSERT OR IGNORE INTO truth VALUES (?, ?)", rows)
        now = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")
        connection.execute(
            """
            UPDATE event SET person_id = t.p, origin_person_id = t.p, processed_at = ?
            FROM truth t WHERE t.m = event.message_id AND event.workspace_id = ?
            """,
            (now, workspace_hex),
        )
        connection.execute(
            """
            INSERT INTO person (id, workspace_id, traits, trait_times, event_count,
                                first_seen_at, last_seen_at, created_at, updated_at)
            SELECT person_id, workspace_id, '{}', '{}', count(*), min(timestamp),
                   max(timestamp), ?, ?
            FROM event WHERE workspace_id = ? AND person_id IS NOT NULL
            GROUP BY person_id
            """,
            (now, now, workspace_hex),
        )
        (people,) = connection.execute(
            "SELECT count(*) FROM person WHERE workspace_id = ?", (workspace_hex,)
        ).fetchone()
        connection.execute("COMMIT")
        print(f"resolved by truth in {time.perf_counter() - started:.0f} s", flush=True)
        return int(people)
    finally:
        connection.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", type=Path, required=True, help="a processed SQLite world")
    parser.add_argument("--workspace", required=True)
    parser.add_argument("--years", type=int, default=2, help="earlier years to add (0: none)")
    parser.add_argument("--skip-floor", action="store_true")
    parser.add_argument(
        "--resolve-by-truth",
        type=Path,
        help="the ground truth directory of a loaded, unprocessed demo world (see above)",
    )
    args = parser.parse_args(argv)
    url = f"sqlite:///{args.database.resolve()}"
    use_database(url)
    with read_only() as session:
        workspace = find_workspace(session, args.workspace)
    if args.resolve_by_truth is not None:
        resolve_by_truth(args.database, workspace.id.hex, args.resolve_by_truth)
    with read_only() as session:
        people = session.scalar(
            select(func.count()).where(
                Person.workspace_id == workspace.id, Person.merged_into_id.is_(None)
            )
        )
    events = add_earlier_years(args.database, workspace.id.hex, args.years)
    print(f"{events:,} events of {people:,} people", flush=True)
    floor_events, floor_seconds = (0, 0.0) if args.skip_floor else scan_floor(workspace.id)
    started = time.perf_counter()
    env = {**os.environ, "LEADPOND_DATABASE_URL": url}
    subprocess.run(
        [LEADPOND, "playbook", "backfill", "--workspace", str(workspace.id)], check=True, env=env
    )
    seconds = time.perf_counter() - started
    child_rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    result = {
        "people": people,
        "events": events,
        "backfill_seconds": round(seconds, 1),
        "backfill_events_per_s": round(events / seconds),
        "backfill_peak_rss_mb": round(child_rss_mb, 1),
        "floor_events": floor_events,
        "floor_seconds": round(floor_seconds, 1),
        "ratio_to_floor": round(floor_seconds / seconds, 3) if floor_seconds else None,
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
