"""Ingest: ``/v1/batch`` over real HTTP on loopback versus a bare executemany of the same rows.

leadpond side: a ``leadpond serve --no-worker`` process, several client threads posting prebuilt
batch bodies over keep-alive connections; a 200 means the events are committed. Baseline: the
rows those requests become, inserted with the driver's ``executemany`` into an identical
``event`` table, one transaction per batch (the same durability), in the same run.
"""

import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx
import orjson
import psycopg
from sqlalchemy.engine import make_url

from benchmarks.common import (
    Context,
    Result,
    demo_messages,
    live_server,
    new_workspace,
    scratch_database,
)
from leadpond.demo.loaders import batch_bodies
from leadpond.ingest.spec import normalise
from leadpond.kit.clock import utcnow

NAME = "ingest_http"
TARGET_EVENTS_PER_S = 30_000
TARGET_RATIO = 0.20
CLIENT_THREADS = 4
_COLUMNS = (
    "workspace_id, message_id, type, event, user_id, anonymous_id, group_id, "
    "timestamp, received_at, source, payload"
)


def compact(message: dict[str, Any]) -> dict[str, Any]:
    """A small server-side style message (ids, name, time, two properties): 2,500 fit a batch."""
    small = {k: message[k] for k in ("type", "messageId", "timestamp") if k in message}
    small["anonymousId"] = message.get("anonymousId") or message.get("userId")
    if message["type"] == "track":
        small["event"] = message["event"]
    elif message["type"] == "page":
        small["name"] = message["name"]
    else:
        small["type"], small["event"] = "track", "Form Submitted"
    properties = message.get("properties") or {}
    small["properties"] = {k: v for k, v in list(properties.items())[:1]}
    return small


def _post_all(base: str, write_key: str, bodies: list[bytes]) -> tuple[float, int]:
    """Post every body from CLIENT_THREADS threads; (seconds, events accepted)."""
    auth = httpx.BasicAuth(write_key, "")
    position = iter(range(len(bodies)))
    lock = threading.Lock()
    accepted = [0] * CLIENT_THREADS
    failures: list[str] = []
    barrier = threading.Barrier(CLIENT_THREADS + 1)

    def client(slot: int) -> None:
        with httpx.Client(base_url=base, auth=auth, timeout=120.0) as http:
            http.get("/healthz")
            barrier.wait()
            while True:
                with lock:
                    index = next(position, None)
                if index is None:
                    return
                response = http.post(
                    "/v1/batch", content=bodies[index], headers={"Content-Type": "application/json"}
                )
                if response.status_code != 200:
                    failures.append(f"{response.status_code} {response.text[:200]}")
                    return
                accepted[slot] += response.json()["accepted"]

    threads = [threading.Thread(target=client, args=(slot,)) for slot in range(CLIENT_THREADS)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if failures:
        raise RuntimeError(f"ingest requests failed: {failures[:3]}")
    return elapsed, sum(accepted)


def _rows(messages: list[dict[str, Any]], workspace_id: uuid.UUID) -> list[tuple[Any, ...]]:
    """The event rows the API writes for these messages (normal form, serialised payload)."""
    received = utcnow()
    rows = []
    for message in messages:
        m = normalise(message, received_at=received)
        rows.append(
            (
                workspace_id,
                m.message_id,
                m.type,
                m.event,
                m.user_id,
                m.anonymous_id,
                m.group_id,
                m.timestamp,
                received,
                "api",
                orjson.dumps(m.payload).decode(),
            )
        )
    return rows


def _sqlite_baseline(
    url: str, rows: list[tuple[Any, ...]], batch: int, synchronous: str = "FULL"
) -> float:
    import sqlite3

    path = make_url(url).database
    connection = sqlite3.connect(str(path), isolation_level=None)
    for pragma in (
        "journal_mode=WAL",
        f"synchronous={synchronous}",
        "foreign_keys=ON",
        "temp_store=MEMORY",
        "cache_size=-65536",
    ):
        connection.execute(f"PRAGMA {pragma}")

    def stamp(moment: datetime) -> str:
        return moment.strftime("%Y-%m-%d %H:%M:%S.%f")

    stored = [(r[0].hex, *r[1:7], stamp(r[7]), stamp(r[8]), *r[9:]) for r in rows]
    sql = (
        f"INSERT INTO event ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?) "
        "ON CONFLICT (workspace_id, message_id) DO NOTHING"
    )
    started = time.perf_counter()
    for start in range(0, len(stored), batch):
        connection.execute("BEGIN IMMEDIATE")
        connection.executemany(sql, stored[start : start + batch])
        connection.execute("COMMIT")
    elapsed = time.perf_counter() - started
    connection.close()
    return elapsed


def _postgres_baseline(
    url: str, rows: list[tuple[Any, ...]], batch: int, synchronous: str = "FULL"
) -> float:
    dsn = url.replace("postgresql+psycopg://", "postgresql://", 1)
    sql = (
        f"INSERT INTO event ({_COLUMNS}) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s::jsonb) "
        "ON CONFLICT (workspace_id, message_id) DO NOTHING"
    )
    with psycopg.connect(dsn) as connection:
        started = time.perf_counter()
        for start in range(0, len(rows), batch):
            with connection.transaction(), connection.cursor() as cursor:
                cursor.executemany(sql, rows[start : start + batch])
        return time.perf_counter() - started


def _measure(
    ctx: Context,
    label: str,
    messages: list[dict[str, Any]],
    details: dict[str, Any],
    synchronous: str = "FULL",
) -> Result:
    bodies_and_counts = list(batch_bodies(messages))
    bodies = [body for body, _ in bodies_and_counts]
    per_batch = len(messages) / len(bodies)
    with scratch_database(ctx, f"ingest_{label}") as url:
        workspace = new_workspace(url)
        with live_server(url, {"LEADPOND_SQLITE_SYNCHRONOUS": synchronous}) as base:
            seconds, accepted = _post_all(base, workspace.write_key, bodies)
    if accepted != len(messages):
        raise RuntimeError(f"{accepted} of {len(messages)} events accepted")
    with scratch_database(ctx, f"ingest_{label}_bare") as url:
        bare = new_workspace(url)
        rows = _rows(messages, bare.workspace_id)
        baseline: Callable[[str, list[tuple[Any, ...]], int, str], float]
        baseline = _sqlite_baseline if ctx.backend == "sqlite" else _postgres_baseline
        bare_seconds = baseline(url, rows, round(per_batch), synchronous)
    rate, bare_rate = len(messages) / seconds, len(messages) / bare_seconds
    ratio = rate / bare_rate
    return Result(
        name=f"{NAME}_{label}",
        metric="events accepted durably per second",
        unit="events/s",
        leadpond=round(rate),
        baseline_name=f"bare {ctx.backend} executemany",
        baseline=round(bare_rate),
        ratio=round(ratio, 3),
        target=f">= {TARGET_EVENTS_PER_S:,} events/s and >= {TARGET_RATIO:.0%} of baseline",
        passed=rate >= TARGET_EVENTS_PER_S and ratio >= TARGET_RATIO,
        details={
            **details,
            "events": len(messages),
            "requests": len(bodies),
            "events_per_request": round(per_batch),
            "mean_event_bytes": round(sum(len(b) for b in bodies) / len(messages)),
            "client_threads": CLIENT_THREADS,
            "seconds": round(seconds, 2),
            "baseline_seconds": round(bare_seconds, 2),
        },
    )


def run(ctx: Context) -> list[Result]:
    """Realistic demo messages (batches as full as 500 KB allows); compact 2,500-event batches."""
    count = 1_000_000 if ctx.large else 100_000
    messages, spec = demo_messages(count)
    realistic = _measure(ctx, "demo", messages, {"corpus": f"demo seed {spec.seed}"})
    small = [compact(m) for m in messages]
    results = [realistic, _measure(ctx, "compact", small, {"corpus": "compact demo messages"})]
    if ctx.backend == "sqlite":
        # Durable against a killed process but not a power cut: the setting's other choice.
        details = {"corpus": "compact demo messages", "sqlite_synchronous": "NORMAL"}
        results.append(_measure(ctx, "compact_sync_normal", small, details, "NORMAL"))
    return results
