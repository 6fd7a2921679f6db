"""A run's batches: ``RUN_BATCH`` due enrollments claimed a transaction; of those the SQL way
leaves at Python steps only ``python_limit`` go on in Python (a short write lock on SQLite), the
others stay due where they are for the next claim — and ``run_due`` gets through them all."""

import uuid
from datetime import timedelta

from sqlalchemy import select

from leadpond.channels.schemas import TemplateCreate
from leadpond.channels.service import create_template
from leadpond.db.engine import read_only, unit_of_work
from leadpond.journeys.engine import run_due_batch
from leadpond.journeys.models import Enrollment
from leadpond.journeys.runner import run_due
from leadpond.journeys.service import Candidate, enroll, journeys_of
from leadpond.kit.clock import utcnow
from leadpond.playbooks.service import apply_playbook
from leadpond.profiles.models import Person
from leadpond.workspaces.service import NewWorkspace
from tests.journeys.conftest import TEMPLATES, playbook_with

# A trait (only Python runs it), then a send.
JOURNEY = {
    "key": "mark-then-mail",
    "trigger": {"api": True},
    "steps": [
        {"id": "mark", "set_trait": {"journeyed": "yes"}},
        {"id": "mail", "send": {"channel": "email", "template": "welcome"}},
    ],
}


def _enrolled(ws: uuid.UUID, count: int) -> list[int]:
    """``count`` people enrolled, their first step due now; the enrollments' ids in order."""
    with unit_of_work() as session:
        for template in TEMPLATES:
            create_template(session, ws, TemplateCreate(**template))
        apply_playbook(session, ws, playbook_with(JOURNEY), actor="test")
        people = [Person(workspace_id=ws, traits={"n": n}) for n in range(count)]
        session.add_all(people)
        session.flush()
        found = journeys_of(session, ws)
        assert found is not None
        now = utcnow()
        candidates = [Candidate(p.id, "test", now) for p in people]
        report = enroll(session, ws, found[0], found[1][JOURNEY["key"]], candidates, now)
        return sorted(report.enrolled)


def _where(ids: list[int]) -> list[tuple[str | None, str]]:
    with read_only() as session:
        found = dict(
            (eid, (step, state))
            for eid, step, state in session.execute(
                select(Enrollment.id, Enrollment.step, Enrollment.state).where(
                    Enrollment.id.in_(ids)
                )
            )
        )
    return [found[eid] for eid in ids]


def test_a_batch_takes_only_python_limit_on_to_python_steps(workspace: NewWorkspace) -> None:
    ws = workspace.workspace_id
    ids = _enrolled(ws, 7)
    later = utcnow() + timedelta(seconds=1)
    with unit_of_work() as session:
        done = run_due_batch(session, ws, later, limit=10, python_limit=3)
    assert (done.deferred, done.messages) == (4, 3)
    assert _where(ids) == [(None, "completed")] * 3 + [("mark", "active")] * 4
    total = run_due(ws, later, limit=10, python_limit=3)
    assert (total.batches, total.deferred, total.messages) == (2, 1, 4)
    assert _where(ids) == [(None, "completed")] * 7
