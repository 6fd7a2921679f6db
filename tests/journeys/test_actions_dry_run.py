"""The newer trigger and steps in the dry-run: a form trigger, wait_until a condition,
exit_when, an owner assigned, a note to a role, a webhook and an enrollment in another journey
— the dry-run of a generated history reports what the live run did, and keeps and sends
nothing (hypothesis, both databases)."""

import uuid
from datetime import timedelta

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from leadpond.channels.models import Message
from leadpond.db.engine import read_only, rolled_back, unit_of_work
from leadpond.ingest.models import Event
from leadpond.journeys.dryrun import dry_run
from leadpond.journeys.models import Enrollment, StepLog
from leadpond.journeys.runner import run_due
from leadpond.kit.clock import utcnow
from leadpond.kit.scope import owned
from leadpond.playbooks.service import start_workspace
from leadpond.users.service import create_user, grant
from tests.conftest import Tracker
from tests.journeys.conftest import ACTION_TEMPLATES, live_as_dry, set_up

SECOND = {
    "key": "second",
    "trigger": {"api": True},
    "steps": [{"id": "mail", "send": {"channel": "email", "template": "welcome"}}],
}


def _every_kind(sales: str) -> dict[str, object]:
    return {
        "key": "every-kind",
        "trigger": {"form": "trial"},
        "exit_when": {"trait": "lead_status", "eq": "lost"},
        "steps": [
            {"id": "pick", "assign_owner": {"round_robin": [sales], "keep_existing": False}},
            {
                "id": "ready",
                "wait_until": {
                    "if": {"trait": "budget", "eq": "yes"},
                    "timeout": "1d",
                    "goto_timeout": "hook",
                },
            },
            {"id": "tell", "notify": {"template": "owner-mail", "to": {"role": "sales"}}},
            {"id": "hook", "webhook": {"template": "lead-hook"}},
            {"id": "onward", "enroll": {"journey": "second"}},
        ],
    }


def _rows(ws: uuid.UUID) -> tuple[int, ...]:
    with read_only() as session:
        return tuple(
            session.scalar(select(func.count()).select_from(table).where(owned(table, ws))) or 0
            for table in (Enrollment, StepLog, Message, Event)
        )


PEOPLE = st.lists(
    st.tuples(st.booleans(), st.booleans(), st.sampled_from(("trial", "newsletter"))),
    min_size=1,
    max_size=5,
)


@settings(
    max_examples=5,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(people=PEOPLE)
def test_any_history_of_the_new_steps_dry_runs_as_it_ran_live(
    client: TestClient, people: list[tuple[bool, bool, str]]
) -> None:
    with unit_of_work() as session:
        workspace = start_workspace(session, f"acts-{uuid.uuid4().hex[:8]}")
        sales = f"sales-{uuid.uuid4().hex[:8]}@team.cn"
        grant(
            session,
            create_user(session, sales, "销售", "correct horse battery").id,
            workspace.workspace_id,
            "sales",
        )
    client.headers["Authorization"] = f"Bearer {workspace.api_key}"
    for template in ACTION_TEMPLATES:
        assert client.post("/api/v1/templates", json=template).status_code == 201
    set_up(client, workspace, _every_kind(sales), SECOND)
    track = Tracker(client, workspace)
    ws = workspace.workspace_id
    started = utcnow()
    for i, (budget, lost, form) in enumerate(people):
        traits = {"email": f"u{i}@acme.cn", "name": f"客户{i}"}
        traits |= {"budget": "yes"} if budget else {}
        traits |= {"lead_status": "lost"} if lost else {}
        track.identify(f"u{i}", traits)
        track.track("Form Submitted", f"u{i}", {"form_id": form})
    later = utcnow() + timedelta(days=1, minutes=5)
    run_due(ws, later)
    live = live_as_dry(ws, "every-kind")
    before = _rows(ws)
    with rolled_back() as session:
        report = dry_run(session, ws, "every-kind", started - timedelta(minutes=1), later)
    assert _rows(ws) == before  # nothing kept, nothing queued
    dry = {
        "enrolled": report.enrolled,
        "states": report.states,
        "steps": report.steps,
        "messages": report.messages,
        "paths": {
            p["person_id"]: [f"{s['step']}:{s['kind']}:{s.get('arm')}" for s in p["path"]]
            for p in report.people
        },
    }
    assert dry == live
    entered = sum(1 for _, _, form in people if form == "trial")
    assert live["enrolled"] == entered
    passed = sum(1 for budget, lost, form in people if form == "trial" and budget and not lost)
    assert live["steps"].get("ready → condition", 0) == passed
