"""Issue #20's missing screens, clicked in chromium: a static list, the import, users and roles,
the person edit tab, the playbook's history and rollback."""

import re
from pathlib import Path

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
    page.get_by_label("名单名称").fill("E2E 名单")
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


def test_people_are_imported_from_a_file_with_a_column_mapped_by_hand(
    page: Page, live_server: LiveServer, tmp_path: Path
) -> None:
    base = live_server.base_url
    log_in(page, live_server)
    expect(page).to_have_url(f"{base}/console/")
    page.get_by_role("link", name="导入", exact=True).click()
    expect(page).to_have_url(f"{base}/console/import")
    file = tmp_path / "展会名单.csv"
    file.write_text(
        "姓名,手机号,Corp\n导入甲,19900001111,星环科技\n导入乙,坏号码,云杉网络\n"
        "导入丙,19900002222,\n",
        encoding="utf-8",
    )
    page.locator(".lp-import-upload input[type=file]").set_input_files(file)
    expect(page.get_by_text("展会名单.csv：为每一列选择它的内容")).to_be_visible()
    page.locator(".lp-target-2").click()
    page.get_by_role("option", name="公司", exact=True).click()
    page.locator(".lp-import-start").click()
    expect(page.locator(".lp-import-report")).to_have_text(
        "已读取 3 行：导入 2 行，0 行已存在，1 行有问题。", timeout=20_000
    )
    bad = page.locator(".lp-import-rejected tbody tr")
    expect(bad).to_have_count(1)
    expect(bad.locator("td").first).to_have_text("3")
    expect(bad.locator("td").nth(1)).to_have_text("手机号")
    expect(bad.locator("td").nth(2)).to_have_text("不是有效的手机号：坏号码")
    found: list[dict[str, object]] = []
    for _ in range(50):  # the server's pipeline worker reads the import's events
        found = page.request.get(f"{base}/api/v1/search/people?q=19900001111").json()["items"]
        if found:
            break
        page.wait_for_timeout(200)
    assert found and found[0]["company"] == "星环科技"


def test_an_admin_adds_a_member_and_is_told_why_the_last_admin_stays(
    page: Page, live_server: LiveServer
) -> None:
    base = live_server.base_url
    log_in(page, live_server)
    expect(page).to_have_url(f"{base}/console/")
    page.goto(f"{base}/console/settings")
    page.locator(".lp-member-email input").fill("han.meimei@example.cn")
    page.locator(".lp-member-name input").fill("韩梅梅")
    page.locator(".lp-member-role").click()
    page.get_by_role("option", name="市场人员", exact=True).click()
    page.locator(".lp-member-password input").fill("long enough pw")
    page.locator(".lp-add-member").click()
    expect(page.get_by_text("已添加 han.meimei@example.cn")).to_be_visible()
    rows = page.locator(".lp-members-table tbody tr")
    expect(rows.filter(has_text="han.meimei@example.cn")).to_have_count(1)
    mine = rows.filter(has_text=live_server.email)
    mine.locator(".lp-remove-member").click()
    expect(page.get_by_text("工作区至少需要一位管理员：请先把其他人设为管理员。")).to_be_visible()
    members = page.request.get(f"{base}/api/v1/users").json()["items"]
    roles = {m["email"]: m["role"] for m in members}
    assert roles[live_server.email] == "admin"
    assert roles["han.meimei@example.cn"] == "marketer"


def test_a_marketer_tags_a_person_and_edits_their_title_on_the_360_page(
    page: Page, live_server: LiveServer
) -> None:
    base = live_server.base_url
    log_in(page, live_server)
    expect(page).to_have_url(f"{base}/console/")
    person = page.request.get(f"{base}/api/v1/search/people?known=true&limit=1").json()
    person_id = person["items"][0]["id"]
    page.goto(f"{base}/console/people/{person_id}")
    page.get_by_role("tab", name="编辑").click()
    page.locator(".lp-new-tag input").fill("e2e:hand")
    page.locator(".lp-add-tag").click()
    expect(page.locator(".lp-edit-tags")).to_contain_text("e2e: hand")
    tags = page.request.get(f"{base}/api/v1/people/{person_id}/tags").json()["items"]
    assert any(t["tag"] == "e2e:hand" and t["source"] == "manual" for t in tags)
    page.locator(".lp-trait-title input").fill("首席数据官")
    page.locator(".lp-save-traits").click()
    expect(page.locator(".lp-traits-saved")).to_have_text("已保存：数据管道处理后资料即会更新。")
    title = None
    for _ in range(50):  # the server's pipeline worker reads the console's identify
        traits = page.request.get(f"{base}/api/v1/people/{person_id}").json()["traits"]
        title = traits.get("title")
        if title == "首席数据官":
            break
        page.wait_for_timeout(200)
    assert title == "首席数据官"


def test_a_playbook_version_is_rolled_back_from_its_history(
    page: Page, live_server: LiveServer
) -> None:
    base = live_server.base_url
    key = {"Authorization": f"Bearer {live_server.api_key}"}
    log_in(page, live_server)
    expect(page).to_have_url(f"{base}/console/")
    source = page.request.get(f"{base}/api/v1/playbook", headers=key).text()
    changed = page.request.post(
        f"{base}/api/v1/playbook",
        data=source.replace("name: 高意向线索", "name: 热线索", 1),
        headers={**key, "Content-Type": "application/yaml"},
    ).json()
    assert changed["changed"]
    page.goto(f"{base}/console/playbook")
    page.get_by_text("版本历史").click()
    expect(page).to_have_url(f"{base}/console/playbook/history")
    expect(page.locator(".lp-diff")).to_contain_text("热线索")
    before = changed["version"] - 1
    page.locator(".lp-versions tbody tr").filter(
        has=page.locator("td", has_text=re.compile(rf"^{before}$"))
    ).locator(".q-checkbox, .q-radio").first.click()
    expect(page.locator(".lp-diff-title")).to_contain_text(f"版本 {before}")
    page.get_by_role("button", name=f"回滚到版本 {before}").click()
    expect(page.locator(".lp-rolled-back")).to_have_text(
        f"版本 {before} 已重新应用为版本 {changed['version'] + 1}"
    )
    now = page.request.get(f"{base}/api/v1/playbook", headers=key).text()
    assert now == source
