"""The visual journey builder as a marketer uses it, in Debian's headless chromium: scenario S1
built by clicking — a trial form submitted → a WeCom note to the owner and an SMS → one day →
a welcome email — a mistake shown on its card, then saved: the journey is in the journeys list
and in the playbook's YAML."""

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import LiveServer
from tests.e2e.test_console_flows import log_in, shot

pytestmark = pytest.mark.e2e


def pick(page: Page, select: Locator, option: str) -> None:
    """Open a Quasar select and click one of its options."""
    select.click()
    page.get_by_role("option", name=option, exact=True).click()
    expect(page.get_by_role("listbox")).to_have_count(0)


def add_step(page: Page, button: str, kind: str) -> None:
    page.locator(button).click()
    page.locator(f".q-menu .lp-kind-{kind}").click()


def send(page: Page, index: int, channel: str, template: str) -> Locator:
    card = page.locator(".lp-step").nth(index)
    pick(page, card.locator(".lp-send-channel"), channel)
    pick(page, card.locator(".lp-send-template"), template)
    return card


def test_a_marketer_builds_s1_by_clicking_and_saves_it(page: Page, live_server: LiveServer) -> None:
    base = live_server.base_url
    log_in(page, live_server)
    page.goto(f"{base}/console/journeys")
    page.locator(".lp-new-journey").click()
    expect(page).to_have_url(f"{base}/console/journeys/new")
    page.locator(".lp-journey-key input").fill("s1-form-trial")
    page.locator(".lp-journey-name input").fill("表单试用欢迎")
    events = page.locator(".lp-trigger-event input")
    events.fill("Form Submitted")
    events.press("Enter")
    page.keyboard.press("Escape")
    where = page.locator(".lp-trigger-where textarea")
    where.fill("{form: trial}")
    where.blur()

    # The new journey starts with a one-day wait: the note and the SMS go before it.
    add_step(page, ".lp-add-first", "send")
    note = send(page, 0, "企业微信", "试用申请：通知负责人")
    pick(page, note.locator(".lp-send-to"), "其负责人（销售）")
    ident = note.locator(".lp-step-id input")
    ident.fill("owner-note")
    typed_in = ident.element_handle()
    ident.blur()  # renamed: the flow is drawn anew
    page.wait_for_function("input => !input.isConnected", arg=typed_in)
    expect(page.locator(".lp-step").nth(0).locator(".lp-step-id input")).to_have_value("owner-note")
    add_step(page, ".lp-add-after-0", "send")
    send(page, 1, "短信", "试用申请确认短信")
    wait = page.locator(".lp-step").nth(2)
    expect(wait.locator(".lp-wait input")).to_have_value("1d")
    add_step(page, ".lp-add-after-2", "send")
    send(page, 3, "邮箱", "试用欢迎邮件")
    expect(page.locator(".lp-step")).to_have_count(4)

    # A mistake is shown on the card it is about, and nothing is saved.
    wait.locator(".lp-wait input").fill("one day")
    # Leave the field (as a person does) and let the change reach the server before the click:
    # under load the validation once ran on the value before it.
    wait.locator(".lp-wait input").press("Tab")
    page.wait_for_timeout(300)
    page.locator(".lp-builder-validate").click()
    expect(page.locator(".lp-builder-invalid")).to_be_visible()
    wait = page.locator(".lp-step").nth(2)
    expect(wait.locator(".lp-step-error")).to_be_visible()
    expect(page.locator(".lp-step-error")).to_have_count(1)
    shot(page, live_server, "journey-builder-error")
    wait.locator(".lp-wait input").fill("1d")
    page.locator(".lp-builder-validate").click()
    expect(page.locator(".lp-builder-valid")).to_be_visible()
    expect(page.locator(".lp-step-error")).to_have_count(0)

    page.locator(".lp-builder-save").click()
    diff = page.locator(".lp-diff")
    expect(diff).to_contain_text("+  - key: s1-form-trial")
    expect(diff).to_contain_text("trial-welcome-email")
    shot(page, live_server, "journey-builder-diff")
    page.locator(".lp-confirm-save").click()
    expect(page).to_have_url(f"{base}/console/journeys/s1-form-trial")
    expect(page.locator(".lp-journey-steps")).to_contain_text("owner-note")

    page.goto(f"{base}/console/journeys")
    expect(page.locator(".lp-journeys-table")).to_contain_text("表单试用欢迎")
    page.goto(f"{base}/console/playbook")
    page.locator(".q-tab", has_text="YAML").click()
    yaml = page.locator(".lp-playbook-yaml textarea")
    expect(yaml).to_have_value(re.compile("key: s1-form-trial"))
    text = yaml.input_value()
    journey = text[text.index("key: s1-form-trial") :]
    assert "event: Form Submitted" in journey and "where: {form: trial}" in journey
    for said in (
        "{id: owner-note, send: {channel: wecom, template: trial-owner-note, to: owner}}",
        "send: {channel: sms, template: trial-received-sms}",
        "wait: 1d",
        "send: {channel: email, template: trial-welcome-email}",
    ):
        assert said in journey, journey
    # The default playbook's comments are still there.
    assert "# S1: trial request" in text

    # The builder opens it again from its page, as it was saved.
    page.goto(f"{base}/console/journeys/s1-form-trial/edit")
    expect(page.locator(".lp-step")).to_have_count(4)
    template = page.locator(".lp-step").nth(0).locator(".lp-send-template input")
    expect(template).to_have_value("试用申请：通知负责人")  # its name; saved: its key
    shot(page, live_server, "journey-builder")


def test_the_action_steps_have_fields_not_yaml(page: Page, live_server: LiveServer) -> None:
    """Recommend-and-send, an owner by round robin, a note to a role and an enrollment are
    built with pickers, and saved as the playbook's YAML."""
    base = live_server.base_url
    log_in(page, live_server)
    page.goto(f"{base}/console/journeys/new")
    page.locator(".lp-journey-key input").fill("nurture-by-clicking")
    events = page.locator(".lp-trigger-event input")
    events.fill("Trial Requested")
    events.press("Enter")
    page.keyboard.press("Escape")

    add_step(page, ".lp-add-first", "send_content")
    content = page.locator(".lp-step").nth(0)
    expect(content.locator(".lp-step-yaml")).to_have_count(0)
    content.locator(".lp-content-type").click()
    chosen = page.get_by_role("option").nth(1)  # the first type after "any type"
    type_name = chosen.inner_text()
    chosen.click()
    content.locator(".lp-content-limit input").fill("2")
    add_step(page, ".lp-add-after-0", "owner")
    owner = page.locator(".lp-step").nth(1)
    pick(page, owner.locator(".lp-owner-how"), "成员轮流分配")
    owner = page.locator(".lp-step").nth(1)
    expect(owner.locator(".lp-owner-users")).to_contain_text("@")
    add_step(page, ".lp-add-after-1", "notify")
    note = page.locator(".lp-step").nth(2)
    pick(page, note.locator(".lp-notify-to"), "某角色的所有成员")
    note = page.locator(".lp-step").nth(2)
    pick(page, note.locator(".lp-notify-role"), "销售")
    add_step(page, ".lp-add-after-2", "enroll")
    pick(page, page.locator(".lp-step").nth(3).locator(".lp-enroll-journey"), "trial-welcome")
    expect(page.locator(".lp-step-yaml")).to_have_count(0)

    page.locator(".lp-builder-validate").click()
    expect(page.locator(".lp-builder-valid")).to_be_visible()
    page.locator(".lp-builder-save").click()
    page.locator(".lp-confirm-save").click()
    expect(page).to_have_url(f"{base}/console/journeys/nurture-by-clicking")

    page.goto(f"{base}/console/playbook")
    page.locator(".q-tab", has_text="YAML").click()
    yaml = page.locator(".lp-playbook-yaml textarea")
    expect(yaml).to_have_value(re.compile("key: nurture-by-clicking"))
    text = yaml.input_value()
    journey = text[text.index("key: nurture-by-clicking") :]
    assert re.search(
        r"send_content: \{channel: \w+, template: [\w-]+, limit: 2, type: \w+\}", journey
    ), (
        journey,
        type_name,
    )
    assert "assign_owner: {round_robin: [" in journey
    assert "notify: {channel: email, template: " in journey and "to: {role: sales}" in journey
    assert "enroll: {journey: trial-welcome}" in journey
