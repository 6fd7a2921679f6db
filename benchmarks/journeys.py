"""Journeys: enrollments advanced one step per second, through the engine.

100,000 people (20,000 in the small size) are enrolled in a journey whose first step is a
branch on a trait and whose arms send an email: one run of the engine evaluates the branch for
everyone and queues each person's message in the outbox (idempotency key, template, purpose),
logs each step and writes where everyone is now — in transactions of ``RUN_BATCH`` enrollments,
as the worker does.

Baseline: the bare SQL of the same step in one transaction, measured in the same run: an
``INSERT … SELECT`` of the outbox rows (the branch as a ``CASE`` on the trait), an ``INSERT …
SELECT`` of the step log and an ``UPDATE`` of the enrollments.
"""

import json
import time
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, text

from benchmarks import journeys_latency, journeys_schedule
from benchmarks.common import Context, Result, new_workspace, scratch_database
from leadpond.channels.models import Message
from leadpond.channels.schemas import TemplateCreate
from leadpond.channels.service import create_template
from leadpond.db.engine import is_postgres, unit_of_work
from leadpond.journeys.engine import RUN_BATCH
from leadpond.journeys.runner import run_due
from leadpond.journeys.service import Candidate, enroll, journeys_of
from leadpond.kit import yaml
from leadpond.kit.clock import utcnow
from leadpond.kit.scope import owned
from leadpond.playbooks.service import apply_playbook, default_source
from leadpond.profiles.models import Person

NAME = "journeys"
TARGET_S = 10.0  # for 100,000 enrollments
JOURNEY = {
    "key": "industry-cases",
    "name": "行业案例",
    "trigger": {"api": True},
    "steps": [
        {
            "id": "which",
            "branch": [
                {"if": {"trait": "industry", "eq": "retail"}, "goto": "retail"},
                {"goto": "other"},
            ],
        },
        {"id": "retail", "send": {"channel": "email", "template": "case-a"}, "next": "exit"},
        {"id": "other", "send": {"channel": "email", "template": "case-b"}},
    ],
}
INDUSTRIES = ("retail", "banking", "manufacturing", "energy")


def _populate(workspace_id: uuid.UUID, count: int) -> list[int]:
    """The people, the two templates and the playbook with the journey."""
    with unit_of_work() as session:
        for key in ("case-a", "case-b"):
            create_template(
                session,
                workspace_id,
                TemplateCreate(
                    key=key,
                    channel="email",
                    subject=f"{key} 客户案例",
                    body='<p>{{ person.traits.name }} <a href="{{ unsubscribe_url }}">退订</a></p>',
                ),
            )
        document = yaml.load(default_source())
        document["journeys"] = [JOURNEY]
        apply_playbook(
            session, workspace_id, json.dumps(document, ensure_ascii=False), actor="bench"
        )
    ids: list[int] = []
    for start in range(0, count, 10_000):
        with unit_of_work() as session:
            rows = [
                Person(
                    workspace_id=workspace_id,
                    traits={
                        "name": f"客户{i}",
                        "email": f"c{i}@example.cn",
                        "industry": INDUSTRIES[i % 4],
                    },
                )
                for i in range(start, min(start + 10_000, count))
            ]
            session.add_all(rows)
            session.flush()
            ids += [row.id for row in rows]
    return ids


def _enroll(workspace_id: uuid.UUID, person_ids: list[int]) -> float:
    """Everyone enters (as the API trigger does); returns the seconds it took."""
    started = time.perf_counter()
    now = utcnow()
    with unit_of_work() as session:
        found = journeys_of(session, workspace_id)
        assert found is not None
        version, journeys = found
        candidates = [Candidate(pid, "bench", now) for pid in person_ids]
        report = enroll(session, workspace_id, version, journeys["industry-cases"], candidates, now)
        assert len(report.enrolled) == len(person_ids), report
    return time.perf_counter() - started


def _queued(workspace_id: uuid.UUID) -> int:
    with unit_of_work() as session:
        return int(
            session.scalar(
                select(func.count()).select_from(Message).where(owned(Message, workspace_id))
            )
            or 0
        )


def bare_step(workspace_id: uuid.UUID) -> dict[str, Any]:
    """The same step as three set-wise statements in one transaction."""
    started = time.perf_counter()
    with unit_of_work() as session:
        pg = is_postgres(session)
        industry = "p.traits ->> 'industry'" if pg else "json_extract(p.traits, '$.industry')"
        ws = workspace_id if pg else workspace_id.hex
        empty = "CAST('{}' AS JSONB)" if pg else "'{}'"
        now = utcnow()
        params = {"ws": ws, "now": now}
        session.execute(
            text(
                "INSERT INTO message (workspace_id, person_id, channel, purpose, template_id, "
                "idempotency_key, origin, status, variables, attempts, max_attempts, due_at, "
                "created_at, updated_at) "
                "SELECT e.workspace_id, e.person_id, 'email', t.purpose, t.id, "
                f"'bare:' || e.id, 'journey', 'queued', {empty}, 0, 5, :now, :now, :now "
                "FROM journey_enrollment e JOIN person p ON p.id = e.person_id "
                "JOIN message_template t ON t.workspace_id = e.workspace_id AND t.key = "
                f"CASE WHEN {industry} = 'retail' THEN 'case-a' ELSE 'case-b' END "
                "WHERE e.workspace_id = :ws AND e.state = 'active' AND e.due_at <= :now"
            ),
            params,
        )
        session.execute(
            text(
                "INSERT INTO journey_step_log "
                "(workspace_id, enrollment_id, step, kind, at, detail) "
                f"SELECT workspace_id, id, 'which', 'branch', :now, {empty} "
                "FROM journey_enrollment "
                "WHERE workspace_id = :ws AND state = 'active' AND due_at <= :now"
            ),
            params,
        )
        session.execute(
            text(
                "UPDATE journey_enrollment SET step = NULL, state = 'completed', ended_at = :now "
                "WHERE workspace_id = :ws AND state = 'active' AND due_at <= :now"
            ),
            params,
        )
    return {"seconds": time.perf_counter() - started}


def run(ctx: Context) -> list[Result]:
    """The engine's step and the bare SQL of it, then event → first action latency and a
    schedule over a large segment (``journeys_latency``, ``journeys_schedule``)."""
    return [*_step(ctx), *journeys_latency.run(ctx), *journeys_schedule.run(ctx)]


def _step(ctx: Context) -> list[Result]:
    """The engine's step and the bare SQL of it, on separate workspaces of one database."""
    count = 100_000 if ctx.large or ctx.backend == "sqlite" else 20_000
    with scratch_database(ctx, NAME) as url:
        ours_ws = new_workspace(url, f"{NAME}-engine").workspace_id
        bare_ws = new_workspace(url, f"{NAME}-bare").workspace_id
        ours_ids = _populate(ours_ws, count)
        bare_ids = _populate(bare_ws, count)
        enroll_s = _enroll(ours_ws, ours_ids)
        _enroll(bare_ws, bare_ids)
        if ctx.backend == "postgresql":
            with unit_of_work() as session:
                session.execute(text("ANALYZE"))
        started = time.perf_counter()
        report = run_due(ours_ws, utcnow() + timedelta(seconds=1))
        seconds = time.perf_counter() - started
        queued = _queued(ours_ws)
        bare = bare_step(bare_ws)
        bare_queued = _queued(bare_ws)
    assert queued == count and bare_queued == count, (queued, bare_queued)
    rate = count / seconds
    bare_rate = count / bare["seconds"]
    target_rate = 100_000 / TARGET_S
    return [
        Result(
            name=NAME,
            metric="enrollments advanced one step (branch on a trait + send to the outbox)",
            unit="enrollments/s",
            leadpond=rate,
            baseline_name="the bare SQL of the step (INSERT…SELECT ×2, UPDATE)",
            baseline=bare_rate,
            ratio=round(rate / bare_rate, 3),
            target=f"100,000 in < {TARGET_S:.0f} s (>= {target_rate:,.0f}/s)",
            passed=rate >= target_rate,
            details={
                "enrollments": count,
                "seconds": round(seconds, 2),
                "bare_seconds": round(bare["seconds"], 2),
                "messages_queued": queued,
                "steps": report.steps,
                "transactions": report.batches,
                "run_batch": RUN_BATCH,
                "enroll_s": round(enroll_s, 2),
            },
        )
    ]
