"""Moving waiting enrollments to the current playbook version (a chosen migration).

An enrollment finishes on the version it entered with unless someone migrates it: each active
enrollment of the older version moves to the current version's step of the same id. One whose
step the current version no longer has stays where it is and is listed (``refused``). A step of
the same kind keeps its timers (a wait still ends when it would have); a step whose kind changed
starts again now. Each move is in the step log (``migrated``), so explain shows it.
"""

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadpond.db.engine import is_postgres
from leadpond.journeys.models import Enrollment, EnrollmentState
from leadpond.journeys.service import JourneyNotFound, journeys_of, log_entry, write_log
from leadpond.kit.errors import InvalidInput, NotFound
from leadpond.kit.scope import owned


class VersionNotFound(NotFound):
    code = "playbook_version_not_found"


@dataclass
class MigrationReport:
    journey: str
    from_version: int
    to_version: int
    moved: int = 0
    # The enrollments left on their version: their step is gone from the current one.
    refused: list[dict[str, Any]] = field(default_factory=list)


def migrate_enrollments(
    session: Session, workspace_id: uuid.UUID, key: str, from_version: int, now: datetime
) -> MigrationReport:
    """Move journey ``key``'s active enrollments of ``from_version`` to the current version's
    step of the same id (in the caller's transaction); list the ones whose step is gone."""
    current = journeys_of(session, workspace_id)
    if current is None or key not in current[1]:
        raise JourneyNotFound(f"no journey {key!r} in the current playbook", field="key")
    to_version, journeys = current
    if from_version == to_version:
        raise InvalidInput(
            f"version {from_version} is the current one: nothing to migrate",
            field="from_version",
        )
    old = journeys_of(session, workspace_id, from_version)
    if old is None:
        raise VersionNotFound(f"no playbook version {from_version}", field="from_version")
    before, after = old[1].get(key), journeys[key]
    report = MigrationReport(key, from_version, to_version)
    stmt = (
        select(Enrollment)
        .where(
            owned(Enrollment, workspace_id),
            Enrollment.journey_key == key,
            Enrollment.version == from_version,
            Enrollment.state == EnrollmentState.ACTIVE.value,
        )
        .order_by(Enrollment.id)
    )
    if is_postgres(session):
        # The runner claims with SKIP LOCKED: wait for a batch being run, then move it.
        stmt = stmt.with_for_update()
    entries = []
    for enrollment in session.scalars(stmt):
        step_id = enrollment.step or ""
        step = after.steps.get(step_id)
        if step is None:
            report.refused.append(
                {"enrollment_id": enrollment.id, "person_id": enrollment.person_id, "step": step_id}
            )
            continue
        was = before.steps.get(step_id) if before is not None else None
        restarted = was is None or was.kind != step.kind
        if restarted:
            enrollment.due_at, enrollment.waiting_since, enrollment.awaited_event_id = (
                now,
                None,
                None,
            )
        enrollment.version = to_version
        report.moved += 1
        detail = {"from": from_version, "to": to_version, "restarted": restarted}
        entries.append(log_entry(workspace_id, enrollment.id, step_id, "migrated", now, detail))
    session.flush()
    write_log(session, entries)
    return report
