"""The journeys screens as a marketer uses them, in Debian's headless chromium: find the default
playbook's trial journey, read its report, and dry-run it over the demo's past year — which
shows who would have entered and what they would have been sent, and keeps nothing."""

from datetime import date, timedelta

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import LiveServer
from tests.e2e.test_console_flows import log_in, shot

pytestmark = pytest.mark.e2e


def _enrollments(live_server: LiveServer) -> dict[str, int]:
    answer = httpx.get(
        f"{live_server.base_url}/api/v1/journeys",
        headers={"Authorization": f"Bearer {live_server.api_key}"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    return {j["key"]: sum(j["enrollments"].values()) for j in answer.json()["items"]}


def test_marketer_reads_a_journey_and_dry_runs_it_over_the_past_year(
    page: Page, live_server: LiveServer
) -> None:
    base = live_server.base_url
    before = _enrollments(live_server)
    log_in(page, live_server)
    page.get_by_role("link", name="旅程").click()
    expect(page).to_have_url(f"{base}/console/journeys")
    table = page.locator(".lp-journeys-table")
    expect(table).to_contain_text("试用欢迎")
    expect(table).to_contain_text("MQL移交销售")
    # How people enter, in words: an event's name and a segment's, not their keys.
    expect(table).to_contain_text("事件: 申请试用")
    expect(table).not_to_contain_text("Trial Requested")
    table.get_by_role("link", name="试用欢迎").click()
    expect(page).to_have_url(f"{base}/console/journeys/trial-welcome")
    steps = page.locator(".lp-journey-steps")
    expect(steps).to_contain_text("欢迎邮件")  # the step's name in the playbook, not its id
    expect(steps).to_contain_text("等待")
    shot(page, live_server, "journey")

    today = date.today()
    page.locator(".lp-dry-run-since input").fill((today - timedelta(days=365)).isoformat())
    page.locator(".lp-dry-run-until input").fill(today.isoformat())
    page.locator(".lp-dry-run").click()
    summary = page.locator(".lp-dry-run-summary")
    expect(summary).to_contain_text("触发条件共满足", timeout=60_000)
    said = summary.inner_text()
    triggered = int(said.split("满足 ")[1].split(" 次")[0])
    assert triggered > 0, said  # the demo's year holds trial requests
    # The messages it would have written, by channel and template name (not the key).
    expect(page.locator(".lp-dry-run-answer")).to_contain_text("企业微信 试用申请：通知负责人")
    shot(page, live_server, "journey-dry-run")
    assert _enrollments(live_server) == before  # nothing kept

    page.locator(".lp-dry-run-since input").fill("last month")
    page.locator(".lp-dry-run").click()
    expect(page.get_by_text("日期请写成 2026-12-01 的格式。")).to_be_visible()

    # Someone enrolled for real: their page tells the journey, each step and the message.
    headers = {"Authorization": f"Bearer {live_server.api_key}"}
    someone = httpx.get(f"{base}/api/v1/people", headers=headers, timeout=30).json()["items"][0]
    enrolled = httpx.post(
        f"{base}/api/v1/journeys/trial-welcome/enroll",
        json={"person_id": someone["id"]},
        headers=headers,
        timeout=30,
    )
    assert enrolled.status_code == 201, enrolled.text
    page.goto(f"{base}/console/people/{someone['id']}")
    page.get_by_role("tab", name="旅程").click()
    card = page.locator(".lp-person-journey").first
    expect(card).to_contain_text("试用欢迎")
    expect(card).to_contain_text("企业微信通知负责人")
    expect(card).to_contain_text("等一天")
    expect(card).to_contain_text("等待至")
    shot(page, live_server, "person-journeys")
