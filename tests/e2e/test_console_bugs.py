"""Issue #20's console bugs, clicked as a marketer clicks them (Debian's chromium, both DBs)."""

import csv
import io
import re
import subprocess
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import LEADPOND, LiveServer
from tests.e2e.test_console_flows import log_in

pytestmark = pytest.mark.e2e


def test_segment_by_stage_names_exports_pages_and_links_its_members(
    page: Page, live_server: LiveServer
) -> None:
    base = live_server.base_url
    log_in(page, live_server)
    expect(page).to_have_url(f"{base}/console/")
    by_key = {"stage": {"in": ["visit", "opportunity"]}}
    expected = page.request.post(f"{base}/api/v1/segments:preview", data={"condition": by_key})
    count = expected.json()["count"]
    assert count > 50  # more than one page of members

    # Stages typed by their display names mean their keys.
    page.goto(f"{base}/console/segments/new")
    page.locator(".lp-segment-key input").fill("visit-or-deal")
    page.locator(".lp-yaml textarea").fill("stage: {in: [访问, 商机]}")
    expect(page.locator(".lp-preview-count")).to_contain_text(f"{count:,}")
    page.locator(".lp-save").click()
    expect(page).to_have_url(f"{base}/console/segments/visit-or-deal")
    expect(page.locator(".lp-members")).to_have_text(f"共 {count:,} 名成员")

    # The export link downloads the file from the REST API, not /console/api/….
    with page.expect_download() as csv_download:
        page.locator(".lp-export-csv").click()
    assert csv_download.value.url == f"{base}/api/v1/segments/visit-or-deal/export?format=csv"
    text = Path(csv_download.value.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) == count + 1
    with page.expect_download() as xlsx_download:
        page.locator(".lp-export-xlsx").click()
    assert xlsx_download.value.suggested_filename == "segment-visit-or-deal.xlsx"
    assert Path(xlsx_download.value.path()).read_bytes()[:2] == b"PK"

    # Members 50 a page with a pager; names link to the person's page.
    expect(page.locator(".lp-members-shown")).to_have_text(f"第 1–50 条，共 {count:,} 条")
    page.locator(".lp-members-next").click()
    last = min(100, count)
    expect(page.locator(".lp-members-shown")).to_have_text(f"第 51–{last} 条，共 {count:,} 条")
    page.locator(".lp-members-previous").click()
    expect(page.locator(".lp-members-shown")).to_have_text(f"第 1–50 条，共 {count:,} 条")
    page.locator("[data-testid=members-table] .lp-member-link, .lp-member-link").first.click()
    expect(page).to_have_url(re.compile(rf"{re.escape(base)}/console/people/\d+$"))
    expect(page.get_by_text("身份标识")).to_be_visible()
    # The stage history's columns say stages, not dates.
    page.get_by_role("tab", name="标签、评分与阶段").click()
    history = page.locator("thead").filter(has_text="原阶段")
    expect(history).to_contain_text("新阶段")
    expect(page.get_by_text("开始日期")).to_have_count(0)

    # The segments list links to the segment under /console once.
    page.goto(f"{base}/console/segments")
    page.locator(".lp-segment-link-visit-or-deal").click()
    expect(page).to_have_url(f"{base}/console/segments/visit-or-deal")


def test_people_search_finds_company_starts_and_domains_and_fits_1366(
    browser: Browser, live_server: LiveServer
) -> None:
    base = live_server.base_url
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(20_000)
    try:
        log_in(page, live_server)
        expect(page).to_have_url(f"{base}/console/")
        accounts = page.request.get(f"{base}/api/v1/accounts?limit=1000").json()["items"]
        account = next(
            a for a in accounts if a["domain"] and re.match(r"^[\u4e00-\u9fff]{6,}", a["name"])
        )
        page.goto(f"{base}/console/people")
        expect(page.locator(".lp-total")).to_contain_text("共 ")
        width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert width[0] <= width[1] == 1366
        # Its city and the start of its name (深圳江德), then its domain, typed with spaces.
        for typed in (account["name"][:4], f"  {account['domain']} "):
            found = page.request.get(f"{base}/api/v1/search/people", params={"q": typed}).json()
            assert 1 <= found["total"] < 50
            page.locator(".lp-search input").fill(typed)
            page.locator(".lp-search input").press("Enter")
            expect(page.locator(".lp-total")).to_have_text(
                f"第 1–{found['total']} 条，共 {found['total']} 人"
            )
            companies = page.locator("table tbody tr td:nth-child(4)").all_inner_texts()
            assert companies and account["name"] in companies
    finally:
        context.close()


def test_a_quoted_pattern_survives_an_earlier_validation_error(
    page: Page, live_server: LiveServer
) -> None:
    base = live_server.base_url
    log_in(page, live_server)
    expect(page).to_have_url(f"{base}/console/")
    page.goto(f"{base}/console/playbook")
    page.get_by_role("tab", name="用户画像").click()
    condition = page.locator('[data-path="personas[1].if"]')
    expect(condition).to_have_value(re.compile(r'matches: "\(\?i\)CIO'))  # the file's quotes
    condition.fill("{trait: title, resembles: CIO}")
    page.locator(".lp-validate").click()
    expect(page.locator(".lp-problem").first).to_contain_text("resembles")
    condition.fill("{trait: title, matches: '(?i)CIO|CTO'}")
    page.locator(".lp-validate").click()
    expect(page.get_by_text("剧本校验通过")).to_be_visible()
    page.get_by_role("tab", name="YAML").click()
    yaml_text = page.locator(".lp-playbook-yaml textarea").input_value()
    assert "if: {trait: title, matches: '(?i)CIO|CTO'}" in yaml_text
    page.locator(".lp-validate").click()
    expect(page.get_by_text("剧本校验通过")).to_be_visible()


def test_login_keeps_its_language_and_lands_in_the_last_workspace(
    page: Page, live_server: LiveServer
) -> None:
    base = live_server.base_url
    page.goto(f"{base}/console/login")
    page.locator(".lp-lang-en").click()
    expect(page).to_have_url(f"{base}/console/login?lang=en")
    page.fill("input[name=email]", live_server.email)
    page.fill("input[name=password]", "not the password")
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{base}/console/login?error=1&lang=en")
    expect(page.get_by_text("Wrong email or password.")).to_be_visible()
    page.locator(".lp-lang-zh_CN").click()
    expect(page).to_have_url(f"{base}/console/login?lang=zh_CN")

    other = f"Zz Client {uuid.uuid4().hex[:6]}"  # after "Demo" by name
    for command in (
        ["workspace", "create", other],
        ["user", "create", live_server.email, "--workspace", other, "--role", "admin"],
    ):
        subprocess.run([LEADPOND, *command], env=live_server.env, check=True, capture_output=True)
    log_in(page, live_server)
    expect(page).to_have_url(f"{base}/console/")
    switcher = page.locator(".lp-workspace")
    expect(switcher).to_contain_text("Demo")
    switcher.click()
    page.get_by_role("option", name=other).click()
    expect(switcher).to_contain_text(other)
    page.get_by_role("button", name="退出登录").click()
    log_in(page, live_server)
    expect(page).to_have_url(f"{base}/console/")
    expect(page.locator(".lp-workspace")).to_contain_text(other)
    # Nobody is in it yet: the dashboard opens on the steps of getting started.
    onboarding = page.locator(".lp-onboarding")
    expect(onboarding).to_contain_text("开始使用")
    expect(onboarding.locator(".lp-onboarding-step-1")).to_have_text(
        "1. 网站使用的写入密钥（在设置页创建）"
    )
    onboarding.locator(".lp-onboarding-step-3").click()
    expect(page).to_have_url(f"{base}/console/import")
    page.goto(f"{base}/console/")
    # Back to the demo, where the next login (of another test) lands again.
    page.locator(".lp-workspace").click()
    page.get_by_role("option", name="Demo").click()
    expect(page.locator(".lp-workspace")).to_contain_text("Demo")


def test_the_directory_shows_known_contacts_with_a_switch_for_visitors(
    page: Page, live_server: LiveServer
) -> None:
    base = live_server.base_url
    log_in(page, live_server)
    expect(page).to_have_url(f"{base}/console/")

    def total(**params: str) -> int:
        found = page.request.get(f"{base}/api/v1/search/people", params=params).json()
        return int(found["total"])

    known, everyone = total(known="true"), total()
    assert 0 < known < everyone  # the demo world has anonymous visitors
    page.goto(f"{base}/console/people")
    shown = page.locator(".lp-total")
    expect(shown).to_contain_text(f"{known:,}")
    page.get_by_text("仅已识别联系人").click()
    expect(shown).to_contain_text(f"{everyone:,}")
    # Sorted by name, the first page is named people, not "#1, #2…" visitors.
    page.get_by_label("排序").click()
    page.get_by_role("option", name="姓名").click()
    first = page.locator("table tbody tr td:first-child").first
    expect(first).not_to_have_text(re.compile(r"^#\d+"))
    page.get_by_text("仅已识别联系人").click()
    expect(shown).to_contain_text(f"{known:,}")


def test_times_follow_the_workspace_zone_the_header_names(
    page: Page, live_server: LiveServer
) -> None:
    base = live_server.base_url
    key = {"Authorization": f"Bearer {live_server.api_key}"}
    log_in(page, live_server)
    expect(page).to_have_url(f"{base}/console/")
    zone = page.locator(".lp-zone")
    expect(zone).to_have_text("Asia/Shanghai (UTC+08:00)")
    person = page.request.get(f"{base}/api/v1/search/people?known=true&limit=1", headers=key)
    person_id = person.json()["items"][0]["id"]

    def first_seen() -> datetime:
        page.goto(f"{base}/console/people/{person_id}")
        said = page.get_by_text(re.compile(r"^首次出现: ")).inner_text()
        return datetime.strptime(said.split(": ", 1)[1], "%Y-%m-%d %H:%M")

    in_beijing = first_seen()
    try:
        page.goto(f"{base}/console/settings")
        page.get_by_label("时区").fill("Etc/UTC")
        page.get_by_role("option", name="Etc/UTC", exact=True).click()
        page.get_by_role("button", name="保存").click()
        expect(zone).to_have_text("Etc/UTC (UTC+00:00)")
        assert in_beijing - first_seen() == timedelta(hours=8)
    finally:
        page.request.put(
            f"{base}/api/v1/workspace", data={"time_zone": "Asia/Shanghai"}, headers=key
        )


def test_the_page_and_quasars_own_words_are_in_the_users_language(
    page: Page, live_server: LiveServer
) -> None:
    base = live_server.base_url
    page.goto(f"{base}/console/login?lang=en")
    assert page.evaluate("document.documentElement.lang") == "en-US"
    log_in(page, live_server)
    expect(page).to_have_url(f"{base}/console/")
    page.goto(f"{base}/console/people")
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    page.locator(".lp-search input").fill("没有这个人")
    page.locator(".lp-search input").press("Enter")
    expect(page.locator(".lp-total")).to_contain_text("0")
    expect(page.locator(".q-table__bottom")).to_contain_text("没有可用数据")
    expect(page.get_by_text("No data available")).to_have_count(0)


PHONE = {"width": 390, "height": 844}
# The main pages (detail pages are reached through their lists).
MAIN_PAGES = (
    "/console/",
    "/console/people",
    "/console/accounts",
    "/console/segments",
    "/console/journeys",
    "/console/content",
    "/console/forms",
    "/console/events",
    "/console/duplicates",
    "/console/import",
    "/console/playbook",
    "/console/settings",
)


def _fits_a_phone(page: Page, path: str) -> None:
    page.wait_for_load_state("networkidle")
    header = page.locator(".lp-header").bounding_box()
    assert header is not None and header["height"] <= 64, (path, header)
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], (path, width)


def test_main_pages_fit_a_phone_in_chinese_and_in_english(
    browser: Browser, live_server: LiveServer
) -> None:
    """One header row, a nav menu, no sideways scroll on every main page and the detail pages
    of a person, an account, a segment and a journey; the directory keeps four columns."""
    if live_server.backend != "sqlite":
        pytest.skip("a page's layout does not depend on the database: once is enough")
    base = live_server.base_url
    context = browser.new_context(viewport=PHONE, locale="zh-CN", device_scale_factor=2)
    page = context.new_page()
    page.set_default_timeout(20_000)
    try:
        log_in(page, live_server)
        expect(page).to_have_url(f"{base}/console/")
        found = page.request.get(f"{base}/api/v1/search/people?known=true&limit=1").json()
        details = [f"/console/people/{found['items'][0]['id']}"]
        for listing, prefix in (
            ("/console/accounts", "/console/accounts/"),
            ("/console/segments", "/console/segments/"),
            ("/console/journeys", "/console/journeys/"),
        ):
            page.goto(f"{base}{listing}")
            href = page.locator(f"a[href^='{prefix}']").first.get_attribute("href")
            assert href is not None
            details.append(href)
        for path in (*MAIN_PAGES, *details):
            page.goto(f"{base}{path}")
            _fits_a_phone(page, path)
        page.goto(f"{base}/console/people")
        expect(page.locator("table thead th:visible")).to_have_text(
            ["姓名", "手机", "公司", "阶段"]
        )
        expect(page.locator(".lp-nav")).to_be_hidden()
        page.locator(".lp-nav-menu").click()
        page.locator(".q-menu").get_by_text("人员", exact=True).click()
        expect(page).to_have_url(f"{base}/console/people")

        page.locator(".lp-language").click()
        page.get_by_role("option", name="English").click()
        expect(page.get_by_label("Name, email, phone or company")).to_be_visible()
        for path in (*MAIN_PAGES, *details):
            page.goto(f"{base}{path}")
            assert page.evaluate("document.documentElement.lang") == "en-US", path
            _fits_a_phone(page, path)
        page.locator(".lp-nav-menu").click()
        expect(page.locator(".q-menu").get_by_text("People", exact=True)).to_be_visible()
    finally:
        page.locator(".lp-language").click()
        page.get_by_role("option", name="中文").click()
        context.close()
