"""WeChat QR codes as a marketer uses them, in Debian's headless chromium against the demo
server: make a code for a trade-show booth on the acquisition page (the server calls a local
fake of WeChat's API), a visitor follows the account through it (WeChat's signed callback),
and the page counts the scan and the follow while the follower's page shows the booth as the
channel they came through."""

import re
import subprocess
import time
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.channels.fakes import wechat
from tests.channels.fakes.server import serving
from tests.channels.fakes.wechat import FakeWeChat
from tests.channels.test_wechat_callback import AES_KEY, SERVER_TOKEN, wechat_signature
from tests.e2e.conftest import LEADPOND, LiveServer
from tests.e2e.test_console_flows import log_in, shot

pytestmark = pytest.mark.e2e
WECHAT_PHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.50"
)


def follow(callback: str, openid: str, scene: str) -> None:
    """WeChat posting a follow through the code (plaintext, signed with the server token)."""
    timestamp, nonce = str(int(time.time())), "271828"
    xml = (
        "<xml><ToUserName><![CDATA[gh_7f083739789a]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName><CreateTime>{timestamp}</CreateTime>"
        "<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe]]></Event>"
        f"<EventKey><![CDATA[qrscene_{scene}]]></EventKey><Ticket><![CDATA[T]]></Ticket></xml>"
    )
    query = {
        "signature": wechat_signature(SERVER_TOKEN, timestamp, nonce),
        "timestamp": timestamp,
        "nonce": nonce,
        "openid": openid,
    }
    answer = httpx.post(callback, params=query, content=xml.encode(), timeout=10)
    assert (answer.status_code, answer.text) == (200, "success")


def processed_follower(server: LiveServer, openid: str) -> dict[str, Any]:
    """The follower once the server's worker has processed the follow."""
    key = {"Authorization": f"Bearer {server.api_key}"}
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = httpx.get(
            f"{server.base_url}/api/v1/people", params={"anonymous_id": openid}, headers=key
        ).json()["items"]
        if found and found[0]["first_touch"]:
            return found[0]  # type: ignore[no-any-return]
        time.sleep(0.3)
    raise AssertionError("the follow was not processed")


def test_a_booth_qr_code_brings_a_follower_credited_to_the_booth(
    page: Page, live_server: LiveServer
) -> None:
    fake = FakeWeChat()
    with serving(fake.app) as endpoint:
        configured = subprocess.run(
            [
                LEADPOND,
                "channel",
                "set",
                "wechat",
                "--workspace",
                "Demo",
                "--app-id",
                wechat.APP_ID,
                "--app-secret",
                wechat.APP_SECRET,
                "--endpoint",
                endpoint,
                "--server-token",
                SERVER_TOKEN,
                "--encoding-aes-key",
                AES_KEY,
            ],
            env=live_server.env,
            check=True,
            capture_output=True,
            text=True,
        )
        found = re.search(r"https?://\S+/hooks/wechat/\S+", configured.stdout)
        assert found, configured.stdout
        callback = f"{live_server.base_url}{urlsplit(found.group(0)).path}"

        log_in(page, live_server)
        page.get_by_role("link", name="渠道码").click()
        page.locator(".lp-tab-qr").click()
        expect(page.locator(".lp-qr-budget")).to_contain_text("永久二维码")
        page.locator(".lp-qr-channel input").fill("expo-booth-7")
        page.locator(".lp-qr-campaign input").fill("graph-expo")
        page.locator(".lp-qr-make").click()
        expect(page.locator(".lp-qr-row-channel").first).to_have_text("expo-booth-7")
        [asked] = fake.qrcodes
        assert asked["action_name"] == "QR_STR_SCENE" and asked["expire_seconds"] == 30 * 86400
        scene = asked["action_info"]["scene"]["scene_str"]

        follow(callback, "o-expo-visitor", scene)
        person = processed_follower(live_server, "o-expo-visitor")
        assert (person["first_touch"]["channel"], person["first_channel"]) == (
            "expo-booth-7",
            "wechat",
        )
        page.reload()
        page.locator(".lp-tab-qr").click()
        expect(page.locator(".lp-qr-scans").first).to_have_text("扫码 1 次")
        expect(page.locator(".lp-qr-follows").first).to_have_text("关注 1 人")
        with page.expect_download() as download:
            page.locator(".lp-qr-download").first.click()
        assert download.value.suggested_filename == f"wechat-{scene}.png"
        shot(page, live_server, "acquisition-codes")

        page.goto(f"{live_server.base_url}/console/people/{person['id']}")
        expect(page.locator(".lp-first-touch-group")).to_have_text("微信")
        expect(page.locator(".lp-first-touch")).to_contain_text("expo-booth-7")
        expect(page.locator(".lp-first-touch")).to_contain_text("graph-expo")
        shot(page, live_server, "person-first-touch")


def test_tracking_links_per_group_count_the_clicks_they_bring(
    page: Page, live_server: LiveServer
) -> None:
    """S2: one link per community group for an article; a member opens one in their own
    browser; the marketer sees the click on that group's row, and downloads its QR code."""
    base = live_server.base_url
    log_in(page, live_server)
    page.get_by_role("link", name="渠道码").click()
    page.locator(".lp-link-url input").fill(f"{base}/console/login")
    page.locator(".lp-link-channels input").fill("wechat-group-a, wechat-group-b")
    page.locator(".lp-link-campaign input").fill("graph-launch")
    page.locator(".lp-link-make").click()
    table = page.locator(".lp-links-table")
    row = table.locator("tbody tr", has_text="wechat-group-a")
    expect(row).to_have_count(1)
    expect(table.locator("tbody tr", has_text="wechat-group-b")).to_have_count(1)
    short = urlsplit(row.locator("td").nth(2).inner_text().strip())

    # A group member's phone (headless chromium's own user agent is counted as a bot's).
    member = page.context.browser.new_context(  # type: ignore[union-attr]
        user_agent=WECHAT_PHONE, viewport={"width": 390, "height": 844}
    )
    visitor = member.new_page()
    visitor.goto(f"{base}{short.path}")
    expect(visitor).to_have_url(re.compile(r"/console/login\?.*utm_source=wechat-group-a"))
    visitor.goto(f"{base}{short.path}")  # the same browser again: one visitor
    member.close()

    page.reload()
    row = page.locator(".lp-links-table tbody tr", has_text="wechat-group-a")
    cells = row.locator("td")
    expect(cells.nth(3)).to_have_text("2")  # clicks
    expect(cells.nth(5)).to_have_text("1")  # visitors
    other = page.locator(".lp-links-table tbody tr", has_text="wechat-group-b").locator("td")
    expect(other.nth(3)).to_have_text("0")
    qr = row.locator("a").get_attribute("href")
    assert qr is not None and qr.endswith("/qr.png")
    answer = page.request.get(f"{base}{qr}")
    assert answer.status == 200 and answer.headers["content-type"] == "image/png"
    shot(page, live_server, "acquisition-links")
