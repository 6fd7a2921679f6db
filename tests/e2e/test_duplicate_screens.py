"""Reviewing duplicates in the console: scan, read why a pair was suggested, merge, undo."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import LiveServer
from tests.e2e.test_console_flows import log_in, shot

pytestmark = pytest.mark.e2e


def test_marketer_scans_reads_the_evidence_and_merges_people(
    page: Page, live_server: LiveServer
) -> None:
    base = live_server.base_url
    log_in(page, live_server)
    page.goto(f"{base}/console/duplicates")
    count = page.locator(".lp-suggestion-count")
    page.get_by_role("button", name="立即扫描人员").click()
    expect(page.get_by_text("扫描完成")).to_be_visible(timeout=120_000)
    cards = page.locator(".lp-suggestion")
    expect(cards.first).to_be_visible()
    before = cards.count()
    first = cards.first
    expect(first.locator(".lp-evidence").first).to_contain_text(": ")
    shot(page, live_server, "duplicates-people")
    first.get_by_role("button", name="合并").click()
    expect(cards).to_have_count(before - 1)
    expect(count).to_be_visible()


def test_marketer_merges_two_accounts_and_undoes_it(page: Page, live_server: LiveServer) -> None:
    base = live_server.base_url
    log_in(page, live_server)
    page.goto(f"{base}/console/duplicates")
    page.get_by_role("tab", name="客户").click()
    page.get_by_role("button", name="立即扫描客户").click()
    expect(page.get_by_text("扫描完成")).to_be_visible(timeout=120_000)
    cards = page.locator(".lp-account-suggestion")
    expect(cards.first).to_be_visible()
    before = cards.count()
    survivor = cards.first.locator("a").first.get_attribute("href")
    assert survivor is not None
    cards.first.get_by_role("button", name="合并").click()
    expect(cards).to_have_count(before - 1)
    page.goto(f"{base}{survivor}")
    merges = page.locator(".lp-account-merges")
    expect(merges.get_by_role("button", name="撤销")).to_have_count(1)
    shot(page, live_server, "account-merges")
    merges.get_by_role("button", name="撤销").click()
    expect(merges.get_by_text("已撤销")).to_be_visible()


def test_marketer_merges_an_account_by_number_and_undoes_it(
    page: Page, live_server: LiveServer
) -> None:
    """From an account's page: fold another account in by its number, see it gone, undo, and
    see it back with its own page."""
    base = live_server.base_url
    log_in(page, live_server)
    page.goto(f"{base}/console/accounts")
    links = page.locator("table a[href^='/console/accounts/']")
    expect(links.nth(1)).to_be_visible()
    survivor_href, merged_href = (links.nth(i).get_attribute("href") for i in (0, 1))
    merged_name = links.nth(1).inner_text()
    assert survivor_href is not None and merged_href is not None
    merged_id = merged_href.rstrip("/").rsplit("/", 1)[1]
    page.goto(f"{base}{survivor_href}")
    merges = page.locator(".lp-account-merges")
    # Another name (an alias) first: it is listed with the account's known names.
    merges.get_by_label("其他名称（如英文名）").fill("端到端环球")
    merges.get_by_role("button", name="添加名称").click()
    expect(page.get_by_text("名称已添加", exact=True)).to_be_visible()
    expect(merges.get_by_text(re.compile(r"^已知名称：.*端到端环球"))).to_be_visible()
    merges.get_by_label("要并入本客户的客户编号").fill(merged_id)
    merges.get_by_role("button", name="合并").click()
    expect(page.get_by_text("客户已合并", exact=True)).to_be_visible()
    expect(merges.get_by_text(f"#{merged_id}")).to_be_visible()
    page.goto(f"{base}{merged_href}")
    expect(page.locator(".text-negative")).to_be_visible()  # merged away: no page of its own
    page.goto(f"{base}{survivor_href}")
    merges = page.locator(".lp-account-merges")
    merges.get_by_role("button", name="撤销").click()
    expect(page.get_by_text("合并已撤销", exact=True)).to_be_visible()
    expect(merges.get_by_text("已撤销", exact=True)).to_be_visible()
    expect(merges.get_by_role("button", name="撤销")).to_have_count(0)
    page.goto(f"{base}{merged_href}")
    expect(page.get_by_text(merged_name).first).to_be_visible()
    expect(page.locator(".text-negative")).to_have_count(0)
