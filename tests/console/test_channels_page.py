"""The channels page with NiceGUI's simulated user: every channel shown with its secrets masked,
settings saved by an admin through the same validation as the API (errors on their field,
nothing stored), a test send to a real SMTP sink, and marketers and viewers who can do neither."""

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from nicegui.testing import User

from leadpond.channels import service
from leadpond.channels.registry import SENDERS
from leadpond.channels.settings import get_channel, set_channel
from leadpond.db.engine import read_only, unit_of_work
from leadpond.kit.errors import InvalidInput
from leadpond.workspaces.service import NewWorkspace
from tests.channels.smtp_sink import sink
from tests.console.test_console_roles import demote_everyone
from tests.console.test_pages import anyio_backend, log_in, user

pytestmark = pytest.mark.anyio
__all__ = ["anyio_backend", "user"]

SMTP_URL = "smtp://mailer:s3cret-pw@127.0.0.1:2525"


def one(user: User, marker: str) -> Any:
    found = user.find(marker=marker).elements
    assert len(found) == 1, marker
    return next(iter(found))


def set_value(user: User, marker: str, value: Any) -> None:
    with user:
        one(user, marker).value = value


async def eventually(check: Callable[[], bool]) -> None:
    """Wait (up to 5 s) for what an async handler or a background task does."""
    for _ in range(50):
        if check():
            return
        await asyncio.sleep(0.1)
    assert check()


def configure_email(workspace: NewWorkspace, url: str = SMTP_URL, **more: Any) -> None:
    with unit_of_work() as session:
        settings = {"smtp_url": url, "from": "线索池 <hi@leadpond.cn>"}
        set_channel(session, workspace.workspace_id, "email", "smtp", settings, **more)


def stored(workspace: NewWorkspace, channel: str = "email") -> dict[str, Any] | None:
    with read_only() as session:
        row = get_channel(session, workspace.workspace_id, channel)
        return None if row is None else dict(row.settings)


async def test_every_channel_is_shown_with_its_secrets_masked(
    user: User, workspace: NewWorkspace
) -> None:
    configure_email(
        workspace,
        caps={"marketing": [{"max": 2, "days": 7}], "on_cap": "drop"},
        quiet_hours={"start": "21:00", "end": "08:00"},
    )
    log_in(user, workspace, "marketer", locale="en")
    await user.open("/channels")
    await user.should_see("Only admins change a channel's settings")
    for channel in ("email", "sms", "wecom", "wechat", "webhook"):
        await user.should_see(marker=f"channel-{channel}")
    await user.should_see("WeChat Official Account")
    assert one(user, "state-email").text == "enabled"
    assert one(user, "state-sms").text == "not configured"
    assert one(user, "shown-email-smtp_url").text == "smtp://mailer:••••@127.0.0.1:2525"
    await user.should_not_see("s3cret-pw")
    limits = one(user, "limits-email").text
    assert "at most 2 in 7 days (Drop the message)" in limits
    assert "21:00–08:00 Asia/Shanghai (Wait for the window)" in limits
    for action in ("save-email", "test-send-email", "edit-email"):
        await user.should_not_see(marker=action)


async def test_settings_errors_show_on_their_field_and_nothing_is_saved(
    user: User, workspace: NewWorkspace
) -> None:
    log_in(user, workspace, "admin")
    await user.open("/channels")
    set_value(user, "setting-email-smtp_url", "http://mail.example.cn")
    set_value(user, "setting-email-from", "线索池 <hi@leadpond.cn>")
    user.find(marker="save-email").click()
    field = one(user, "setting-email-smtp_url")
    await eventually(lambda: "smtp://host:port" in (field.error or ""))
    said = "SMTP 地址（smtp://用户名:密码@主机:端口）：应为 smtp://host:port 或 smtps://user:pass@host:port"
    assert (field.error, one(user, "form-error-email").text) == (said, said)
    assert stored(workspace) is None

    set_value(user, "setting-email-smtp_url", SMTP_URL)
    user.find(marker="add-cap-email").click()
    set_value(user, "cap-max-email", 0)
    set_value(user, "cap-days-email", 7)
    user.find(marker="save-email").click()
    await eventually(lambda: one(user, "cap-max-email").error is not None)
    assert one(user, "setting-email-smtp_url").error is None
    assert stored(workspace) is None

    set_value(user, "cap-max-email", 2)
    set_value(user, "quiet-email", True)
    set_value(user, "quiet-time_zone-email", "Mars/Olympus")
    user.find(marker="save-email").click()
    await eventually(lambda: "Mars/Olympus" in (one(user, "quiet-time_zone-email").error or ""))
    assert one(user, "quiet-time_zone-email").error == "时区：不认识的时区：'Mars/Olympus'"
    assert stored(workspace) is None

    set_value(user, "quiet-time_zone-email", "Asia/Shanghai")
    user.find(marker="save-email").click()
    await eventually(lambda: "已保存" in user.notify.messages)
    assert stored(workspace) == {
        "smtp_url": SMTP_URL,
        "from": "线索池 <hi@leadpond.cn>",
        "pool_size": 4,
        "ad_prefix": "",
    }
    await user.should_see("已启用")
    assert one(user, "shown-email-smtp_url").text == "smtp://mailer:••••@127.0.0.1:2525"
    # The form shows the secret masked; saved again as shown, the stored password stays.
    assert one(user, "setting-email-smtp_url").value == "smtp://mailer:••••@127.0.0.1:2525"
    user.notify.messages.clear()
    user.find(marker="save-email").click()
    await eventually(lambda: "已保存" in user.notify.messages)
    assert (stored(workspace) or {})["smtp_url"] == SMTP_URL


@pytest.mark.parametrize(
    ("locale", "missing", "cap", "window"),
    [
        ("zh_CN", "发件人（From）：必填", "最多：不能小于 1", "开始（时:分）：应为时间（时:分）"),
        (
            "en",
            "Sender (From): Required",
            "At most: Must be at least 1",
            "From (HH:MM): Must be a time (HH:MM)",
        ),
    ],
)
async def test_a_refused_setting_is_named_by_its_inputs_label_in_the_viewers_language(
    user: User, workspace: NewWorkspace, locale: str, missing: str, cap: str, window: str
) -> None:
    log_in(user, workspace, "admin", locale=locale)
    await user.open("/channels")
    set_value(user, "setting-email-smtp_url", SMTP_URL)
    user.find(marker="save-email").click()
    await eventually(lambda: one(user, "form-error-email").text != "")
    assert (one(user, "setting-email-from").error, one(user, "form-error-email").text) == (
        missing,
        missing,
    )

    set_value(user, "setting-email-from", "线索池 <hi@leadpond.cn>")
    user.find(marker="add-cap-email").click()
    set_value(user, "cap-max-email", 0)
    set_value(user, "cap-days-email", 7)
    user.find(marker="save-email").click()
    await eventually(lambda: one(user, "cap-max-email").error == cap)
    assert one(user, "form-error-email").text == cap

    set_value(user, "cap-max-email", 2)
    set_value(user, "quiet-email", True)
    set_value(user, "quiet-start-email", "")
    user.find(marker="save-email").click()
    await eventually(lambda: one(user, "quiet-start-email").error == window)
    assert stored(workspace) is None


async def test_a_provider_switch_shows_its_own_settings_and_keeps_secrets_masked(
    user: User, workspace: NewWorkspace
) -> None:
    log_in(user, workspace, "admin")
    await user.open("/channels")
    set_value(user, "provider-sms", "tencent")
    await user.should_see(marker="setting-sms-sdk_app_id")
    await user.should_not_see(marker="setting-sms-access_key_id")
    for key, value in {
        "secret_id": "AKID-1",
        "secret_key": "very-secret-key",
        "sdk_app_id": "1400000000",
        "sign_name": "线索池",
    }.items():
        set_value(user, f"setting-sms-{key}", value)
    user.find(marker="save-sms").click()
    await user.should_see(marker="shown-sms-secret_key")
    assert one(user, "shown-sms-secret_key").text == "••••"
    assert one(user, "setting-sms-secret_key").value == "••••"
    assert (stored(workspace, "sms") or {})["secret_key"] == "very-secret-key"


async def test_a_test_send_reaches_the_smtp_sink_and_shows_the_providers_answer(
    user: User, workspace: NewWorkspace
) -> None:
    with sink() as (box, port):
        configure_email(workspace, url=f"smtp://127.0.0.1:{port}")
        log_in(user, workspace, "admin", locale="en")
        await user.open("/channels")
        user.find(marker="test-send-email").click()
        await eventually(
            lambda: one(user, "test-address-email").error == "Type where the test should go."
        )
        set_value(user, "test-address-email", "li.na@example.cn")
        user.find(marker="test-send-email").click()
        await user.should_see("The provider accepted it.")
        assert "Provider answer: 250" in one(user, "test-result-email").text
        await eventually(lambda: bool(box.messages))
        assert [m.recipients for m in box.messages] == [["li.na@example.cn"]]


async def test_a_test_send_on_a_channel_not_configured_says_so(
    user: User, workspace: NewWorkspace
) -> None:
    log_in(user, workspace, "admin", locale="en")
    await user.open("/channels")
    set_value(user, "test-address-webhook", "anything")
    user.find(marker="test-send-webhook").click()
    await user.should_see("channel webhook is not configured")


@pytest.mark.parametrize(
    ("locale", "said"),
    [
        ("zh_CN", "邮件：服务商「SMTP 中继」没有可用的发送程序。"),
        ("en", "Emails: there is no sender for the provider SMTP relay."),
    ],
)
async def test_a_test_send_on_a_provider_without_a_sender_names_both_in_words(
    user: User, workspace: NewWorkspace, monkeypatch: pytest.MonkeyPatch, locale: str, said: str
) -> None:
    configure_email(workspace)
    monkeypatch.delitem(SENDERS, ("email", "smtp"))
    with pytest.raises(InvalidInput) as raised, read_only() as session:
        service.test_send(session, workspace.workspace_id, "email", "li.na@example.cn")
    assert raised.value.message == "no sender for email/smtp"  # the REST API's, unchanged
    log_in(user, workspace, "admin", locale=locale)
    await user.open("/channels")
    set_value(user, "test-address-email", "li.na@example.cn")
    user.find(marker="test-send-email").click()
    await eventually(lambda: one(user, "test-result-email").text == said)
    assert said in user.notify.messages


async def test_an_admin_demoted_while_the_page_is_open_can_neither_save_nor_test_send(
    user: User, workspace: NewWorkspace
) -> None:
    with sink() as (box, port):
        configure_email(workspace, url=f"smtp://127.0.0.1:{port}")
        log_in(user, workspace, "admin")
        await user.open("/channels")
        demote_everyone(workspace)
        set_value(user, "setting-email-from", "someone.else@leadpond.cn")
        user.find(marker="save-email").click()
        await eventually(lambda: any("此操作需要「管理员」角色" in m for m in user.notify.messages))
        assert (stored(workspace) or {})["from"] == "线索池 <hi@leadpond.cn>"
        set_value(user, "test-address-email", "li.na@example.cn")
        user.notify.messages.clear()
        user.find(marker="test-send-email").click()
        await user.should_see("此操作需要「管理员」角色")
        await asyncio.sleep(0.3)
        assert box.messages == []
