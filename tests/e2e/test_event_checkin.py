"""S3 on a phone (390×844, Debian's chromium) against the live server: the attendee registers
on the event's H5 site and gets a badge QR; the staff's phone checks them in by the typed badge
code (a repeat says "already", a check-in typed while offline is queued and sent when the
network is back); the attendee scans a booth's QR; the worker gives the playbook's points and
tags, and the accounts report shows them."""

import random
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import LiveServer
from tests.e2e.test_console_flows import log_in

pytestmark = pytest.mark.e2e
T = TypeVar("T")
PHONE = {"viewport": {"width": 390, "height": 844}, "locale": "zh-CN", "is_mobile": True}


@pytest.fixture(scope="module")
def api(live_server: LiveServer) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {live_server.api_key}"}
    with httpx.Client(base_url=live_server.base_url, headers=headers, timeout=30) as client:
        yield client


def _phone(browser: Browser) -> Page:
    page = browser.new_context(**PHONE).new_page()
    page.set_default_timeout(20_000)
    return page


def _eventually(read: Callable[[], T], ok: Callable[[T], bool], seconds: float = 60) -> T:
    deadline = time.monotonic() + seconds
    while True:
        value = read()
        if ok(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.3)


def _event(api: httpx.Client, **extra: Any) -> dict[str, Any]:
    start = datetime.now(UTC) + timedelta(days=2)
    body = {
        "key": f"conf-e2e-{uuid.uuid4().hex[:6]}",
        "name_zh": "图数据库峰会",
        "name_en": "Graph Summit",
        "kind": "conference",
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=6)).isoformat(),
        "city": "上海",
        "venue": "世博中心",
        "topic": "graph_database",
        "sessions": [{"key": "keynote", "title": "主题演讲", "starts_at": "2030-05-01T09:00:00"}],
        "booths": [{"key": "b1", "name": "图数据库展台", "product_line": "graph_database"}],
        **extra,
    }
    made = api.post("/api/v1/events", json=body)
    assert made.status_code == 201, made.text
    return dict(made.json())


def test_register_badge_staff_check_in_booth_points_and_report(
    live_server: LiveServer, api: httpx.Client, browser: Browser
) -> None:
    event = _event(api)
    mobile = f"139{random.randrange(10**8):08d}"
    attendee = _phone(browser)
    attendee.goto(event["url"])
    expect(attendee.locator("#agenda")).to_contain_text("主题演讲")
    attendee.get_by_role("link", name="立即报名").click()
    attendee.get_by_label("姓名").fill("周杰")
    attendee.get_by_label("手机号").fill(mobile)
    attendee.get_by_label("公司").fill("上海浦东发展银行")
    attendee.get_by_label("职位").fill("信息中心主任")
    attendee.get_by_role("button", name="提交报名").click()
    expect(attendee.locator("#registered h2")).to_have_text("报名成功")
    expect(attendee.locator("#badge-qr svg")).to_be_visible()
    token = attendee.locator("#badge-token").inner_text()
    assert token.count(".") == 3  # workspace.payload.time.signature

    staff_url = api.post(f"/api/v1/events/{event['id']}/staff-link").json()["url"]
    staff = _phone(browser)
    staff.goto(staff_url)
    staff.get_by_label("胸卡码或手机号").fill(token)
    staff.get_by_role("button", name="签到", exact=True).click()
    expect(staff.locator("#last")).to_contain_text("周杰 · 签到成功")
    staff.get_by_label("胸卡码或手机号").fill(token)
    staff.get_by_role("button", name="签到", exact=True).click()
    expect(staff.locator("#last")).to_contain_text("已签到")

    staff.context.set_offline(True)  # the hall's network drops: the scan waits in the queue
    staff.get_by_label("胸卡码或手机号").fill("13700137000")
    staff.get_by_role("button", name="签到", exact=True).click()
    expect(staff.locator("#pending")).to_have_text("1")
    staff.context.set_offline(False)
    expect(staff.locator("#pending")).to_have_text("0", timeout=40_000)
    expect(staff.locator("#log")).to_contain_text("现场报名并签到")

    points = api.post(f"/api/v1/events/{event['id']}/points").json()
    [booth] = [p for p in points if p["point"] == "booth:b1"]
    attendee.goto(booth["url"])  # the badge cookie from the registration says who
    expect(attendee.locator("#message")).to_have_text("打卡成功")

    def report() -> list[dict[str, Any]]:
        items = api.get(f"/api/v1/events/{event['id']}/accounts-report").json()["items"]
        return [a for line in items for a in line["attendees"] if a["name"] == "周杰"]

    [line] = _eventually(report, lambda found: bool(found) and found[0]["person_id"] is not None)
    assert line["came"] and line["booths"] == ["图数据库展台"] and line["role"] == "executive"
    person = line["person_id"]

    def tags() -> set[str]:
        answer = api.get(f"/api/v1/people/{person}/tags").json()
        return {t["tag"] for t in answer["items"]}

    found = _eventually(tags, lambda t: "interest:graph_database" in t)
    assert {"interest:graph_database", "product_pref:graph_database"} <= found
    scores = api.get(f"/api/v1/people/{person}/scores").json()["items"]
    rules = {
        entry["rule_id"]
        for score in scores
        if score["model"] == "engagement"
        for entry in score["ledger"]
    }
    assert {"event-registration", "registered-and-checked-in", "booth-check-in"} <= rules
    walk_ins = api.get(f"/api/v1/events/{event['id']}/registrations").json()["items"]
    assert {r["source"] for r in walk_ins} == {"web", "walk_in"}
    assert sum(1 for r in walk_ins if r["attendance"] == "checked_in") == 2


def test_the_marketer_approves_and_follows_check_ins_in_the_console(
    live_server: LiveServer, api: httpx.Client, page: Page
) -> None:
    event = _event(api)
    api.put(
        f"/api/v1/events/{event['id']}",
        json={
            **{k: event[k] for k in ("key", "name_zh", "kind", "starts_at", "ends_at", "topic")},
            "approval_required": True,
            "booths": event["booths"],
        },
    ).raise_for_status()
    mobile = f"136{random.randrange(10**8):08d}"
    waiting = api.post(
        f"/api/v1/events/{event['id']}/registrations",
        json={"mobile": mobile, "name": "吴倩", "company": "招商银行", "title": "IT总监"},
    ).json()
    assert waiting["status"] == "pending"
    log_in(page, live_server)
    page.get_by_role("link", name="市场活动").click()
    page.get_by_role("link", name="图数据库峰会").first.click()
    expect(page.locator(".lp-count-pending")).to_have_text("1")
    registrations = page.locator(".lp-registrations-table")
    expect(registrations).to_contain_text("吴倩")
    registrations.get_by_role("button", name="通过").click()
    expect(page.locator(".lp-count-approved")).to_have_text("1")
    checked = api.post(f"/api/v1/events/{event['id']}/checkins", json={"mobile": mobile})
    assert checked.json()["already_checked_in"] is False
    expect(page.locator(".lp-count-came")).to_have_text("1", timeout=15_000)  # live, no reload
    expect(page.locator(".lp-accounts-report")).to_contain_text("招商银行")
    with page.expect_download() as badges:
        page.locator(".lp-badges-link").click()
    assert badges.value.suggested_filename == f"badges-{event['key']}.pdf"
    assert Path(badges.value.path()).read_bytes().startswith(b"%PDF")


def test_the_marketer_creates_an_event_in_the_editor(live_server: LiveServer, page: Page) -> None:
    key = f"salon-{uuid.uuid4().hex[:6]}"
    log_in(page, live_server)
    page.goto(f"{live_server.base_url}/console/events")
    page.locator(".lp-new-event").click()
    page.get_by_label("标识（用于网址）").fill(key)
    page.get_by_label("名称（中文）").fill("北京图数据库技术沙龙")
    page.get_by_label("城市").fill("北京")
    page.locator(".lp-event-booths textarea").fill(
        "- {key: b1, name: 体验区, product_line: graph_database}\n"
    )
    page.get_by_label("现场调研（表单标识，用逗号分隔）").fill("conference_survey")  # the demo's
    page.locator(".lp-save-event").click()
    expect(page.locator(".lp-count-registered")).to_have_text("0")
    site = page.context.new_page()
    site.goto(f"{live_server.base_url}/e/{key}")
    expect(site.locator("h1")).to_have_text("北京图数据库技术沙龙")
    expect(site.locator("#agenda")).to_contain_text("主题演讲")
    expect(site.locator("#surveys a")).to_have_text("大会现场调研")
    assert "event=" + key in (site.locator("#surveys a").get_attribute("href") or "")


def test_an_attendee_answers_the_events_survey_on_a_phone(
    live_server: LiveServer, api: httpx.Client, browser: Browser
) -> None:
    """The microsite's survey button opens the form builder's survey; the answer carries the
    event's id and the accounts report lists it against the attendee."""
    survey = {
        "key": f"survey_{uuid.uuid4().hex[:6]}",
        "name_zh": "现场满意度调研",
        "name_en": "On-site survey",
        "status": "published",
        "min_fill_seconds": 0,
        "submit_zh": "提交调研",
        "success_zh": "感谢您的反馈",
        "fields": [
            {
                "key": "satisfaction",
                "type": "select",
                "label_zh": "满意度",
                "required": True,
                "options": [
                    {"value": "high", "label_zh": "满意"},
                    {"value": "low", "label_zh": "不满意"},
                ],
            },
            {"key": "feedback", "type": "textarea", "label_zh": "建议"},
        ],
    }
    assert api.post("/api/v1/forms", json=survey).status_code == 201
    event = _event(api, surveys=[survey["key"]])

    attendee = _phone(browser)
    attendee.goto(event["url"])
    attendee.get_by_role("link", name="立即报名").click()
    attendee.get_by_label("姓名").fill("林悦")
    attendee.get_by_label("手机号").fill(f"138{random.randrange(10**8):08d}")
    attendee.get_by_label("公司").fill("招商银行")
    attendee.get_by_role("button", name="提交报名").click()
    expect(attendee.locator("#registered h2")).to_have_text("报名成功")

    attendee.goto(event["url"])
    attendee.get_by_role("link", name="现场满意度调研").click()
    attendee.get_by_label("满意度").select_option("high")
    attendee.get_by_label("建议").fill("希望增加图算法专场")
    attendee.get_by_role("button", name="提交调研").click()
    expect(attendee.get_by_text("感谢您的反馈")).to_be_visible()

    def report() -> list[dict[str, Any]]:
        items = api.get(f"/api/v1/events/{event['id']}/accounts-report").json()["items"]
        return [a for line in items for a in line["attendees"] if a["name"] == "林悦"]

    found = _eventually(report, lambda lines: bool(lines) and bool(lines[0]["surveys"]))
    assert found and found[0]["surveys"] == [survey["key"]]
