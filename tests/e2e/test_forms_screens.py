"""Forms in Debian's headless chromium: a visitor on a phone fills the demo's trial form and
sees the success message (and becomes a submission with a person); a marketer builds a form in
the console builder, publishes it and opens its share link."""

import time
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import LiveServer
from tests.e2e.test_console_flows import log_in

pytestmark = pytest.mark.e2e
EMAIL = "lin.xiao@e2e-acme.cn"

PHONE = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "locale": "zh-CN",
    "user_agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
}


def _submissions(server: LiveServer, key: str) -> list[dict[str, Any]]:
    answer = httpx.get(
        f"{server.base_url}/api/v1/forms/{key}/submissions",
        headers={"Authorization": f"Bearer {server.api_key}"},
    )
    assert answer.status_code == 200, answer.text
    return list(answer.json()["items"])


def test_a_visitor_on_a_phone_requests_a_trial(browser: Browser, live_server: LiveServer) -> None:
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.set_default_timeout(20_000)
    try:
        page.goto(f"{live_server.base_url}/f/trial?utm_source=wechat&channel=moments")
        expect(page.get_by_role("heading", name="申请免费试用")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scroll
        # Typed like a person (the form refuses posts faster than a person could fill it).
        for label, value in (
            ("姓名", "林晓"),
            ("手机号码", "139 1234 5678"),
            ("工作邮箱", EMAIL),
            ("公司名称", "上海云杉数据科技有限公司"),
        ):
            page.get_by_label(label).press_sequentially(value, delay=80)
        page.get_by_label("感兴趣的产品").select_option("graph_database")
        page.get_by_text("我同意接收图灵数智的产品资讯").click()
        page.get_by_role("button", name="提交").tap()
        expect(page.locator("#lp-success")).to_contain_text("试用申请已收到")
    finally:
        context.close()
    deadline = time.monotonic() + 60
    while True:  # the server's worker makes the person
        mine = [s for s in _submissions(live_server, "trial") if s["traits"].get("email") == EMAIL]
        assert len(mine) == 1
        if mine[0]["person_id"] is not None or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert mine[0]["person_id"] is not None
    assert mine[0]["traits"]["phone"] == "+8613912345678"
    assert (mine[0]["context"]["utm_source"], mine[0]["context"]["channel"]) == (
        "wechat",
        "moments",
    )


def test_a_marketer_builds_a_form_and_opens_its_share_link(
    browser: Browser, live_server: LiveServer
) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(20_000)
    try:
        log_in(page, live_server)
        expect(page).to_have_url(f"{live_server.base_url}/console/")
        page.get_by_role("link", name="表单").click()
        expect(page.locator(".lp-forms-table")).to_contain_text("whitepaper_gate")
        page.locator(".lp-new-form").click()
        page.locator(".lp-form-key input").fill("spring_salon")
        page.locator(".lp-form-name-zh input").fill("春季沙龙报名")
        page.locator(".lp-add-field").click()
        page.locator(".lp-field-label-zh-2 input").fill("公司")
        page.locator(".lp-field-key-2 input").fill("company")
        page.locator(".lp-form-status").click()
        page.get_by_role("option", name="已发布").click()
        preview = page.frame_locator(".lp-form-preview")
        expect(preview.get_by_text("春季沙龙报名")).to_be_visible()
        expect(preview.get_by_label("公司")).to_be_visible()
        page.locator(".lp-save-form").click()
        expect(page).to_have_url(f"{live_server.base_url}/console/forms/spring_salon")
        page.locator(".lp-tab-share").click()
        link = page.locator(".lp-share-link")
        expect(link).to_contain_text("/f/spring_salon?ws=")
        expect(page.locator(".lp-share-qr svg")).to_be_visible()
        expect(page.locator(".lp-embed-script")).to_contain_text("embed.js")
        shared = str(link.get_attribute("href"))
        visitor = context.new_page()
        visitor.goto(shared)
        expect(visitor.get_by_role("heading", name="春季沙龙报名")).to_be_visible()
        expect(visitor.get_by_label("姓名")).to_be_visible()
        expect(visitor.get_by_label("公司")).to_be_visible()
    finally:
        context.close()
