"""Journeys: a schedule trigger firing over a large segment.

``N`` people (100,000 in the small size, 1,000,000 in the large one) are members of a segment;
a journey's cron schedule fires over it, as ``run-due`` (and the worker) fires it: the runner
claims the occurrence, applies the entry rules (re-entry, staleness, limits) and inserts every
enrollment with its step log (one transaction), then runs the first step — a send to each
person, through the outbox — in transactions of ``RUN_BATCH`` enrollments, in SQL
(``journeys.setwise``: the messages, their history, the step log and the moves as ``INSERT …
SELECT`` and ``UPDATE``). Timed: the whole firing, enrollment + first step to the outbox.

Baseline (same run, another workspace with the same members): the bare SQL of the same firing
in one transaction — ``INSERT … SELECT`` of the enrollments, their step log, the messages, the
send's step log and the end's, and an ``UPDATE`` of the enrollments. With ``--size 1m`` the
segment has 1,000,000 members and the target (< 2 min) is measured; at 100,000 it is
extrapolated linearly.
"""

import json
import time
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import func, insert, select, text

from benchmarks.common import Context, Result, new_workspace, scratch_database
from leadpond.channels.models import Message
from leadpond.channels.schemas import TemplateCreate
from leadpond.channels.service import create_template
from leadpond.db.engine import is_postgres, unit_of_work
from leadpond.journeys.engine import RUN_BATCH
from leadpond.journeys.models import Enrollment
from leadpond.journeys.runner import run_due
from leadpond.kit import yaml
from leadpond.kit.clock import utcnow
from leadpond.kit.scope import owned
from leadpond.playbooks.service import apply_playbook, default_source
from leadpond.profiles.models import Person
from leadpond.segments.models import Segment, SegmentMember

NAME = "journeys_schedule"
TARGET_S = 120.0  # for 1,000,000 members
JOURNEY = {
    "key": "weekly",
    "trigger": {"schedule": {"cron": "* * * * *", "segment": "everyone"}},
    "reentry": "after_exit",
    "steps": [{"id": "news", "send": {"channel": "email", "template": "weekly-news"}}],
}
CHUNK = 20_000


def _populate(workspace_id: uuid.UUID, count: int) -> None:
    """The playbook (a segment and the journey), the people and their segment membership."""
    with unit_of_work() as session:
        create_template(
            session,
            workspace_id,
            TemplateCreate(
                key="weekly-news",
                channel="email",
                subject="本周动态",
                body='<p>{{ person.traits.name }} <a href="{{ unsubscribe_url }}">退订</a></p>',
            ),
        )
        document = yaml.load(default_source())
        document["segments"].append({"key": "everyone", "if": {"trait": "tier", "eq": "gold"}})
        document["journeys"] = [JOURNEY]
        apply_playbook(
            session, workspace_id, json.dumps(document, ensure_ascii=False), actor="bench"
        )
    with unit_of_work() as session:
        segment_id = session.scalar(
            select(Segment.id).where(owned(Segment, workspace_id), Segment.key == "everyone")
        )
    assert segment_id is not None
    since = utcnow() - timedelta(days=1)
    for start in range(0, count, CHUNK):
        with unit_of_work() as session:
            ids = session.scalars(
                insert(Person).returning(Person.id),
                [
                    {"workspace_id": workspace_id, "traits": {"tier": "gold", "n": i}}
                    for i in range(start, min(start + CHUNK, count))
                ],
            ).all()
            session.execute(
                insert(SegmentMember),
                [
                    {
                        "segment_id": segment_id,
                        "person_id": pid,
                        "workspace_id": workspace_id,
                        "since": since,
                    }
                    for pid in ids
                ],
            )


def _bare(workspace_id: uuid.UUID) -> float:
    """The bare SQL of the firing: the enrollments and their step log, the first step's
    messages, its step log (with the message) and the enrollments completed, one transaction."""
    started = time.perf_counter()
    with unit_of_work() as session:
        pg = is_postgres(session)
        params: dict[str, Any] = {"ws": workspace_id if pg else workspace_id.hex, "now": utcnow()}
        empty = "CAST('{}' AS JSONB)" if pg else "'{}'"
        for statement in (
            "INSERT INTO journey_enrollment (workspace_id, journey_key, version, person_id, "
            "step, due_at, state, reason, entered_at) "
            "SELECT m.workspace_id, 'weekly', 1, m.person_id, 'news', :now, 'active', "
            "'schedule', :now FROM segment_member m WHERE m.workspace_id = :ws",
            "INSERT INTO journey_step_log (workspace_id, enrollment_id, step, kind, at, "
            f"detail) SELECT workspace_id, id, 'entered', 'entered', :now, {empty} "
            "FROM journey_enrollment WHERE workspace_id = :ws",
            "INSERT INTO message (workspace_id, person_id, channel, purpose, template_id, "
            "idempotency_key, origin, status, variables, attempts, max_attempts, due_at, "
            "created_at, updated_at) "
            "SELECT e.workspace_id, e.person_id, 'email', t.purpose, t.id, "
            f"'bare:' || e.id, 'journey', 'queued', {empty}, 0, 5, :now, :now, :now "
            "FROM journey_enrollment e JOIN message_template t "
            "ON t.workspace_id = e.workspace_id AND t.key = 'weekly-news' "
            "WHERE e.workspace_id = :ws AND e.state = 'active' AND e.due_at <= :now",
            "INSERT INTO journey_step_log (workspace_id, enrollment_id, step, kind, at, "
            f"detail, message_id) SELECT e.workspace_id, e.id, 'news', 'send', :now, {empty}, "
            "m.id FROM journey_enrollment e JOIN message m ON m.workspace_id = e.workspace_id "
            "AND m.idempotency_key = 'bare:' || e.id "
            "WHERE e.workspace_id = :ws AND e.state = 'active' AND e.due_at <= :now",
            "INSERT INTO journey_step_log (workspace_id, enrollment_id, step, kind, at, "
            f"detail) SELECT workspace_id, id, 'completed', 'end', :now, {empty} "
            "FROM journey_enrollment "
            "WHERE workspace_id = :ws AND state = 'active' AND due_at <= :now",
            "UPDATE journey_enrollment SET step = NULL, state = 'completed', ended_at = :now "
            "WHERE workspace_id = :ws AND state = 'active' AND due_at <= :now",
        ):
            session.execute(text(statement), params)
    return time.perf_counter() - started


def _queued(workspace_id: uuid.UUID) -> int:
    with unit_of_work() as session:
        return int(
            session.scalar(
                select(func.count()).select_from(Message).where(owned(Message, workspace_id))
            )
            or 0
        )


def run(ctx: Context) -> list[Result]:
    """The schedule firing, and the bare SQL of its enrollments, on one database."""
    count = 1_000_000 if ctx.large else 100_000
    with scratch_database(ctx, NAME) as url:
        ours = new_workspace(url, f"{NAME}-engine").workspace_id
        bare = new_workspace(url, f"{NAME}-bare").workspace_id
        _populate(ours, count)
        _populate(bare, count)
        if ctx.backend == "postgresql":
            with unit_of_work() as session:
                session.execute(text("ANALYZE"))
        started = time.perf_counter()
        # A minute on: the occurrence is after the playbook was applied, so it fires; the
        # runner enrolls the segment, then runs the first steps in batches, as the worker does.
        report = run_due(ours, utcnow() + timedelta(seconds=61))
        seconds = time.perf_counter() - started
        bare_seconds = _bare(bare)
        with unit_of_work() as session:
            rows = session.scalar(
                select(func.count()).select_from(Enrollment).where(owned(Enrollment, ours))
            )
        queued, bare_queued = _queued(ours), _queued(bare)
    assert report.scheduled == count == rows == queued == bare_queued, (
        report,
        rows,
        queued,
        bare_queued,
    )
    rate, bare_rate = count / seconds, count / bare_seconds
    million_s = 1_000_000 / rate
    return [
        Result(
            name=NAME,
            metric="a schedule firing over a segment (enrollment + first step to the outbox)",
            unit="people/s",
            leadpond=rate,
            baseline_name="the bare SQL of the firing (INSERT…SELECT ×5, UPDATE)",
            baseline=bare_rate,
            ratio=round(rate / bare_rate, 3),
            target=f"1,000,000 in < {TARGET_S:.0f} s (>= {1_000_000 / TARGET_S:,.0f}/s)",
            passed=million_s < TARGET_S,
            details={
                "members": count,
                "seconds": round(seconds, 2),
                "bare_seconds": round(bare_seconds, 2),
                "one_million_extrapolated_s": round(million_s, 1),
                "transactions": report.batches + 1,
                "run_batch": RUN_BATCH,
            },
        )
    ]
