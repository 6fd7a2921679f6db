"""Segments: build a behavioural segment vs the best hand-written SQL, preview, live updates.

A generated world (``small``: 20k people / 400k events; ``1m``: 1M people / 20M events; or
``--people N`` when run alone) is written straight into the tables. The question, "bank people
with the need:evaluation tag who viewed graph-database content at least twice in 90 days, at a
bank account", is answered by two hand-written SQL statements (events-first and people-first);
the faster one is the baseline. leadpond's full build (first build, writing every entry with its
history row and timeline event, and an up-to-date rebuild) is timed on the same database in the
same run. Runnable alone: ``python -m benchmarks.segments [--backend ...] [--people N]``.
"""

import argparse
import json
import random
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.orm import Session

from benchmarks.common import Context, Result, new_workspace, scratch_database
from leadpond.accounts.models import Account, PersonAccount
from leadpond.conditions.parse import parse_condition
from leadpond.db.engine import is_postgres, read_only, unit_of_work
from leadpond.ingest.models import Event
from leadpond.kit.clock import utcnow
from leadpond.profiles.models import Person
from leadpond.rules.models import PersonTag
from leadpond.segments.build import preview, rebuild
from leadpond.segments.definitions import dump_condition, load_segments
from leadpond.segments.incremental import evaluate_people
from leadpond.segments.models import Segment
from leadpond.segments.schemas import SegmentCreate
from leadpond.segments.service import create_segment

NAME = "segments"
INDUSTRIES = ["bank", "insurance", "retail", "manufacturing"]
TOPICS = ["graph-db", "ai", "cloud", "security"]
QUESTION = """
all:
  - {event: Content Viewed, where: {topic: graph-db}, count: {gte: 2}, within: 90d}
  - {tag: "need:evaluation"}
  - {trait: industry, eq: bank}
  - {account: {industry: bank}}
"""
PREVIEW = "{all: [{trait: industry, eq: insurance}, {event: Page Viewed, within: 30d}]}"
OTHER_SEGMENTS = {
    "recent-visitors": "{event: Page Viewed, within: 7d}",
    "evaluating-banks": "{all: [{tag: 'need:evaluation'}, {trait: industry, eq: bank}]}",
    "security-readers": "{event: Content Viewed, where: {topic: security}}",
}


def generate(session: Session, workspace_id: uuid.UUID, people: int, seed: int = 7) -> int:
    """People (traits, tags, one account each) and 20 events per person on average."""
    rng = random.Random(seed)
    now = utcnow()
    accounts = max(1, people // 20)
    account_rows = [
        {
            "workspace_id": workspace_id,
            "name": f"company {a}",
            "industry": INDUSTRIES[a % len(INDUSTRIES)],
            "traits": {},
        }
        for a in range(accounts)
    ]
    account_ids = list(session.scalars(insert(Account).returning(Account.id), account_rows))
    events = 0
    chunk = 10_000
    for start in range(0, people, chunk):
        size = min(chunk, people - start)
        homes = [rng.randrange(accounts) for _ in range(size)]
        person_rows = [
            {
                "workspace_id": workspace_id,
                "traits": {
                    "name": f"person {start + i}",
                    "industry": INDUSTRIES[home % len(INDUSTRIES)],
                    "title": rng.choice(["CIO", "engineer", "manager"]),
                },
                "trait_times": {},
                "event_count": 0,
            }
            for i, home in enumerate(homes)
        ]
        ids = list(session.scalars(insert(Person).returning(Person.id), person_rows))
        session.execute(
            insert(PersonAccount),
            [
                {
                    "workspace_id": workspace_id,
                    "person_id": pid,
                    "account_id": account_ids[home],
                    "source": "bench",
                    "first_seen_at": now,
                    "last_seen_at": now,
                    "is_primary": True,
                }
                for pid, home in zip(ids, homes, strict=True)
            ],
        )
        tags = [
            {
                "workspace_id": workspace_id,
                "person_id": pid,
                "tag": "need:evaluation",
                "source": "manual",
                "actor": "bench",
                "added_at": now,
            }
            for pid in ids
            if rng.random() < 0.3
        ]
        if tags:
            session.execute(insert(PersonTag), tags)
        rows: list[dict[str, Any]] = []
        for pid in ids:
            for _ in range(rng.randrange(41)):
                at = now - timedelta(seconds=rng.randrange(365 * 86400))
                kind = rng.random()
                if kind < 0.4:
                    name, kind_name, props = (
                        "Content Viewed",
                        "track",
                        {"topic": rng.choice(TOPICS)},
                    )
                elif kind < 0.8:
                    name, kind_name, props = None, "page", {"path": "/pricing"}
                else:
                    name, kind_name, props = "Email Opened", "track", {}
                events += 1
                rows.append(
                    {
                        "workspace_id": workspace_id,
                        "message_id": f"b{events}",
                        "type": kind_name,
                        "event": name,
                        "timestamp": at,
                        "received_at": at,
                        "source": "bench",
                        "payload": {"properties": props},
                        "person_id": pid,
                        "origin_person_id": pid,
                        "processed_at": at,
                    }
                )
        session.execute(insert(Event), rows)
    return events


def hand_written(pg: bool) -> dict[str, str]:
    """The two best plans we could write by hand for the question."""
    topic = (
        "e.payload->'properties'->>'topic'"
        if pg
        else "json_extract(e.payload, '$.properties.topic')"
    )
    industry = "p.traits->>'industry'" if pg else "json_extract(p.traits, '$.industry')"
    window = "e.timestamp > :since AND e.timestamp <= :now"
    events_first = f"""
        SELECT e.person_id FROM event e
        JOIN person p ON p.id = e.person_id
        WHERE e.workspace_id = :ws AND e.type = 'track' AND e.event = 'Content Viewed'
          AND {window} AND {topic} = 'graph-db'
          AND p.merged_into_id IS NULL AND {industry} = 'bank'
          AND e.person_id IN (SELECT person_id FROM person_tag
                              WHERE workspace_id = :ws AND tag = 'need:evaluation')
          AND e.person_id IN (SELECT pa.person_id FROM person_account pa
                              JOIN account a ON a.id = pa.account_id
                              WHERE pa.workspace_id = :ws AND a.industry = 'bank')
        GROUP BY e.person_id HAVING count(*) >= 2"""
    people_first = f"""
        SELECT p.id FROM person p
        WHERE p.workspace_id = :ws AND p.merged_into_id IS NULL AND {industry} = 'bank'
          AND p.id IN (SELECT person_id FROM person_tag
                       WHERE workspace_id = :ws AND tag = 'need:evaluation')
          AND p.id IN (SELECT pa.person_id FROM person_account pa
                       JOIN account a ON a.id = pa.account_id
                       WHERE pa.workspace_id = :ws AND a.industry = 'bank')
          AND (SELECT count(*) FROM event e
               WHERE e.person_id = p.id AND e.type = 'track' AND e.event = 'Content Viewed'
                 AND {window} AND {topic} = 'graph-db') >= 2"""
    return {"events_first": events_first, "people_first": people_first}


def _timed(fn: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - started


def measure(url: str, workspace_id: uuid.UUID) -> dict[str, Any]:
    """Every number of the benchmark on a loaded database."""
    numbers: dict[str, Any] = {}
    with read_only() as session:
        now = utcnow()
        params = {
            "ws": workspace_id.hex if not is_postgres(session) else workspace_id,
            "since": now - timedelta(days=90),
            "now": now,
        }
        answers: dict[str, set[int]] = {}
        for name, sql in hand_written(is_postgres(session)).items():
            ids, seconds = _timed(lambda sql=sql: set(session.scalars(text(sql), params)))
            answers[name], numbers[f"sql_{name}_s"] = ids, round(seconds, 3)
    with unit_of_work() as session:
        segment = Segment(
            workspace_id=workspace_id,
            key="bench-empty",
            kind="dynamic",
            level="person",
            condition_source=QUESTION,
            condition=dump_condition(parse_condition(QUESTION)),
            origin="api",
            member_count=0,
        )
        session.add(segment)
        session.flush()
        loaded = load_segments(session, workspace_id)
        first, first_s = _timed(lambda: rebuild(session, loaded, segment, utcnow()))
    with unit_of_work() as session:
        loaded = load_segments(session, workspace_id)
        segment = next(s for s in loaded.segments if s.key == "bench-empty")
        _, again_s = _timed(lambda: rebuild(session, loaded, segment, utcnow()))
        members = set(
            session.scalars(
                text("SELECT person_id FROM segment_member WHERE segment_id = :s"),
                {"s": segment.id},
            )
        )
    numbers.update(
        first_build_s=round(first_s, 3),
        rebuild_s=round(again_s, 3),
        members=first.members,
        agrees_with_sql=all(members == ids for ids in answers.values()),
    )
    with read_only() as session:
        loaded = load_segments(session, workspace_id)
        (count, _), preview_s = _timed(
            lambda: preview(session, loaded, parse_condition(PREVIEW), "person", None, utcnow())
        )
    numbers.update(preview_s=round(preview_s, 3), preview_count=count)
    with unit_of_work() as session:
        for key, condition in OTHER_SEGMENTS.items():
            create_segment(session, workspace_id, SegmentCreate(key=key, condition=condition))
    with unit_of_work() as session:
        loaded = load_segments(session, workspace_id)
        sample = list(session.scalars(text("SELECT id FROM person ORDER BY id LIMIT 2000")))
        started = time.perf_counter()
        for start in range(0, len(sample), 500):
            evaluate_people(session, loaded, sample[start : start + 500], utcnow(), "bench")
        per_change = (time.perf_counter() - started) / max(1, len(sample))
    numbers.update(
        incremental_us_per_change=round(per_change * 1e6, 1),
        incremental_segments=len(loaded.dynamic()),
    )
    return numbers


def run(ctx: Context, people: int | None = None) -> list[Result]:
    """Load the generated world and measure build, preview and incremental cost."""
    size = people or (1_000_000 if ctx.large else 20_000)
    url = ctx.resources.enter_context(scratch_database(ctx, NAME))
    workspace = new_workspace(url, NAME)
    with unit_of_work() as session:
        events, load_s = _timed(lambda: generate(session, workspace.workspace_id, size))
    with unit_of_work() as session:
        session.execute(text("ANALYZE"))
    numbers = measure(url, workspace.workspace_id)
    baseline = min(numbers["sql_events_first_s"], numbers["sql_people_first_s"])
    common = {"people": size, "events": events, "load_s": round(load_s, 1), **numbers}
    return [
        Result(
            name=f"{NAME}_build",
            metric="behavioural segment full build (first build, every entry recorded)",
            unit="s",
            leadpond=numbers["first_build_s"],
            baseline_name="best hand-written SQL, ids fetched",
            baseline=baseline,
            ratio=round(baseline / numbers["first_build_s"], 3),
            target="<= 1.5x the hand-written SQL (ratio >= 0.667)",
            passed=numbers["first_build_s"] <= 1.5 * baseline and numbers["agrees_with_sql"],
            details=common,
        ),
        Result(
            name=f"{NAME}_rebuild",
            metric="behavioural segment rebuild when up to date",
            unit="s",
            leadpond=numbers["rebuild_s"],
            baseline_name="best hand-written SQL, ids fetched",
            baseline=baseline,
            ratio=round(baseline / numbers["rebuild_s"], 3),
            target="<= 1.5x the hand-written SQL (ratio >= 0.667)",
            passed=numbers["rebuild_s"] <= 1.5 * baseline,
        ),
        Result(
            name=f"{NAME}_preview",
            metric="preview of an unsaved condition (count + 20 people)",
            unit="s",
            leadpond=numbers["preview_s"],
            baseline_name="none",
            baseline=None,
            ratio=None,
            target="< 2 s",
            passed=numbers["preview_s"] < 2.0,
        ),
        Result(
            name=f"{NAME}_incremental",
            metric="live re-evaluation per profile change, "
            f"{numbers['incremental_segments']} segments",
            unit="µs/change",
            leadpond=numbers["incremental_us_per_change"],
            baseline_name="none",
            baseline=None,
            ratio=None,
            target="reported",
            passed=None,
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    """Run this benchmark alone and print its results as JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--size", choices=("small", "1m"), default="small")
    parser.add_argument("--people", type=int, default=None)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="leadpond-bench-") as scratch:
        ctx = Context(size=args.size, backend=args.backend, scratch=Path(scratch))
        with ctx.resources:
            results = run(ctx, args.people)
    print(json.dumps([r.to_dict() for r in results], indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
