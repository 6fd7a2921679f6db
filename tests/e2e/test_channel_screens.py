"""The channel screens as a marketer uses them, in Debian's headless chromium: point email at a
local SMTP sink and send a test, write a template while its preview follows the typing, send it
to a person through the outbox, and find the message in the template's log and on the person."""

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.channels.smtp_sink import sink_process
from tests.e2e.conftest import LiveServer
from tests.e2e.test_console_flows import log_in, shot

pytestmark = pytest.mark.e2e


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """The aiosmtpd sink in its own process (as the benchmark runs it): its port and log."""
    with sink_process(tmp_path) as running:
        yield running


def received_by(log: Path, recipient: str, timeout_s: float = 20.0) -> list[str]:
    """The sink's log lines for a recipient, once there is one (``<id> <from> <to>``)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        lines = [ln for ln in log.read_text().lower().splitlines() if ln.endswith(f" {recipient}")]
        if lines:
            return lines
        time.sleep(0.2)
    raise AssertionError(f"the sink received nothing for {recipient}")


def saved(page: Page, shown: str, text: str, problem: str) -> None:
    """Wait for ``shown`` to say ``text`` (a save on SQLite may wait up to its 60 s busy timeout
    for the worker's transaction); if it never does, fail with what the form said."""
    try:
        expect(page.locator(shown)).to_have_text(text, timeout=60_000)
    except AssertionError as exc:
        raise AssertionError(f"the form says: {page.locator(problem).inner_text()!r}") from exc


def someone_with_a_name_and_email(server: LiveServer) -> tuple[int, str, str]:
    key = {"Authorization": f"Bearer {server.api_key}"}
    people = httpx.get(f"{server.base_url}/api/v1/people?limit=200", headers=key).json()
    for person in people["items"]:
        emails = [i["value"] for i in person["identifiers"] if i["type"] == "email"]
        if person["traits"].get("name") and emails:
            return int(person["id"]), str(person["traits"]["name"]), emails[0]
    raise AssertionError("the demo has nobody with a name and an email")


def test_marketer_sets_up_email_writes_a_template_and_follows_a_test_send(
    page: Page, live_server: LiveServer, sink: tuple[int, Path]
) -> None:
    base, (port, log) = live_server.base_url, sink
    person_id, name, email = someone_with_a_name_and_email(live_server)
    log_in(page, live_server)
    expect(page).to_have_url(f"{base}/console/")

    page.get_by_role("link", name="渠道", exact=True).click()
    expect(page.locator(".lp-state-email")).to_have_text("未配置")
    page.locator(".lp-edit-email").click()
    smtp_url = page.locator(".lp-setting-email-smtp_url input")
    smtp_url.fill(f"smtp://127.0.0.1:{port}")
    sender = page.locator(".lp-setting-email-from input")
    sender.fill("线索池 <hi@leadpond.cn>")
    expect(sender).to_have_value("线索池 <hi@leadpond.cn>")
    page.locator(".lp-save-email").click()
    saved(page, ".lp-state-email", "已启用", problem=".lp-form-error-email")
    page.locator(".lp-test-address-email input").fill("li.na@xinghuan.cn")
    page.locator(".lp-test-send-email").click()
    expect(page.locator(".lp-test-result-email")).to_contain_text("服务商已接收")
    assert received_by(log, "li.na@xinghuan.cn")
    shot(page, live_server, "channels")

    page.goto(f"{base}/console/templates/new")
    page.locator(".lp-template-key input").fill("e2e-welcome")
    page.locator(".lp-template-purpose").click()
    page.get_by_role("option", name="事务性").click()
    page.locator(".lp-template-subject input").fill(
        "欢迎 {{ person.traits.name | default('朋友') }}"
    )
    body = page.locator(".lp-template-body textarea")
    body.fill("<p>你好 {{ person.traits.name }}</p>")
    page.locator(".lp-preview-search input").fill(email)
    expect(page.locator(".lp-preview-subject")).to_have_text(f"欢迎 {name}")
    preview = page.frame_locator(".lp-preview-body").locator("body")
    expect(preview).to_have_text(f"你好 {name}")
    body.press("End")
    body.press_sequentially("<p>又见面了</p>", delay=30)
    expect(preview).to_contain_text("又见面了")
    shot(page, live_server, "template-editor")
    page.locator(".lp-save-template").click()
    expect(page).to_have_url(
        f"{base}/console/templates/e2e-welcome?person={person_id}", timeout=60_000
    )
    expect(page.locator(".lp-preview-subject")).to_have_text(f"欢迎 {name}")
    page.locator(".lp-send-to-person").click()
    expect(page.locator(".lp-test-message")).to_contain_text("消息 #")
    expect(page.locator(".lp-test-message-status")).to_have_text("已发送", timeout=30_000)
    assert received_by(log, email.lower())

    page.reload()
    log_table = page.locator(".lp-template-messages")
    expect(log_table.locator("tbody tr")).to_have_count(1)
    expect(log_table).to_contain_text("已发送")
    shot(page, live_server, "template-log")
    log_table.get_by_role("link", name=name).click()
    expect(page).to_have_url(f"{base}/console/people/{person_id}")
    page.get_by_role("tab", name="消息").click()
    messages = page.locator(".lp-person-messages")
    expect(messages.locator("tbody tr").filter(has_text="e2e-welcome")).to_contain_text("已发送")
    messages.locator("tbody tr").filter(has_text="e2e-welcome").get_by_role("link").first.click()
    expect(page.locator(".lp-history")).to_contain_text("排队中")
    expect(page.locator(".lp-history")).to_contain_text("已发送")
    shot(page, live_server, "message")
