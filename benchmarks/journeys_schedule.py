"""Journeys: a schedule trigger firing over a large segment.

``N`` people (100,000 in the small size, 1,000,000 in the large one) are members of a segment;
a journey's cron schedule fires over it: the runner claims the occurrence, reads the members,
applies the entry rules (re-entry, staleness, limits), inserts every enrollment with its step
log, and runs the first step (a wait until 09:30, which writes each one's next due time) — one
transaction, as ``run-due`` does.

Baseline (same run, another workspace with the same members): the bare SQL of enrolling them —
one ``INSERT … SELECT`` of the enrollments from the segment's members and one of their step
log, in one transaction. The target (1M in < 2 min) is checked against the rate measured here,
extrapolated linearly (the work is per member, in chunks).
"""

import json
import time
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import func, insert, select, text

from benchmarks.common import Context, Result, new_workspace, scratch_database
from leadpond.db.engine import is_postgres, unit_of_work
from leadpond.journeys.models import Enrollment
from leadpond.journeys.schedules import fire_schedules
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
    "steps": [{"id": "morning", "wait_until": "09:30"}],
}
CHUNK = 20_000


def _populate(workspace_id: uuid.UUID, count: int) -> None:
    """The playbook (a segment and the journey), the people and their segment membership."""
    with unit_of_work() as session:
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
    """The bare SQL of enrolling the members: enrollments and their step log."""
    started = time.perf_counter()
    with unit_of_work() as session:
        pg = is_postgres(session)
        params: dict[str, Any] = {"ws": workspace_id if pg else workspace_id.hex, "now": utcnow()}
        empty = "CAST('{}' AS JSONB)" if pg else "'{}'"
        session.execute(
            text(
                "INSERT INTO journey_enrollment (workspace_id, journey_key, version, person_id, "
                "step, due_at, state, reason, entered_at) "
                "SELECT m.workspace_id, 'weekly', 1, m.person_id, 'morning', :now, 'active', "
                "'schedule', :now FROM segment_member m WHERE m.workspace_id = :ws"
            ),
            params,
        )
        session.execute(
            text(
                "INSERT INTO journey_step_log (workspace_id, enrollment_id, step, kind, at, "
                f"detail) SELECT workspace_id, id, 'entered', 'entered', :now, {empty} "
                "FROM journey_enrollment WHERE workspace_id = :ws"
            ),
            params,
        )
    return time.perf_counter() - started


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
        with unit_of_work() as session:
            # A minute on: the occurrence is after the playbook was applied, so it fires.
            enrolled = fire_schedules(session, ours, utcnow() + timedelta(seconds=61))
        seconds = time.perf_counter() - started
        bare_seconds = _bare(bare)
        with unit_of_work() as session:
            rows = session.scalar(
                select(func.count()).select_from(Enrollment).where(owned(Enrollment, ours))
            )
    assert enrolled == count == rows, (enrolled, count, rows)
    rate, bare_rate = count / seconds, count / bare_seconds
    million_s = 1_000_000 / rate
    return [
        Result(
            name=NAME,
            metric="a schedule enrolling a segment's members (first step run)",
            unit="people/s",
            leadpond=rate,
            baseline_name="the bare SQL of the enrollments (INSERT…SELECT ×2)",
            baseline=bare_rate,
            ratio=round(rate / bare_rate, 3),
            target=f"1,000,000 in < {TARGET_S:.0f} s (>= {1_000_000 / TARGET_S:,.0f}/s)",
            passed=million_s < TARGET_S,
            details={
                "members": count,
                "seconds": round(seconds, 2),
                "bare_seconds": round(bare_seconds, 2),
                "one_million_extrapolated_s": round(million_s, 1),
            },
        )
    ]
