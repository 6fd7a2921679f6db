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

The copies go into the database given; use a copy of a world you want to keep.
"""

import argparse
import json
import os
import resource
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from benchmarks.common import use_database
from leadpond.db.engine import read_only
from leadpond.ingest.models import Event
from leadpond.profiles.models import Person
from leadpond.rules.state import DERIVED, properties_column
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


def scan_floor(workspace_id: Any) -> tuple[int, float]:
    """Read every event of the workspace's people in replay order (nothing else)."""
    started = time.perf_counter()
    events = 0
    with read_only() as session:
        rows = session.execute(
            select(
                Event.id,
                Event.person_id,
                Event.type,
                Event.event,
                Event.timestamp,
                properties_column(session),
            )
            .where(
                Event.workspace_id == workspace_id,
                Event.person_id.is_not(None),
                Event.source != DERIVED,
            )
            .order_by(Event.person_id, Event.timestamp, Event.id)
            .execution_options(yield_per=20_000)
        )
        for _ in rows:
            events += 1
    return events, time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", type=Path, required=True, help="a processed SQLite world")
    parser.add_argument("--workspace", required=True)
    parser.add_argument("--years", type=int, default=2, help="earlier years to add (0: none)")
    parser.add_argument("--skip-floor", action="store_true")
    args = parser.parse_args(argv)
    url = f"sqlite:///{args.database.resolve()}"
    use_database(url)
    with read_only() as session:
        workspace = find_workspace(session, args.workspace)
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
