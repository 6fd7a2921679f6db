"""The template screens with NiceGUI's simulated user: writing a template (errors on their field
and line, nothing saved), the live preview for a person found by search, a test send through the
outbox to a real SMTP sink, and the message logs of the template, the person and the message."""

import asyncio
import threading
from typing import Any

import pytest
from nicegui.testing import User
from sqlalchemy import select

from leadpond.channels import service
from leadpond.channels.deliverer import Deliverer
from leadpond.channels.models import MessageTemplate
from leadpond.channels.schemas import TemplateCreate
from leadpond.console.pages import templates_preview
from leadpond.db.engine import read_only, unit_of_work
from leadpond.kit.pagination import PageQuery
from leadpond.reports import directory
from leadpond.workspaces.service import NewWorkspace
from tests.channels.smtp_sink import sink
from tests.conftest import Tracker
from tests.console.test_channels_page import configure_email, eventually, one, set_value
from tests.console.test_console_roles import demote_everyone, refused
from tests.console.test_pages import anyio_backend, log_in, user

pytestmark = pytest.mark.anyio
__all__ = ["anyio_backend", "user"]


def person_id(workspace: NewWorkspace, email: str) -> int:
    with read_only() as session:
        query = directory.PeopleQuery(q=email)
        rows = directory.search_people(
            session, workspace.workspace_id, query, PageQuery(limit=1)
        ).items
    return rows[0].id


def save_template(workspace: NewWorkspace, key: str = "welcome", **parts: Any) -> None:
    body = {
        "key": key,
        "channel": "email",
        "subject": "你好 {{ person.traits.name | default('朋友') }}",
        "body": "<p>Welcome, {{ person.traits.name }}!</p>",
        **parts,
    }
    with unit_of_work() as session:
        service.create_template(session, workspace.workspace_id, TemplateCreate(**body))


def template_keys(workspace: NewWorkspace) -> list[str]:
    with read_only() as session:
        return list(
            session.scalars(
                select(MessageTemplate.key).where(
                    MessageTemplate.workspace_id == workspace.workspace_id
                )
            )
        )


def srcdoc(user: User) -> str:
    return str(one(user, "preview-body").props.get("srcdoc", ""))


async def deliver(workspace: NewWorkspace) -> None:
    """What the deliverer thread of ``leadpond serve`` does, once."""
    await asyncio.to_thread(Deliverer(workspace_id=workspace.workspace_id).run_pending)


async def test_a_template_with_an_error_is_not_saved_then_saved_and_listed(
    user: User, workspace: NewWorkspace, track: Tracker
) -> None:
    track.identify("u1", traits={"name": "Alice Chen", "email": "alice.chen@yunfan.cn"})
    log_in(user, workspace, "marketer", locale="en")
    await user.open("/templates/new")
    set_value(user, "preview-search", "alice.chen@")
    set_value(user, "template-key", "welcome")
    set_value(user, "template-body", "<p>Hello</p>\n<p>{% if %}</p>")
    user.find(marker="save-template").click()
    await eventually(
        lambda: "an email needs a subject" in (one(user, "template-subject").error or "")
    )
    set_value(user, "template-subject", "Hi {{ person.traits.name }}")
    user.find(marker="save-template").click()
    await eventually(lambda: (one(user, "template-body").error or "").startswith("body: line 2:"))
    assert template_keys(workspace) == []

    set_value(user, "template-body", "<p>Hello {{ person.traits.name }}</p>")
    set_value(user, "template-purpose", "transactional")
    user.find(marker="save-template").click()
    await user.should_see(marker="template-messages")
    assert template_keys(workspace) == ["welcome"]
    # The saved template's page previews for the same person.
    assert one(user, "preview-person").value == person_id(workspace, "alice.chen@")
    await eventually(lambda: one(user, "preview-subject").text == "Hi Alice Chen")
    await user.open("/templates")
    rows = one(user, "templates-table").rows
    assert [(r["key"], r["channel"], r["purpose"]) for r in rows] == [
        ("welcome", "Emails", "Transactional")
    ]


async def test_the_preview_renders_for_the_person_found_and_follows_the_typing(
    user: User, workspace: NewWorkspace, track: Tracker
) -> None:
    track.identify("u1", traits={"name": "张伟", "email": "zhang.wei@xinghuan.cn"})
    track.identify("u2", traits={"name": "Alice Chen", "email": "alice.chen@yunfan.cn"})
    save_template(workspace)
    log_in(user, workspace, "viewer", locale="en")
    await user.open("/templates/welcome")
    set_value(user, "preview-search", "alice.chen@")
    assert list(one(user, "preview-person").options) == [person_id(workspace, "alice.chen@")]
    await eventually(lambda: one(user, "preview-subject").text == "你好 Alice Chen")
    assert "<p>Welcome, Alice Chen!</p>" in srcdoc(user)

    set_value(user, "template-body", "<p>Dear {{ person.traits.name }} & co</p>")
    await eventually(lambda: "<p>Dear Alice Chen & co</p>" in srcdoc(user))
    set_value(user, "preview-search", "zhang")
    await eventually(lambda: "<p>Dear 张伟 & co</p>" in srcdoc(user))

    set_value(user, "template-body", "<p>ok</p>\n{{ 1 // 0 }}")
    await eventually(lambda: "body: line 2:" in one(user, "preview-error").text)
    assert "ZeroDivisionError" in one(user, "preview-error").text
    for action in ("save-template", "delete-template", "send-to-person"):
        await user.should_not_see(marker=action)


async def test_a_json_channel_previews_its_parameters(
    user: User, workspace: NewWorkspace, track: Tracker
) -> None:
    track.identify("u1", traits={"name": "张伟", "email": "zhang.wei@xinghuan.cn"})
    log_in(user, workspace, "marketer")
    await user.open("/templates/new")
    set_value(user, "template-channel", "sms")
    set_value(user, "template-body", '{"name": "{{ person.traits.name }}", "code": "1234"}')
    await eventually(lambda: '"name": "张伟"' in one(user, "preview-document").content)
    await user.should_not_see(marker="preview-body")
    await user.should_see("服务商参数的 JSON 对象")


async def test_a_test_send_goes_through_the_outbox_and_shows_in_every_log(
    user: User, workspace: NewWorkspace, track: Tracker
) -> None:
    track.identify("u1", traits={"name": "张伟", "email": "zhang.wei@xinghuan.cn"})
    save_template(workspace)
    with sink() as (box, port):
        configure_email(workspace, url=f"smtp://127.0.0.1:{port}")
        log_in(user, workspace, "marketer", locale="en")
        await user.open("/templates/welcome")
        set_value(user, "template-subject", "changed, not saved")
        user.find(marker="send-to-person").click()
        await eventually(lambda: any("Save the template first" in m for m in user.notify.messages))
        set_value(user, "template-subject", "你好 {{ person.traits.name | default('朋友') }}")
        user.find(marker="send-to-person").click()
        link = one(user, "test-message")
        await eventually(lambda: link.text.startswith("Message #"))
        message_id = int(link.text.split("#")[1])
        assert one(user, "test-message-status").text.startswith("Queued")
        await deliver(workspace)
        await eventually(lambda: one(user, "test-message-status").text == "Sent")
        assert [m.parsed()["Subject"] for m in box.messages] == ["你好 张伟"]

    await user.open("/templates/welcome")
    rows = one(user, "template-messages").rows
    assert [(r["id"], r["person"], r["status"]) for r in rows] == [
        (f"#{message_id}", "张伟", "Sent")
    ]
    await user.open(f"/people/{person_id(workspace, 'zhang.wei@')}")
    rows = one(user, "person-messages").rows
    assert [(r["template"], r["channel"], r["status"]) for r in rows] == [
        ("welcome", "Emails", "Sent")
    ]
    await user.open(f"/messages/{message_id}")
    kinds = [row["kind"] for row in one(user, "history").rows]
    assert kinds == ["Queued", "Sending", "Sent"]
    await user.should_see("zhang.wei@xinghuan.cn")


async def test_a_message_not_sent_says_why_in_words(
    user: User, workspace: NewWorkspace, track: Tracker
) -> None:
    track.identify("u1", traits={"name": "张伟", "email": "zhang.wei@xinghuan.cn"})
    save_template(workspace)
    someone = person_id(workspace, "zhang.wei@")
    with unit_of_work() as session:
        message = service.send(session, workspace.workspace_id, "email", "welcome", someone)
        message_id = message.id
    await deliver(workspace)  # no email settings: skipped, not_configured
    log_in(user, workspace, "viewer")
    await user.open(f"/messages/{message_id}")
    await user.should_see("已跳过")
    assert one(user, "reason").text == "未发送：此渠道未配置或已关闭。"
    history = one(user, "history").rows
    assert history[-1]["detail"] == "未发送：此渠道未配置或已关闭。"
    await user.open(f"/people/{someone}")
    rows = one(user, "person-messages").rows
    assert rows[0]["reason"] == "未发送：此渠道未配置或已关闭。"
    await user.should_see("消息")


@pytest.mark.parametrize(
    ("locale", "said"),
    [
        ("zh_CN", "邮件：服务商「SMTP 中继」没有可用的发送程序。"),
        ("en", "Emails: there is no sender for the provider SMTP relay."),
    ],
)
async def test_a_message_that_failed_for_want_of_a_sender_says_so_in_words(
    user: User, workspace: NewWorkspace, track: Tracker, locale: str, said: str
) -> None:
    track.identify("u1", traits={"name": "张伟", "email": "zhang.wei@xinghuan.cn"})
    save_template(workspace)
    configure_email(workspace)
    someone = person_id(workspace, "zhang.wei@")
    with unit_of_work() as session:
        message = service.send(session, workspace.workspace_id, "email", "welcome", someone)
        message_id = message.id
    # A deliverer that knows no provider's sender.
    await asyncio.to_thread(Deliverer(senders={}, workspace_id=workspace.workspace_id).run_pending)
    with read_only() as session:
        failed, _key, _history = service.message_history(
            session, workspace.workspace_id, message_id
        )
        assert (failed.status, failed.last_error) == ("failed", "no sender for email/smtp")
    log_in(user, workspace, "viewer", locale=locale)
    await user.open(f"/messages/{message_id}")
    await user.should_see(said)
    await user.should_not_see("email/smtp")
    assert said in one(user, "history").rows[-1]["detail"]
    await user.open(f"/people/{someone}")
    assert one(user, "person-messages").rows[0]["reason"] == said


async def test_a_template_messages_were_written_with_is_kept_an_unused_one_deleted(
    user: User, workspace: NewWorkspace, track: Tracker
) -> None:
    track.identify("u1", traits={"name": "张伟", "email": "zhang.wei@xinghuan.cn"})
    save_template(workspace, "used")
    save_template(workspace, "draft")
    with unit_of_work() as session:
        someone = person_id(workspace, "zhang.wei@")
        service.send(session, workspace.workspace_id, "email", "used", someone)
    log_in(user, workspace, "marketer", locale="en")
    await user.open("/templates/used")
    user.find(marker="delete-template").click()
    user.find(marker="confirm-delete").click()
    await user.should_see("1 messages were written with template 'used'")
    await user.open("/templates/draft")
    user.find(marker="delete-template").click()
    user.find(marker="confirm-delete").click()
    await user.should_see(marker="templates-table")
    assert sorted(template_keys(workspace)) == ["used"]


async def test_a_demoted_marketer_can_neither_save_nor_send_a_test(
    user: User, workspace: NewWorkspace, track: Tracker
) -> None:
    track.identify("u1", traits={"name": "张伟", "email": "zhang.wei@xinghuan.cn"})
    save_template(workspace)
    log_in(user, workspace, "marketer")
    await user.open("/templates/welcome")
    demote_everyone(workspace)
    set_value(user, "template-subject", "changed")
    user.find(marker="save-template").click()
    await eventually(lambda: refused(user))
    with read_only() as session:
        saved = service.get_template(session, workspace.workspace_id, "welcome")
        assert saved.subject == "你好 {{ person.traits.name | default('朋友') }}"
    set_value(user, "template-subject", saved.subject)
    user.notify.messages.clear()
    user.find(marker="send-to-person").click()
    await eventually(lambda: refused(user))
    with read_only() as session:
        total, _found = service.messages_of_person(
            session, workspace.workspace_id, person_id(workspace, "zhang.wei@"), PageQuery()
        )
    assert total == 0


async def test_a_save_refusal_stays_when_a_preview_finishes_after_it(
    user: User, workspace: NewWorkspace, track: Tracker, monkeypatch: pytest.MonkeyPatch
) -> None:
    track.identify("u1", traits={"name": "Alice Chen", "email": "alice.chen@yunfan.cn"})
    # The preview's render waits until the save has been refused.
    rendering, refused_first = threading.Event(), threading.Event()
    render = templates_preview._render_draft

    def slow_render(*args: Any) -> Any:
        rendering.set()
        refused_first.wait(timeout=10)
        return render(*args)

    monkeypatch.setattr(templates_preview, "_render_draft", slow_render)
    log_in(user, workspace, "marketer", locale="zh_CN")
    try:
        await user.open("/templates/new")
        set_value(user, "template-key", "bad key")
        set_value(user, "template-subject", "你好 {{ person.traits.name }}")
        set_value(user, "template-body", "<p>Hello</p>")
        await eventually(rendering.is_set)
        user.find(marker="save-template").click()
        await eventually(lambda: (one(user, "template-key").error or "").startswith("标识："))
    finally:
        refused_first.set()
    await eventually(lambda: one(user, "preview-subject").text == "你好 Alice Chen")
    said = one(user, "template-key").error or ""
    assert said.startswith("标识：") and one(user, "template-error").text == said
    assert template_keys(workspace) == []
