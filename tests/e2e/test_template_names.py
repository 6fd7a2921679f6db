"""Issue #20: a template's display name, written in the template editor in both languages, is
what the template list and the journey builder's template picker show, in the viewer's language
(the demo's templates come named in both)."""

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import LiveServer
from tests.e2e.test_console_flows import log_in
from tests.e2e.test_playbook_names import _speak

pytestmark = pytest.mark.e2e

KEY = "trial-welcome-email"
NAMES = {"zh_CN": "试用欢迎信", "en": "Trial welcome letter"}
OTHER = {"zh_CN": "en", "en": "zh_CN"}


def test_a_templates_name_is_what_the_journey_builders_picker_shows(
    page: Page, live_server: LiveServer
) -> None:
    base = live_server.base_url
    log_in(page, live_server)
    page.goto(f"{base}/console/templates/{KEY}")
    name_zh = page.locator(".lp-template-name-zh input")
    expect(name_zh).to_have_value("试用欢迎邮件")  # as the demo named it
    expect(page.locator(".lp-template-name-en input")).to_have_value("Trial welcome email")
    name_zh.fill(NAMES["zh_CN"])
    page.locator(".lp-template-name-en input").fill(NAMES["en"])
    page.locator(".lp-save-template").click()
    expect(page.get_by_text("已保存")).to_be_visible()
    saved = page.request.get(f"{base}/api/v1/templates/{KEY}").json()
    assert saved["name"] == {"zh": NAMES["zh_CN"], "en": NAMES["en"]}

    try:
        for locale in ("en", "zh_CN"):
            _speak(page, live_server, locale)
            page.goto(f"{base}/console/templates")
            row = page.locator(".lp-templates-table tbody tr").filter(has_text=NAMES[locale])
            expect(row).to_have_count(1)
            expect(row.locator(".lp-code")).to_have_text(KEY)  # the key beside, as code
            expect(page.locator(".lp-templates-table")).not_to_contain_text(NAMES[OTHER[locale]])

            page.goto(f"{base}/console/journeys/trial-welcome/edit")
            picker = page.locator(".lp-step").nth(3).locator(".lp-send-template")
            expect(picker.locator("input")).to_have_value(NAMES[locale])
            picker.click()
            options = page.get_by_role("option")
            expect(options.filter(has_text=NAMES[locale])).to_have_count(1)
            offered = " | ".join(options.all_inner_texts())
            assert NAMES[OTHER[locale]] not in offered and KEY not in offered, offered
            page.keyboard.press("Escape")
    finally:
        _speak(page, live_server, "zh_CN")
