"""Journeys: event → first action latency under steady traffic.

A real ``leadpond serve`` takes ``Trial Requested`` events over HTTP at a steady rate (each
from a new person), and a real worker processes them; the journey's first step queues an email
in the outbox in the pipeline batch that processed the event. The
latency of one event is the outbox row's ``created_at`` minus the event's ``received_at`` (the
moment the API accepted it): what a marketer waits between the form and the message leaving
for the deliverer. Reported: p50, p95, max.

Baseline (same run, same traffic, another workspace without the journey): the pipeline's own
latency, event accepted → event processed (``processed_at``). The journey's first action is in
the same transaction as the rest of the batch, so the difference is what the journey stage
adds.

Two shapes, each in a database of its own: a ``leadpond worker`` process beside
``serve --no-worker`` (the scale-out shape; on SQLite it sees new events at its next poll, on
PostgreSQL a NOTIFY wakes it), and the embedded default, ``leadpond serve`` with its worker in
the same process (ingest's commit wakes it). The traffic starts once the worker is up and has
processed a warm-up event; how long that took is reported beside the numbers.
"""

import json
import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import httpx
from sqlalchemy import select

from benchmarks.common import (
    LEADPOND,
    Context,
    Result,
    live_server,
    new_workspace,
    scratch_database,
)
from leadpond.channels.models import Message
from leadpond.channels.schemas import TemplateCreate
from leadpond.channels.service import create_template
from leadpond.db.engine import read_only, unit_of_work
from leadpond.ingest.models import Event
from leadpond.kit import yaml
from leadpond.kit.scope import owned
from leadpond.playbooks.service import apply_playbook, default_source

NAME = "journeys_latency"
TARGET_P95_S = 2.0
WARM_UP = "Benchmark Warm-up"  # not a trigger, and not counted
JOURNEY = {
    "key": "trial-mail",
    "trigger": {"event": "Trial Requested"},
    "steps": [{"id": "mail", "send": {"channel": "email", "template": "trial-mail"}}],
}


def _journey(workspace_id: uuid.UUID) -> None:
    with unit_of_work() as session:
        create_template(
            session,
            workspace_id,
            TemplateCreate(
                key="trial-mail",
                channel="email",
                subject="欢迎试用",
                body='<p>{{ person.traits.name }} <a href="{{ unsubscribe_url }}">退订</a></p>',
            ),
        )
        document = yaml.load(default_source())
        document["journeys"] = [JOURNEY]
        apply_playbook(
            session, workspace_id, json.dumps(document, ensure_ascii=False), actor="bench"
        )


def _steady(base: str, keys: list[str], rate: float, seconds: float) -> int:
    """POST one event per tick to each workspace, ``rate`` ticks a second; returns the count."""
    sent = 0
    start = time.monotonic()
    with httpx.Client(base_url=base, timeout=30.0) as http:
        while (elapsed := time.monotonic() - start) < seconds:
            for key in keys:
                user = f"lead-{sent}-{uuid.uuid4().hex[:6]}"
                body = {"event": "Trial Requested", "userId": user, "properties": {"plan": "pro"}}
                answer = http.post("/v1/track", json=body, auth=(key, ""))
                assert answer.status_code == 200, answer.text
            sent += 1
            pause = sent / rate - elapsed
            if pause > 0:
                time.sleep(pause)
    return sent


def _wait_processed(workspace_ids: list[uuid.UUID], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with read_only() as session:
            pending = session.scalar(
                select(Event.id)
                .where(Event.workspace_id.in_(workspace_ids), Event.processed_at.is_(None))
                .limit(1)
            )
        if pending is None:
            return
        time.sleep(0.5)
    raise RuntimeError("the worker did not process the traffic in time")


def _quantiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    return {"p50": at(0.5), "p95": at(0.95), "max": ordered[-1], "n": len(ordered)}


def _journey_latencies(workspace_id: uuid.UUID) -> list[float]:
    with read_only() as session:
        rows = session.execute(
            select(Event.received_at, Message.created_at)
            .join(Message, Message.person_id == Event.person_id)
            .where(owned(Event, workspace_id), Event.event == "Trial Requested")
        )
        return [(made - received).total_seconds() for received, made in rows]


def _pipeline_latencies(workspace_id: uuid.UUID) -> list[float]:
    with read_only() as session:
        rows = session.execute(
            select(Event.received_at, Event.processed_at).where(
                owned(Event, workspace_id), Event.event == "Trial Requested"
            )
        )
        return [(done - received).total_seconds() for received, done in rows if done]


@contextmanager
def _worker_process(url: str) -> Iterator[None]:
    """A real ``leadpond worker`` against ``url``, stopped when the block ends."""
    env = {**os.environ, "LEADPOND_DATABASE_URL": url}
    worker = subprocess.Popen(
        [str(LEADPOND), "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        yield
    finally:
        worker.terminate()
        worker.wait(timeout=30)


def _warm_up(base: str, keys: list[str], workspace_ids: list[uuid.UUID]) -> None:
    """One event into each workspace, processed: the worker is up (imports, first batch) before
    the traffic starts. A worker still starting is not steady traffic: events sent meanwhile
    waited for the process, not for the pipeline (10 s on a loaded machine)."""
    with httpx.Client(base_url=base, timeout=30.0) as http:
        for key in keys:
            body = {"event": WARM_UP, "userId": "warm-up"}
            answer = http.post("/v1/track", json=body, auth=(key, ""))
            assert answer.status_code == 200, answer.text
    _wait_processed(workspace_ids, timeout=180.0)


def _measure(ctx: Context, embedded: bool) -> Result:
    rate, seconds = (50.0, 60.0) if ctx.large else (20.0, 30.0)
    name = f"{NAME}_embedded" if embedded else NAME
    with scratch_database(ctx, name) as url:
        ours = new_workspace(url, f"{name}-journey")
        bare = new_workspace(url, f"{name}-bare")
        _journey(ours.workspace_id)
        keys = [ours.write_key, bare.write_key]
        workspaces = [ours.workspace_id, bare.workspace_id]
        with ExitStack() as running:
            started = time.monotonic()
            base = running.enter_context(live_server(url, with_worker=embedded))
            if not embedded:
                running.enter_context(_worker_process(url))
            _warm_up(base, keys, workspaces)
            ready_s = time.monotonic() - started
            sent = _steady(base, keys, rate, seconds)
            _wait_processed(workspaces)
        journey = _quantiles(_journey_latencies(ours.workspace_id))
        pipeline = _quantiles(_pipeline_latencies(bare.workspace_id))
    assert journey["n"] == sent, (journey, sent)
    shape = "leadpond serve (worker in-process)" if embedded else "serve --no-worker + worker"
    return Result(
        name=name,
        metric=f"event accepted → first journey action in the outbox, p95 ({shape})",
        unit="s",
        leadpond=journey["p95"],
        baseline_name="the pipeline alone: event accepted → processed, p95",
        baseline=pipeline["p95"],
        # Lower is better here: the baseline's p95 over ours (1.0: the journey adds nothing).
        ratio=round(pipeline["p95"] / journey["p95"], 3) if journey["p95"] else None,
        target=f"p95 < {TARGET_P95_S:.0f} s",
        passed=journey["p95"] < TARGET_P95_S,
        details={
            "events_per_s_per_workspace": rate,
            "seconds": seconds,
            "events": sent,
            "worker": shape,
            "started_and_warmed_up_s": round(ready_s, 1),
            "journey": {k: round(v, 3) for k, v in journey.items()},
            "pipeline": {k: round(v, 3) for k, v in pipeline.items()},
        },
    )


def run(ctx: Context) -> list[Result]:
    """Steady traffic into two workspaces (with and without the journey) for a while, with the
    worker in a process of its own, then in the server's process."""
    return [_measure(ctx, embedded=False), _measure(ctx, embedded=True)]
