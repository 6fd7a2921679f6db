"""Issue #20's missing screens, clicked in chromium: a static list made, filled and deleted."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import LiveServer
from tests.e2e.test_console_flows import log_in

pytestmark = pytest.mark.e2e


def test_a_static_list_is_made_filled_and_deleted_with_a_confirmation(
    page: Page, live_server: LiveServer
) -> None:
    base = live_server.base_url
    log_in(page, live_server)
    expect(page).to_have_url(f"{base}/console/")
    people = page.request.get(f"{base}/api/v1/people?limit=2").json()["items"]
    ids = [p["id"] for p in people]
    page.goto(f"{base}/console/segments")
    page.get_by_role("button", name="新建静态名单").click()
    page.get_by_label("标识（字母、数字、_）").fill("e2e_list")
    page.get_by_label("姓名", exact=True).fill("E2E 名单")
    page.get_by_role("button", name="创建").click()
    expect(page).to_have_url(f"{base}/console/segments/e2e_list")
    page.get_by_label("人员 ID（如 12, 15, 31）").fill(", ".join(str(i) for i in ids))
    page.get_by_role("button", name="添加", exact=True).click()
    expect(page.get_by_text("已添加 2 人，已移除 0 人，0 个未找到")).to_be_visible()
    expect(page.locator(".lp-members")).to_have_text("共 2 名成员")
    page.locator(".lp-delete-segment").click()
    expect(page.get_by_text("删除分群 e2e_list 及其成员和历史？此操作无法撤销。")).to_be_visible()
    page.locator(".lp-confirm-delete").click()
    expect(page).to_have_url(re.compile(rf"{re.escape(base)}/console/segments$"))
    assert page.request.get(f"{base}/api/v1/segments/e2e_list").status == 404
