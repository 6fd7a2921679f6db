"""S1 and S4's hand-off as the default playbook ships them, in a workspace that has none of
their templates (every new workspace: the pipeline goes on and the journey says why nothing was
sent) and in the demo workspace (templates made by the demo: the notes and the SMS are queued in
the trial request's own drain, the welcome email a day later)."""

import json
import uuid
from datetime import timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from leadpond.channels.deliverer import Deliverer
from leadpond.channels.models import MessageTemplate
from leadpond.channels.tokens_cache import access_tokens
from leadpond.cli import app
from leadpond.db.engine import read_only, unit_of_work
from leadpond.demo import service
from leadpond.demo.service import DemoOptions
from leadpond.demo.templates import JOURNEY_TEMPLATES, ensure_journey_templates
from leadpond.journeys.runner import run_due
from leadpond.kit.clock import isoformat, utcnow
from leadpond.kit.scope import owned
from leadpond.workspaces.service import NewWorkspace
from tests.channels.conftest import SMTP, set_channel
from tests.channels.fakes import aliyun, wecom
from tests.channels.fakes.aliyun import FakeAliyun
from tests.channels.fakes.server import serving
from tests.channels.fakes.wecom import FakeWeCom
from tests.channels.smtp_sink import sink
from tests.conftest import Tracker
from tests.journeys.conftest import enrollments, explained_steps, messages, person_id
from tests.rules.helpers import scores, stage, tags

LEAD = {"name": "张伟", "company": "成都中海银行", "title": "信息中心主任", "phone": "13812345678"}
OWNER = {"owner": "王磊", "owner_wecom_userid": "wanglei"}


def test_a_new_workspace_takes_a_trial_request_and_the_journey_says_why_nothing_was_sent(
    api: TestClient, track: Tracker, workspace: NewWorkspace
) -> None:
    ws = workspace.workspace_id
    track.identify("u1", LEAD)
    track.track("Trial Requested", "u1", {"product": "graph", "edition": "enterprise"})
    track.identify("u2", {**LEAD, "name": "李娜", **OWNER})
    track.track("Trial Requested", "u2")
    first, second = person_id(api, "u1"), person_id(api, "u2")
    # The pipeline did everything else: the rules' tag and the stage.
    assert "need:evaluation" in tags(api, first)
    assert stage(api, first)["stage"] == "opportunity"
    assert messages(ws) == []
    log = explained_steps(api, "trial-welcome", first)
    assert log["owner-note"]["detail"]["skipped"] == "no_owner"
    assert log["received-sms"]["detail"]["skipped"] == "no_template"
    assert "trial-received-sms" in log["received-sms"]["detail"]["error"]
    assert log["received-sms"]["message_id"] is None
    # With an owner, the note fails on its template, not on the owner.
    log = explained_steps(api, "trial-welcome", second)
    assert log["owner-note"]["detail"]["skipped"] == "no_template"
    assert log["owner-note"]["detail"]["wecom_userid"] == "wanglei"
    # A day later the welcome email is missing too; the enrollment ends all the same.
    assert run_due(ws, utcnow() + timedelta(days=1, minutes=1)).messages == 0
    assert {e.state for e in enrollments(ws) if e.journey_key == "trial-welcome"} == {"completed"}
    assert (
        explained_steps(api, "trial-welcome", first)["welcome-email"]["detail"]["skipped"]
        == "no_template"
    )
    # Later events of the same people still go through the pipeline.
    track.track("Page Viewed", "u1", {"path": "/pricing"})
    assert scores(api, first)["engagement"]["points"] == 12


def test_the_mql_hand_off_notes_the_owner_once_the_threshold_is_crossed(
    api: TestClient, track: Tracker, workspace: NewWorkspace
) -> None:
    ws = workspace.workspace_id
    with unit_of_work() as session:
        ensure_journey_templates(session, ws)
    track.identify("u1", {**LEAD, **OWNER})
    for _ in range(3):
        track.track("Whitepaper Downloaded", "u1", {"title": "图数据库白皮书"})
    assert not [m for m in messages(ws) if m.origin.startswith("journey:mql-handoff")]
    track.track("Certification Earned", "u1", {"product_line": "graph"})
    [note] = [m for m in messages(ws) if m.origin.startswith("journey:mql-handoff")]
    assert note.channel == "wecom" and note.variables["wecom_userid"] == "wanglei"
    assert note.variables["read"] == ["图数据库白皮书"]
    pid = person_id(api, "u1")
    assert explained_steps(api, "mql-handoff", pid)["owner-note"]["message"]["status"] == "queued"


def test_the_demo_workspace_runs_s1(backend: str, client: TestClient, tmp_path: Path) -> None:
    from datetime import date

    report = service.run(
        DemoOptions(
            people=40,
            seed=5,
            end=date(2026, 2, 28),
            workspace=f"demo-{uuid.uuid4().hex[:8]}",
            truth_root=tmp_path / "truth",
            credentials_path=tmp_path / "credentials.json",
        )
    )
    ws = report.workspace_id
    with read_only() as session:
        keys = set(session.scalars(select(MessageTemplate.key).where(owned(MessageTemplate, ws))))
    assert keys >= {t["key"] for t in JOURNEY_TEMPLATES}
    # The world's history is a year old: the staleness guard enrolled no one from it.
    assert messages(ws) == []
    demo = NewWorkspace(ws, report.credentials["write_key"], report.credentials["api_key"])
    track = Tracker(client, demo)
    client.headers["Authorization"] = f"Bearer {demo.api_key}"
    track.identify("trial-1", {**LEAD, "email": "zhangwei@zhonghai-bank.cn", **OWNER})
    track.track("Content Viewed", "trial-1", {"title": "银行图数据库案例", "content_type": "case"})
    track.track("Trial Requested", "trial-1", {"product": "graph", "edition": "enterprise"})
    # The note and the SMS in the trial request's own drain.
    queued = messages(ws)
    assert sorted(m.channel for m in queued) == ["sms", "wecom"]
    [note] = [m for m in queued if m.channel == "wecom"]
    assert note.variables["wecom_userid"] == "wanglei"
    assert note.variables["read"] == ["银行图数据库案例"]
    assert all(m.status == "queued" for m in queued)
    when = isoformat(utcnow() + timedelta(days=1, minutes=1))
    done = CliRunner().invoke(app, ["journey", "run-due", "--workspace", str(ws), "--now", when])
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["messages"] == 1
    assert sorted(m.channel for m in messages(ws)) == ["email", "sms", "wecom"]
    # The demo configures no channel: the deliverer keeps them in the outbox, not sent.
    deliverer = Deliverer(workspace_id=ws)
    assert deliverer.deliver_once() == 3
    deliverer.close()
    assert {(m.status, m.reason) for m in messages(ws)} == {("skipped", "not_configured")}
    # --ensure on the existing workspace keeps the templates as they are (no duplicates).
    with unit_of_work() as session:
        assert ensure_journey_templates(session, ws) == []


def test_s1_end_to_end_through_the_deliverer_to_local_fakes(
    api: TestClient, track: Tracker, workspace: NewWorkspace
) -> None:
    """The issue's done-when: form submitted → the WeCom note and the SMS at local fakes in
    seconds; ``run-due --now +1 day`` → the welcome email at the local SMTP server."""
    ws = workspace.workspace_id
    with unit_of_work() as session:
        ensure_journey_templates(session, ws)
    provider, sms = FakeWeCom(members=("wanglei",)), FakeAliyun()
    access_tokens.clear()
    with serving(provider.app) as wecom_url, serving(sms.app) as sms_url, sink() as (box, port):
        set_channel(
            api,
            "wecom",
            "app",
            {
                "corp_id": wecom.CORP_ID,
                "corp_secret": wecom.CORP_SECRET,
                "agent_id": str(wecom.AGENT_ID),
                "endpoint": wecom_url,
            },
        )
        set_channel(
            api,
            "sms",
            "aliyun",
            {
                "access_key_id": aliyun.ACCESS_KEY_ID,
                "access_key_secret": aliyun.ACCESS_KEY_SECRET,
                "sign_name": "线索池",
                "endpoint": sms_url,
            },
        )
        set_channel(api, "email", "smtp", {**SMTP, "smtp_url": f"smtp://127.0.0.1:{port}"})
        deliverer = Deliverer(workspace_id=ws)
        track.identify("lead", {**LEAD, "email": "zhangwei@zhonghai-bank.cn", **OWNER})
        track.track("Trial Requested", "lead", {"product": "graph"})
        assert deliverer.deliver_once() == 2
        [note] = provider.delivered
        assert note["touser"] == "wanglei" and note["msgtype"] == "markdown"
        assert (
            "张伟" in note["markdown"]["content"] and "信息中心主任" in note["markdown"]["content"]
        )
        [text] = sms.sent
        assert text["PhoneNumbers"].endswith("13812345678")
        assert text["TemplateCode"] == "SMS_TRIAL_RECEIVED"
        assert box.messages == []
        when = isoformat(utcnow() + timedelta(days=1, minutes=1))
        done = CliRunner().invoke(
            app, ["journey", "run-due", "--workspace", str(ws), "--now", when]
        )
        assert json.loads(done.output)["messages"] == 1
        assert deliverer.deliver_once() == 1
        deliverer.close()
    [mail] = box.messages
    assert mail.recipients == ["zhangwei@zhonghai-bank.cn"]
    assert "欢迎试用" in str(mail.parsed()["Subject"])
    pid = person_id(api, "lead")
    log = explained_steps(api, "trial-welcome", pid)
    assert {
        log[s]["message"]["status"] for s in ("owner-note", "received-sms", "welcome-email")
    } == {"sent"}
