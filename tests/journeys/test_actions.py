"""The newer triggers and steps, live through the pipeline and the engine, on both databases:
a form trigger, waiting until a condition holds (woken by a profile change, or timing out),
exit_when, a webhook through the deliverer to a local receiver, notes to workspace users,
assigning owners, enrolling in another journey, step names, and migrating enrollments to the
current playbook version."""

import json
import uuid
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from leadpond.channels.deliverer import Deliverer
from leadpond.channels.models import Message, MessageTemplate
from leadpond.channels.prepare import Preparation
from leadpond.cli import app
from leadpond.db.engine import read_only, unit_of_work
from leadpond.journeys.runner import run_due
from leadpond.kit import yaml
from leadpond.kit.clock import utcnow
from leadpond.kit.scope import owned
from leadpond.playbooks.service import PlaybookInvalid, apply_playbook, validate_playbook
from leadpond.profiles.models import Person
from leadpond.users.service import create_user, grant
from leadpond.workspaces.service import NewWorkspace
from tests.channels.conftest import set_channel
from tests.channels.fakes import webhook as webhook_fake
from tests.channels.fakes.server import serving
from tests.channels.fakes.webhook import FakeReceiver
from tests.conftest import Tracker
from tests.journeys.conftest import (
    ACTION_TEMPLATES,
    enrollments,
    explained_steps,
    messages,
    person_id,
    playbook_with,
    set_up,
)


def _templates(api: TestClient) -> None:
    for template in ACTION_TEMPLATES:
        assert api.post("/api/v1/templates", json=template).status_code == 201


def _users(ws: uuid.UUID, *roles: str) -> list[str]:
    """Workspace users of these roles; their emails."""
    emails = []
    with unit_of_work() as session:
        for i, role in enumerate(roles):
            email = f"u{i}-{uuid.uuid4().hex[:8]}@team.cn"
            user = create_user(session, email, f"同事{i}", "correct horse battery")
            grant(session, user.id, ws, role)
            emails.append(email)
    return emails


def _traits(pid: int) -> dict[str, Any]:
    with read_only() as session:
        return dict(session.scalar(select(Person.traits).where(Person.id == pid)) or {})


def test_a_form_trigger_is_its_form_submitted_and_no_other_form(
    api: TestClient, track: Tracker, workspace: NewWorkspace
) -> None:
    journey = {
        "key": "trial-form",
        "trigger": {"form": "trial"},
        "steps": [{"id": "hello", "send": {"channel": "email", "template": "welcome"}}],
    }
    set_up(api, workspace, journey)
    track.identify("a", {"email": "a@bank.cn"})
    track.identify("b", {"email": "b@bank.cn"})
    track.track("Form Submitted", "a", {"form_id": "trial"})
    track.track("Form Submitted", "b", {"form_id": "newsletter"})
    [entered] = enrollments(workspace.workspace_id)
    assert entered.person_id == person_id(api, "a") and entered.state == "completed"
    listed = api.get("/api/v1/journeys").json()["items"][0]
    assert (listed["trigger"], listed["trigger_value"]) == ("form", "trial")


WAIT_MQL = {
    "key": "until-ready",
    "trigger": {"event": "Trial Requested"},
    "steps": [
        {
            "id": "ready",
            "name": {"zh": "等到有预算", "en": "Until there is a budget"},
            "wait_until": {
                "if": {"trait": "budget", "eq": "yes"},
                "timeout": "3d",
                "goto_timeout": "nudge",
            },
        },
        {"id": "hello", "send": {"channel": "email", "template": "case-a"}, "next": "exit"},
        {"id": "nudge", "send": {"channel": "email", "template": "case-b"}},
    ],
}


def test_wait_until_a_condition_goes_on_at_once_on_a_change_or_at_the_timeout(
    api: TestClient, track: Tracker, workspace: NewWorkspace
) -> None:
    ws = workspace.workspace_id
    set_up(api, workspace, WAIT_MQL)
    track.identify("now", {"email": "now@bank.cn", "budget": "yes"})
    track.identify("later", {"email": "later@bank.cn"})
    track.identify("never", {"email": "never@bank.cn"})
    for u in ("now", "later", "never"):
        track.track("Trial Requested", u)
    now, later, never = (person_id(api, u) for u in ("now", "later", "never"))
    assert explained_steps(api, "until-ready", now)["ready"]["detail"]["checked"] == "start"
    track.identify("later", {"budget": "yes"})  # the pipeline asks the condition again
    log = explained_steps(api, "until-ready", later)
    assert log["ready"]["detail"] == {"arm": "condition", "checked": "change", "goto": "hello"}
    assert log["hello"]["message"]["status"] == "queued"
    assert explained_steps(api, "until-ready", never)["ready"]["kind"] == "wait"
    run_due(ws, utcnow() + timedelta(days=3, minutes=1))
    log = explained_steps(api, "until-ready", never)
    assert log["ready"]["detail"]["arm"] == "timeout" and "nudge" in log
    keys = {(m.person_id, m.idempotency_key.split(":")[3]) for m in messages(ws)}
    assert keys == {(now, "hello"), (later, "hello"), (never, "nudge")}
    report = api.get("/api/v1/journeys/until-ready/report").json()
    assert report["steps"][0]["names"] == {"en": "Until there is a budget", "zh": "等到有预算"}


def test_exit_when_takes_people_out_as_soon_as_it_holds(
    api: TestClient, track: Tracker, workspace: NewWorkspace
) -> None:
    ws = workspace.workspace_id
    journey = {
        "key": "nurture",
        "trigger": {"event": "Trial Requested"},
        "exit_when": {"trait": "lead_status", "eq": "lost"},
        "steps": [
            {"id": "week", "wait": "7d"},
            {"id": "mail", "send": {"channel": "email", "template": "welcome"}},
        ],
    }
    set_up(api, workspace, journey)
    for u in ("stays", "lost"):
        track.identify(u, {"email": f"{u}@bank.cn"})
        track.track("Trial Requested", u)
    track.identify("lost", {"lead_status": "lost"})
    states = {e.person_id: e.state for e in enrollments(ws)}
    assert states == {person_id(api, "stays"): "active", person_id(api, "lost"): "exited"}
    log = explained_steps(api, "nurture", person_id(api, "lost"))
    assert log["exited"]["detail"] == {"exit_when": True, "before": "mail"}
    assert run_due(ws, utcnow() + timedelta(days=8)).messages == 1


def test_a_webhook_step_posts_through_the_deliverer_once(
    api: TestClient, track: Tracker, workspace: NewWorkspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "journey-webhook-secret"
    monkeypatch.setattr(webhook_fake, "SECRET", secret)
    ws = workspace.workspace_id
    set_up(api, workspace)
    _templates(api)
    with unit_of_work() as session:
        journey = {
            "key": "to-crm",
            "trigger": {"event": "Trial Requested"},
            "steps": [{"id": "hook", "webhook": {"template": "lead-hook"}}],
        }
        apply_playbook(session, ws, playbook_with(journey), actor="test")
    receiver = FakeReceiver()
    with serving(receiver.app) as url:
        set_channel(
            api, "webhook", "http", {"url": f"{url}/leads", "secret": secret, "allow_private": True}
        )
        track.identify("lead", {"name": "张伟", "email": "zw@bank.cn"})
        track.track("Trial Requested", "lead")
        deliverer = Deliverer(workspace_id=ws)
        assert deliverer.deliver_once() == 1
        assert deliverer.deliver_once() == 0
        deliverer.close()
    [(key, document)] = receiver.documents.items()
    pid = person_id(api, "lead")
    assert key.startswith("journey:to-crm:v") and key.endswith(f":hook:{pid}:{key.split(':')[-1]}")
    assert document == {"lead": "张伟", "journey": "to-crm"}
    assert explained_steps(api, "to-crm", pid)["hook"]["message"]["status"] == "sent"


def test_notes_go_to_the_owner_the_users_of_a_role_or_one_user(
    api: TestClient, track: Tracker, workspace: NewWorkspace
) -> None:
    ws = workspace.workspace_id
    sales_a, sales_b, admin = _users(ws, "sales", "sales", "admin")
    set_up(api, workspace)
    _templates(api)
    journey = {
        "key": "tell",
        "trigger": {"event": "Trial Requested"},
        "steps": [
            {"id": "owner", "notify": {"template": "owner-mail"}},
            {"id": "owner-wecom", "notify": {"channel": "wecom", "template": "owner-wecom"}},
            {"id": "team", "notify": {"template": "owner-mail", "to": {"role": "sales"}}},
            {"id": "boss", "notify": {"template": "owner-mail", "to": {"user": admin.upper()}}},
        ],
    }
    with unit_of_work() as session:
        apply_playbook(session, ws, playbook_with(journey), actor="test")
    owner = {"owner": "王磊", "owner_email": "wanglei@team.cn", "owner_wecom_userid": "wanglei"}
    track.identify("owned", {"name": "张伟", "email": "zw@bank.cn", **owner})
    track.identify("orphan", {"name": "李娜", "email": "ln@bank.cn"})
    for u in ("owned", "orphan"):
        track.track("Trial Requested", u)
    owned_id, orphan = person_id(api, "owned"), person_id(api, "orphan")
    sent = sorted(
        (m.person_id, m.idempotency_key.split(":")[3], m.variables.get("notify_email"))
        for m in messages(ws)
        if m.channel == "email"
    )
    assert sent == sorted(
        [
            (owned_id, "owner", "wanglei@team.cn"),
            *((p, "team", e) for p in (owned_id, orphan) for e in (sales_a, sales_b)),
            *((p, "boss", admin) for p in (owned_id, orphan)),
        ]
    )
    [note] = [m for m in messages(ws) if m.channel == "wecom"]
    assert note.variables["wecom_userid"] == "wanglei"
    assert explained_steps(api, "tell", orphan)["owner"]["detail"]["skipped"] == "no_owner"
    # The deliverer sends a note to the user's address, not the lead's.
    set_channel(api, "email", "smtp", {"smtp_url": "smtp://127.0.0.1:9", "from": "hi@x.cn"})
    with read_only() as session:
        queued = list(session.scalars(select(Message).where(owned(Message, ws))))
        batch = Preparation(session, utcnow())
        batch.load(queued)
        addresses = {batch.address(m) for m in queued if m.channel == "email"}
    assert addresses == {"wanglei@team.cn", sales_a, sales_b, admin}


def test_owners_are_assigned_round_robin_or_from_the_account(
    api: TestClient, track: Tracker, workspace: NewWorkspace
) -> None:
    ws = workspace.workspace_id
    first, second = _users(ws, "sales", "sales")
    journey = {
        "key": "assign",
        "trigger": {"event": "Trial Requested"},
        "steps": [
            {
                "id": "pick",
                "assign_owner": {
                    "round_robin": [{"user": first, "wecom_userid": "wl"}, second, "x@nobody.cn"]
                },
            },
            {"id": "tell", "notify": {"channel": "wecom", "template": "owner-wecom"}},
        ],
    }
    account = {
        "key": "from-account",
        "trigger": {"event": "Demo Requested"},
        "steps": [
            {"id": "pick", "assign_owner": {"from": "account"}},
        ],
    }
    set_up(api, workspace)
    _templates(api)
    with unit_of_work() as session:
        apply_playbook(session, ws, playbook_with(journey, account), actor="test")
    track.identify("kept", {"email": "k@bank.cn", "owner": "老板"})
    for u in ("p1", "p2", "p3"):
        track.identify(u, {"email": f"{u}@bank.cn"})
    track.batch(
        [
            {"type": "track", "event": "Trial Requested", "userId": u}
            for u in ("kept", "p1", "p2", "p3")
        ]
    )
    track.track("Page Viewed", "p1")  # a later batch applies the owners' traits
    got = [_traits(person_id(api, u)).get("owner_email") for u in ("p1", "p2", "p3")]
    assert got == [first, second, first]
    assert _traits(person_id(api, "kept"))["owner"] == "老板"
    assert _traits(person_id(api, "p1"))["owner_wecom_userid"] == "wl"
    # The note right after the assignment reaches the new owner (from the step log).
    wecom = [m for m in messages(ws) if m.channel == "wecom"]
    assert [m.variables["wecom_userid"] for m in wecom] == ["wl", "wl"]
    # From the account: its owner traits.
    track.call(
        "group",
        {
            "userId": "p4",
            "groupId": "acme",
            "traits": {"name": "中海银行", "owner": "陈静", "owner_email": "cj@team.cn"},
        },
    )
    track.track("Demo Requested", "p4")
    track.track("Page Viewed", "p4")
    assert _traits(person_id(api, "p4"))["owner"] == "陈静"


def test_enroll_starts_another_journey_as_its_re_entry_rule_allows(
    api: TestClient, track: Tracker, workspace: NewWorkspace
) -> None:
    ws = workspace.workspace_id
    first = {
        "key": "first",
        "trigger": {"event": "Trial Requested"},
        "reentry": "after_exit",
        "steps": [{"id": "hand-over", "enroll": {"journey": "second"}}],
    }
    second = {
        "key": "second",
        "trigger": {"api": True},
        "reentry": "never",
        "steps": [{"id": "mail", "send": {"channel": "email", "template": "welcome"}}],
    }
    set_up(api, workspace, first, second)
    track.identify("u", {"email": "u@bank.cn"})
    track.track("Trial Requested", "u")
    track.track("Trial Requested", "u")
    pid = person_id(api, "u")
    by_journey = sorted((e.journey_key, e.state) for e in enrollments(ws))
    assert by_journey == [("first", "completed"), ("first", "completed"), ("second", "completed")]
    assert len(messages(ws)) == 1  # sent in the trigger's own drain
    explained = api.get(f"/api/v1/journeys/first/people/{pid}").json()["items"]
    enrolled = [
        s["detail"]["enrolled"] for e in explained for s in e["steps"] if s["kind"] == "enroll"
    ]
    assert sorted(enrolled) == [False, True]


@pytest.mark.parametrize(
    ("step", "where", "says"),
    [
        ({"id": "x", "enroll": {"journey": "nope"}}, "journeys[0].steps[0].enroll", "no such"),
        ({"id": "x", "enroll": {"journey": "a"}}, "journeys[0].steps[0].enroll", "itself"),
        (
            {"id": "x", "notify": {"channel": "wecom", "template": "t", "to": {"role": "sales"}}},
            "journeys[0].steps[0]",
            "owner",
        ),
        ({"id": "x", "assign_owner": {"round_robin": []}}, "journeys[0].steps[0]", "at least"),
        (
            {"id": "x", "wait_until": {"if": {"tag": "t"}, "timeout": "1d", "goto_timeout": "x"}},
            "journeys[0].steps[0].wait_until.goto_timeout",
            "later step",
        ),
    ],
)
def test_new_steps_are_validated_with_their_path(
    backend: str, step: dict[str, Any], where: str, says: str
) -> None:
    source = yaml.dump(
        yaml.load(playbook_with({"key": "a", "trigger": {"form": "trial"}, "steps": [step]}))
    )
    with pytest.raises(PlaybookInvalid) as raised:
        validate_playbook(source)
    first = raised.value.details["errors"][0]
    assert first["path"].startswith(where) and says in first["message"], first
    assert first["line"] is not None


MIGRATING = {
    "key": "moving",
    "trigger": {"event": "Trial Requested"},
    "steps": [
        {"id": "first-wait", "wait": "1d"},
        {"id": "mail", "send": {"channel": "email", "template": "welcome"}},
    ],
}


def test_migrating_moves_waiting_enrollments_to_the_current_version(
    api: TestClient, track: Tracker, workspace: NewWorkspace
) -> None:
    ws = workspace.workspace_id
    set_up(api, workspace, MIGRATING)
    old_version = api.get("/api/v1/journeys").json()["version"]
    track.identify("u", {"email": "u@bank.cn"})
    track.track("Trial Requested", "u")  # waits a day before "mail"
    pid = person_id(api, "u")
    [waiting] = enrollments(ws)
    assert (waiting.step, waiting.version) == ("mail", old_version)
    renamed = {**MIGRATING, "steps": [MIGRATING["steps"][0], {"id": "mail-2", "wait": "1h"}]}
    with unit_of_work() as session:
        apply_playbook(session, ws, playbook_with(renamed), actor="test")
    answer = api.post("/api/v1/journeys/moving/migrate", json={"from_version": old_version})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["moved"] == 0 and body["refused"] == [
        {"enrollment_id": waiting.id, "person_id": pid, "step": "mail"}
    ]
    assert [e.version for e in enrollments(ws)] == [old_version]
    # A version that keeps the step (another template): moved, the wait's end kept.
    kept = {
        **MIGRATING,
        "steps": [
            MIGRATING["steps"][0],
            {"id": "mail", "send": {"channel": "email", "template": "case-a"}},
        ],
    }
    with unit_of_work() as session:
        apply_playbook(session, ws, playbook_with(kept), actor="test")
    command = ["journey", "migrate", "--workspace", str(ws), "--journey", "moving"]
    done = CliRunner().invoke(app, [*command, "--from-version", str(old_version)])
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["moved"] == 1
    [moved] = enrollments(ws)
    assert moved.version == old_version + 2 and moved.due_at == waiting.due_at
    log = explained_steps(api, "moving", pid)
    assert log["mail"]["kind"] == "migrated" and log["mail"]["detail"]["from"] == old_version
    run_due(ws, utcnow() + timedelta(days=1, minutes=1))
    [mail] = messages(ws)
    assert mail.idempotency_key.startswith(f"journey:moving:v{old_version + 2}:mail:")
    with read_only() as session:
        template = session.scalar(
            select(MessageTemplate.key).where(MessageTemplate.id == mail.template_id)
        )
    assert template == "case-a"
    current = api.post("/api/v1/journeys/moving/migrate", json={"from_version": old_version + 2})
    assert (current.status_code, current.json()["code"]) == (400, "invalid_input")
    missing = api.post("/api/v1/journeys/moving/migrate", json={"from_version": 999})
    assert (missing.status_code, missing.json()["code"]) == (404, "playbook_version_not_found")
