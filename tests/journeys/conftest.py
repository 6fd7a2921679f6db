"""What the journeys' tests share: templates, journeys several files run, setting a workspace
up with a playbook of journeys, and reading back what the live run did (worded as the dry-run
report words it, so the two compare)."""

import json
import uuid
from collections import Counter
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from leadpond.channels.models import Message, MessageTemplate
from leadpond.db.engine import read_only, unit_of_work
from leadpond.journeys.models import Enrollment, StepLog
from leadpond.kit import yaml
from leadpond.kit.scope import owned
from leadpond.playbooks.service import apply_playbook, default_source
from leadpond.workspaces.service import NewWorkspace

TEMPLATES = (
    {
        "key": "trial-note",
        "channel": "wecom",
        "purpose": "transactional",
        "body": '{"content": "新试用: {{ person.traits.name }}"}',
    },
    {
        "key": "trial-sms",
        "channel": "sms",
        "purpose": "transactional",
        "body": '{"name": "{{ person.traits.name }}"}',
        "provider_template": "SMS_1",
    },
    {
        "key": "welcome",
        "channel": "email",
        "subject": "欢迎",
        "body": '<p>欢迎 <a href="{{ unsubscribe_url }}">退订</a></p>',
    },
    {
        "key": "case-a",
        "channel": "email",
        "subject": "A",
        "body": '<p>A <a href="{{ unsubscribe_url }}">退订</a></p>',
    },
    {
        "key": "case-b",
        "channel": "email",
        "subject": "B",
        "body": '<p>B <a href="{{ unsubscribe_url }}">退订</a></p>',
    },
)

# The newer steps' templates: a webhook's document, notes to a colleague.
ACTION_TEMPLATES = (
    {
        "key": "lead-hook",
        "channel": "webhook",
        "purpose": "transactional",
        "body": '{"lead": "{{ person.traits.name }}", "journey": "{{ journey }}"}',
    },
    {
        "key": "owner-mail",
        "channel": "email",
        "purpose": "transactional",
        "subject": "新线索 {{ person.traits.name }}",
        "body": "<p>{{ to_name }}: {{ person.traits.name }}</p>",
    },
    {
        "key": "owner-wecom",
        "channel": "wecom",
        "purpose": "transactional",
        "body": '{"content": "新线索: {{ person.traits.name }}"}',
    },
)

SPLIT = {
    "key": "retail-case",
    "trigger": {"api": True},
    "reentry": "after_exit",
    "steps": [
        {
            "id": "ab",
            "split": [
                {"variant": "A", "weight": 50, "goto": "send-a"},
                {"variant": "B", "weight": 50, "goto": "send-b"},
            ],
        },
        {"id": "send-a", "send": {"channel": "email", "template": "case-a"}, "next": "exit"},
        {"id": "send-b", "send": {"channel": "email", "template": "case-b"}},
    ],
}

AB_TEST = {
    "key": "retail-ab",
    "trigger": {"api": True},
    "steps": [
        {
            "id": "ab",
            "split": [
                {"variant": "A", "weight": 25, "goto": "send-a"},
                {"variant": "B", "weight": 25, "goto": "send-b"},
                {"variant": "rest", "weight": 50, "goto": "winner"},
            ],
        },
        {"id": "send-a", "send": {"channel": "email", "template": "case-a"}, "next": "exit"},
        {"id": "send-b", "send": {"channel": "email", "template": "case-b"}, "next": "exit"},
        {"id": "winner", "send_winner": {"split": "ab", "by": "clicks", "after": "24h"}},
    ],
}


def note(
    key: str,
    trigger: dict[str, Any],
    channel: str = "email",
    template: str = "welcome",
    **more: Any,
) -> dict[str, Any]:
    """A journey of one send step."""
    return {
        "key": key,
        "trigger": trigger,
        "steps": [{"id": "note", "send": {"channel": channel, "template": template}}],
        **more,
    }


def playbook_with(*journeys: dict[str, Any]) -> str:
    """The default playbook with these journeys instead of its own."""
    document = yaml.load(default_source())
    document["journeys"] = list(journeys)
    return json.dumps(document, ensure_ascii=False)


def set_up(
    api: TestClient, workspace: NewWorkspace, *journeys: dict[str, Any], document: str | None = None
) -> None:
    """The test templates made, and the playbook (default: with these journeys) applied."""
    for template in TEMPLATES:
        assert api.post("/api/v1/templates", json=template).status_code == 201
    source = document if document is not None else playbook_with(*journeys)
    with unit_of_work() as session:
        apply_playbook(session, workspace.workspace_id, source, actor="test")


def person_id(api: TestClient, user_id: str) -> int:
    [person] = api.get("/api/v1/people", params={"user_id": user_id}).json()["items"]
    return int(person["id"])


def outbox(ws: uuid.UUID) -> list[tuple[int | None, str, str]]:
    """(person, channel, idempotency key) of every message, sorted."""
    with read_only() as session:
        return sorted(
            (m.person_id, m.channel, m.idempotency_key)
            for m in session.scalars(select(Message).where(owned(Message, ws)))
        )


def messages(ws: uuid.UUID) -> list[Message]:
    with read_only() as session:
        found = list(
            session.scalars(select(Message).where(owned(Message, ws)).order_by(Message.id))
        )
        session.expunge_all()
        return found


def enrollments(ws: uuid.UUID) -> list[Enrollment]:
    with read_only() as session:
        found = list(
            session.scalars(select(Enrollment).where(owned(Enrollment, ws)).order_by(Enrollment.id))
        )
        session.expunge_all()
        return found


def explained_steps(api: TestClient, key: str, pid: int) -> dict[str, dict[str, Any]]:
    """The person's one enrollment in the journey: step id → its (last) log entry."""
    [item] = api.get(f"/api/v1/journeys/{key}/people/{pid}").json()["items"]
    return {s["step"]: s for s in item["steps"]}


def _arm(kind: str, detail: dict[str, Any]) -> str | None:
    if kind in ("wait_for", "wait_until"):
        return str(detail.get("arm"))
    if kind in ("branch", "split"):
        found = detail.get("variant") or detail.get("goto")
        return None if found is None else str(found)
    return None


def live_as_dry(ws: uuid.UUID, key: str) -> dict[str, Any]:
    """What the live run of journey ``key`` did, worded as the dry-run report words it."""
    with read_only() as session:
        rows = list(
            session.execute(
                select(Enrollment.id, Enrollment.person_id, Enrollment.state).where(
                    owned(Enrollment, ws), Enrollment.journey_key == key
                )
            )
        )
        ids = [e.id for e in rows]
        steps: Counter[str] = Counter()
        paths: dict[int, list[str]] = {}
        for enrollment_id, step, kind, detail in session.execute(
            select(StepLog.enrollment_id, StepLog.step, StepLog.kind, StepLog.detail)
            .where(StepLog.enrollment_id.in_(ids))
            .order_by(StepLog.enrollment_id, StepLog.id)
        ):
            arm = _arm(kind, detail or {})
            if kind not in ("entered", "end"):
                steps[f"{step} → {arm}" if arm else step] += 1
            paths.setdefault(enrollment_id, []).append(f"{step}:{kind}:{arm}")
        sent = Counter(
            f"{channel} {template}"
            for channel, template in session.execute(
                select(Message.channel, MessageTemplate.key)
                .join(MessageTemplate, MessageTemplate.id == Message.template_id)
                .join(StepLog, StepLog.message_id == Message.id)
                .where(StepLog.enrollment_id.in_(ids))
            )
        )
    return {
        "enrolled": len(rows),
        "states": dict(Counter(e.state for e in rows)),
        "steps": dict(steps),
        "messages": dict(sent),
        "paths": {e.person_id: paths.get(e.id, []) for e in rows},
    }
