"""kill -9 of ``leadpond journey run-due`` while it advances thousands of enrollments: run again,
every enrollment has taken each step once — 0 duplicate steps, 0 duplicate messages, 0 lost —
on both databases (issue #17, docs/journeys.md "Kill -9")."""

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, insert, select

from leadpond.channels.models import Message
from leadpond.db.engine import read_only, unit_of_work
from leadpond.journeys.models import Enrollment, StepLog
from leadpond.journeys.service import Candidate, enroll, journeys_of
from leadpond.kit.clock import isoformat, utcnow
from leadpond.kit.scope import owned
from leadpond.profiles.models import Person
from leadpond.workspaces.service import NewWorkspace
from tests.journeys.conftest import set_up

pytestmark = pytest.mark.slow

PEOPLE = int(os.environ.get("LEADPOND_KILL_TEST_ENROLLMENTS", "5000"))
BATCH = 500
LEADPOND = Path(sys.executable).with_name("leadpond")
TWO_SENDS = {
    "key": "nurture",
    "trigger": {"api": True},
    "steps": [
        {"id": "first-wait", "wait": "1h"},
        {"id": "first", "send": {"channel": "email", "template": "case-a"}},
        {"id": "second-wait", "wait": "1h"},
        {"id": "second", "send": {"channel": "email", "template": "case-b"}},
    ],
}


def _enroll_everyone(workspace: NewWorkspace) -> list[int]:
    ws = workspace.workspace_id
    with unit_of_work() as session:
        session.execute(
            insert(Person),
            [
                {"workspace_id": ws, "traits": {"email": f"k{i}@acme.cn", "name": f"客户{i}"}}
                for i in range(PEOPLE)
            ],
        )
    now = utcnow()
    with unit_of_work() as session:
        ids = list(session.scalars(select(Person.id).where(owned(Person, ws))))
        found = journeys_of(session, ws)
        assert found is not None
        version, journeys = found
        candidates = [Candidate(pid, "kill test", now) for pid in ids]
        report = enroll(session, ws, version, journeys["nurture"], candidates, now)
    assert len(report.enrolled) == PEOPLE
    return ids


def _sends(workspace: NewWorkspace, step: str) -> int:
    with read_only() as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(StepLog)
                .where(owned(StepLog, workspace.workspace_id), StepLog.step == step)
            )
            or 0
        )


def _run_due(env: dict[str, str], workspace: NewWorkspace, at: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            str(LEADPOND),
            "journey",
            "run-due",
            "--workspace",
            str(workspace.workspace_id),
            "--now",
            at,
            # Several transactions for the kill to land between (a batch is 10,000).
            "--batch",
            str(BATCH),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _killed_midway(env: dict[str, str], workspace: NewWorkspace, step: str, at: str) -> int:
    """Start run-due, kill -9 it once it committed some of the step but not all; how many
    had been done when it died."""
    process = _run_due(env, workspace, at)
    deadline = time.monotonic() + 300
    done = 0
    while time.monotonic() < deadline and process.poll() is None:
        done = _sends(workspace, step)
        if done > 0:
            break
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    return _sends(workspace, step)


def test_kill_9_during_a_journey_run_loses_no_step_and_repeats_none(
    api: TestClient, workspace: NewWorkspace, database_url: str
) -> None:
    env = {**os.environ, "LEADPOND_DATABASE_URL": database_url}
    set_up(api, workspace, TWO_SENDS)
    _enroll_everyone(workspace)
    start = utcnow()
    for step, at in (
        ("first", isoformat(start + timedelta(hours=1, minutes=1))),
        ("second", isoformat(start + timedelta(hours=2, minutes=2))),
    ):
        before_kill = _killed_midway(env, workspace, step, at)
        assert 0 < before_kill < PEOPLE, "the kill must land mid-run: raise the size"
        again = _run_due(env, workspace, at)
        _, errors = again.communicate(timeout=600)
        assert again.returncode == 0, errors.decode()
        assert _sends(workspace, step) == PEOPLE
    ws = workspace.workspace_id
    with read_only() as session:
        steps = Counter(
            (enrollment_id, step)
            for enrollment_id, step in session.execute(
                select(StepLog.enrollment_id, StepLog.step).where(
                    owned(StepLog, ws), StepLog.kind == "send"
                )
            )
        )
        keys = Counter(
            key.split(":")[3]
            for key in session.scalars(select(Message.idempotency_key).where(owned(Message, ws)))
        )
        states = Counter(session.scalars(select(Enrollment.state).where(owned(Enrollment, ws))))
    assert max(steps.values()) == 1 and len(steps) == 2 * PEOPLE  # each send step once each
    assert keys == {"first": PEOPLE, "second": PEOPLE}  # one message per enrollment and step
    assert states == {"completed": PEOPLE}
    print(f"\nkill test: {PEOPLE} enrollments, 2 steps killed mid-run, 0 duplicates, 0 lost")
