"""S2 end to end: one link and QR code per community group for an article, a reader scans one
in Debian's chromium (a WeChat browser; the demo has no official account, so no authorisation
is asked), reads the H5 page and leaves; the live server's worker processes the events, and
the content's stats (by group), the reader's new interest and tag, and the console's stats and
coverage pages show it."""

import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import LiveServer
from tests.e2e.test_console_flows import log_in

pytestmark = pytest.mark.e2e

T = TypeVar("T")
BROWSER_CONTEXT = {
    "user_agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.50(0x1800323c) NetType/WIFI"
}
GROUPS = ["wechat-group:finance-01", "wechat-group:retail-02", "wechat-group:energy-03"]


def eventually(probe: Callable[[], T | None], what: str, seconds: float = 60) -> T:
    """``probe()`` once it answers something, polling; fails naming ``what``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"waited {seconds} s for {what}")


@pytest.fixture(scope="module")
def api(live_server: LiveServer) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {live_server.api_key}"}
    with httpx.Client(base_url=live_server.base_url, headers=headers, timeout=30) as client:
        yield client


def test_a_group_qr_leads_to_a_tracked_read_and_the_contents_stats(
    page: Page, live_server: LiveServer, api: httpx.Client
) -> None:
    demo = api.get("/api/v1/content", params={"limit": 1}).json()
    assert demo["total"] >= 60  # the demo pool is there
    made = api.post(
        "/api/v1/content",
        json={
            "title": "图数据库如何识别金融欺诈团伙",
            "type": "product_tech",
            "status": "published",
            "stages": ["awareness", "visit"],
            "topics": ["graph_database"],
            "author": "产品部 陈立",
            "summary": "扫码阅读：三分钟看懂图数据库反欺诈",
            "body": "## 为什么是图\n\n" + "关系是欺诈的线索。\n\n" * 60,
        },
    )
    assert made.status_code == 201, made.text
    item = made.json()
    links = api.post(
        f"/api/v1/content/{item['id']}/links:bulk", json={"channels": GROUPS, "campaign": "s2"}
    )
    assert links.status_code == 201, links.text
    finance = links.json()["items"][0]
    assert api.get(finance["qr_png_url"]).content.startswith(b"\x89PNG")

    page.goto(finance["qr_content"])  # what the group's QR code encodes
    assert urlsplit(page.url).path == urlsplit(item["viewer_url"]).path
    expect(page.locator("#title")).to_have_text("图数据库如何识别金融欺诈团伙")
    expect(page.get_by_text("扫码阅读：三分钟看懂图数据库反欺诈")).to_be_visible()
    page.mouse.wheel(0, 20_000)
    # Read to the end (the viewer records the deepest scroll as the page reports it) ...
    page.wait_for_function(
        "window.scrollY + window.innerHeight >= document.documentElement.scrollHeight - 4"
    )
    # ... and let its scroll handler see that (scroll events run before the next frames).
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    page.goto("about:blank")  # leaving sends the beacon

    def read() -> dict[str, Any] | None:
        stats = api.get(f"/api/v1/content/{item['id']}/stats").json()
        done = stats["readers"] == 1 and stats["read_seconds_avg"] is not None
        return stats if done else None

    stats = eventually(read, "the view and its read time to be processed")
    assert stats["views"] == 1 and stats["scroll_depth_avg"] > 0.9
    assert stats["by_channel"] == [{"key": GROUPS[0], "views": 1, "readers": 1}]
    assert stats["by_link"][0]["key"] == finance["code"]
    [reader] = stats["readers_list"]
    assert (reader["channel"], reader["interest"]) == (GROUPS[0], "new")
    person = reader["person_id"]

    def tagged() -> list[str] | None:
        tags = [t["tag"] for t in api.get(f"/api/v1/people/{person}/tags").json()["items"]]
        return tags if "product_pref:graph_database" in tags else None

    eventually(tagged, "the product preference tag")
    picks = api.get(f"/api/v1/people/{person}/recommendations", params={"limit": 50}).json()
    assert item["key"] not in [p["key"] for p in picks["items"]]  # seen: not recommended

    log_in(page, live_server)
    page.goto(f"{live_server.base_url}/console/content/{item['id']}/stats")
    expect(page.get_by_text(GROUPS[0]).first).to_be_visible()
    expect(page.get_by_text("新兴趣").first).to_be_visible()
    page.goto(f"{live_server.base_url}/console/content/coverage")
    matrix = page.locator(".lp-coverage")
    expect(matrix).to_be_visible()
    assert matrix.locator("td.lp-cell-empty").count() > 0  # where content is missing
    matrix.locator("tr", has_text="关注").locator("td.lp-cell a").first.click()
    expect(page).to_have_url(
        f"{live_server.base_url}/console/content?stage=awareness&type=company_intro"
    )
    expect(page.get_by_text("图灵数智公司介绍")).to_be_visible()
