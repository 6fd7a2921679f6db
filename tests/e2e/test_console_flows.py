"""The console as a marketer uses it, in Debian's headless chromium driven by Playwright."""

import contextlib
import threading
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, Response, expect

from tests.e2e.conftest import LiveServer

pytestmark = pytest.mark.e2e

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def shot(page: Page, server: LiveServer, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(SCREENSHOTS / f"{server.backend}-{name}.png"), full_page=True)


def log_in(page: Page, server: LiveServer, password: str | None = None) -> None:
    page.goto(f"{server.base_url}/console/login")
    page.fill("input[name=email]", server.email)
    page.fill("input[name=password]", password or server.password)
    page.click("button[type=submit]")
    # The page is drawn, then its header settles (fonts, the workspace's zone): a click on a
    # navigation icon before that can land on its neighbour.
    page.wait_for_load_state("networkidle")


def test_wrong_password_stays_on_the_login_page(page: Page, live_server: LiveServer) -> None:
    log_in(page, live_server, password="not the password")
    expect(page).to_have_url(f"{live_server.base_url}/console/login?error=1")
    expect(page.get_by_text("邮箱或密码错误")).to_be_visible()


def test_marketer_finds_a_person_opens_360_switches_language(
    page: Page, live_server: LiveServer
) -> None:
    base = live_server.base_url
    log_in(page, live_server)
    expect(page).to_have_url(f"{base}/console/")
    expect(page.get_by_text("生命周期漏斗")).to_be_visible()
    shot(page, live_server, "dashboard")

    page.goto(f"{base}/console/people")
    expect(page.locator(".lp-total")).to_contain_text("共 ")
    first_email = page.locator("table tbody tr td:nth-child(2)").filter(has_text="@").first
    email = first_email.inner_text().strip()
    shot(page, live_server, "people")
    page.locator(".lp-search input").fill(email)
    page.locator(".lp-search input").press("Enter")
    expect(page.locator("table tbody tr")).to_have_count(1)
    page.locator("table tbody tr a").first.click()

    expect(page).to_have_url(f"{base}/console/people/" + page.url.rsplit("/", 1)[-1])
    expect(page.get_by_text("身份标识")).to_be_visible()
    expect(page.get_by_text(email).first).to_be_visible()
    shot(page, live_server, "person")
    page.get_by_role("tab", name="时间线").click()
    expect(page.get_by_text("个事件")).to_be_visible()
    shot(page, live_server, "person-timeline")

    page.locator(".lp-language").click()
    page.get_by_role("option", name="English").click()
    expect(page.get_by_text("Identities")).to_be_visible()
    page.goto(f"{base}/console/accounts")
    expect(page.get_by_role("link", name="Accounts")).to_be_visible()
    page.locator("table tbody tr a").first.click()
    expect(page.get_by_text("Buying committee coverage")).to_be_visible()
    shot(page, live_server, "account")
    page.locator(".lp-language").click()
    page.get_by_role("option", name="中文").click()
    expect(page.get_by_text("采购决策链覆盖率")).to_be_visible()

    page.get_by_role("button", name="退出登录").click()
    expect(page).to_have_url(f"{base}/console/login")
    page.goto(f"{base}/console/people")
    expect(page).to_have_url(f"{base}/console/login")


def test_marketer_builds_a_segment_exports_it_and_checks_the_playbook(
    page: Page, live_server: LiveServer
) -> None:
    base = live_server.base_url
    log_in(page, live_server)
    expect(page).to_have_url(f"{base}/console/")
    page.goto(f"{base}/console/segments/new")
    page.locator(".lp-segment-key input").fill("evaluating")
    page.locator(".lp-segment-name input").fill("评估中的线索")
    page.locator(".lp-add-tag").click()
    page.locator(".lp-atom-value input").fill("need:evaluation")
    expect(page.locator(".lp-yaml textarea")).to_have_value("{tag: 'need:evaluation'}\n")
    expect(page.locator(".lp-preview-count")).to_contain_text("匹配")
    shot(page, live_server, "segment-builder")
    page.locator(".lp-save").click()
    expect(page).to_have_url(f"{base}/console/segments/evaluating")
    expect(page.locator(".lp-members")).to_contain_text("名成员")
    shot(page, live_server, "segment")
    export = page.request.get(f"{base}/api/v1/segments/evaluating/export?format=csv")
    assert export.status == 200
    assert export.headers["content-type"].startswith("text/csv")
    members = page.locator(".lp-members").inner_text()
    count = int("".join(ch for ch in members if ch.isdigit()))
    lines = [line for line in export.text().splitlines() if line.strip()]
    assert len(lines) == count + 1

    page.goto(f"{base}/console/playbook")
    expect(page.get_by_role("tab", name="生命周期阶段")).to_be_visible()
    page.get_by_role("tab", name="YAML").click()
    page.locator(".lp-validate").click()
    expect(page.get_by_text("剧本校验通过")).to_be_visible()
    shot(page, live_server, "playbook")


def test_marketer_edits_a_score_rule_in_the_playbook_form(
    page: Page, live_server: LiveServer
) -> None:
    base = live_server.base_url
    log_in(page, live_server)
    expect(page).to_have_url(f"{base}/console/")
    page.goto(f"{base}/console/playbook")
    page.get_by_role("tab", name="评分模型").click()
    points = page.locator('[data-path="score_models[0].rules[0].points"]')
    expect(points).to_have_value("1")
    points.fill("4")
    page.locator(".lp-validate").click()
    expect(page.get_by_text("剧本校验通过")).to_be_visible()
    shot(page, live_server, "playbook-forms")
    page.locator(".lp-save-playbook").click()
    expect(page.get_by_text("已保存为第").first).to_be_visible()
    page.get_by_role("tab", name="YAML").click()
    yaml_text = page.locator(".lp-playbook-yaml textarea").input_value()
    # Only the edited value changed: the row keeps its {...} layout and the file its comments.
    assert "- {id: event-registration, on: {event: Event Registered}, points: 4}\n" in yaml_text
    assert yaml_text.startswith("# The default B2B playbook")
    shot(page, live_server, "playbook-yaml")
    exported = page.request.get(f"{base}/api/v1/playbook")
    assert exported.status == 200
    assert exported.text() == yaml_text


def test_marketer_builds_an_account_segment_and_sees_its_count(
    page: Page, live_server: LiveServer
) -> None:
    base = live_server.base_url
    log_in(page, live_server)
    expect(page).to_have_url(f"{base}/console/")
    listed = page.request.get(f"{base}/api/v1/accounts?limit=1000").json()["items"]
    industries = Counter(a["industry"] for a in listed if a["industry"])
    industry = industries.most_common(1)[0][0]
    condition = {"account": {"industry": industry}}
    expected = page.request.post(
        f"{base}/api/v1/segments:preview", data={"condition": condition, "level": "account"}
    ).json()["count"]
    assert expected >= 1

    page.goto(f"{base}/console/segments/new")
    page.locator(".lp-segment-key input").fill("industry-accounts")
    page.locator(".lp-subject").get_by_text("客户公司").click()
    expect(page.locator(".lp-account-match")).to_be_visible()
    page.locator(".lp-add-account_field").click()
    page.locator(".lp-atom-value input").fill(industry)
    expect(page.locator(".lp-yaml textarea")).to_have_value(f"account: {{industry: {industry}}}\n")
    expect(page.locator(".lp-preview-count")).to_contain_text(f"匹配 {expected:,} 家公司")
    shot(page, live_server, "account-segment-builder")
    page.locator(".lp-save").click()
    expect(page).to_have_url(f"{base}/console/segments/industry-accounts")
    expect(page.locator(".lp-members")).to_have_text(f"共 {expected:,} 家公司")
    shot(page, live_server, "account-segment")
    export = page.request.get(f"{base}/api/v1/segments/industry-accounts/export?format=csv")
    lines = [line for line in export.text().splitlines() if line.strip()]
    assert len(lines) == expected + 1


ATTACK_PAGE = """<!doctype html><html><body>
<form id="playbook" method="post" enctype="text/plain" action="{base}/api/v1/playbook">
  <input name="version: 1&#10;#" value="replaced">
</form>
<script>
fetch("{base}/api/v1/segments", {{
  method: "POST", mode: "no-cors", credentials: "include",
  headers: {{"Content-Type": "text/plain"}},
  body: JSON.stringify({{key: "forged", name: "forged",
                        condition: {{trait: "title", exists: true}}}})
}}).catch(() => null).finally(() => document.getElementById("playbook").submit());
</script></body></html>"""


@pytest.fixture
def other_origin(live_server: LiveServer) -> Iterator[str]:
    """A page on another port of the same host that forges the logged-in admin's writes."""
    page = ATTACK_PAGE.format(base=live_server.base_url).encode()

    class Attacker(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            with contextlib.suppress(BrokenPipeError):  # chromium may drop a speculative fetch
                self.wfile.write(page)

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Attacker)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def test_a_page_on_another_port_cannot_use_the_admins_session(
    page: Page, live_server: LiveServer, other_origin: str
) -> None:
    base = live_server.base_url
    key = {"Authorization": f"Bearer {live_server.api_key}"}
    playbook_before = httpx.get(f"{base}/api/v1/playbook", headers=key).text
    log_in(page, live_server)
    expect(page).to_have_url(f"{base}/console/")

    forged = page.context.new_page()
    answers: dict[str, Response] = {}
    forged.on(
        "response",
        lambda r: (
            answers.setdefault(r.url.removeprefix(base), r) if r.url.startswith(base) else None
        ),
    )
    forged.goto(other_origin)
    forged.wait_for_url(f"{base}/api/v1/playbook")
    # 403, not 401: the browser did send the admin's cookie, and the guard refused its use.
    for url in ("/api/v1/segments", "/api/v1/playbook"):
        assert answers[url].request.method == "POST"
        assert answers[url].status == 403
    # The fetch's answer is opaque to the page (and its body went with it); the form's is the
    # page now.
    assert answers["/api/v1/playbook"].json()["code"] == "cross_origin_refused"
    forged.close()
    segments = httpx.get(f"{base}/api/v1/segments", headers=key).json()["items"]
    assert "forged" not in {s["key"] for s in segments}
    assert httpx.get(f"{base}/api/v1/playbook", headers=key).text == playbook_before

    # The console itself keeps working: its own page writes, over its socket and over fetch.
    page.locator(".lp-language").click()
    page.get_by_role("option", name="English").click()
    expect(page.get_by_text("Stage funnel")).to_be_visible()
    page.locator(".lp-language").click()
    page.get_by_role("option", name="中文").click()
    expect(page.get_by_text("生命周期漏斗")).to_be_visible()
    status = page.evaluate(
        """async () => (await fetch("/api/v1/segments:preview", {
            method: "POST", headers: {"Content-Type": "application/json"},
            body: JSON.stringify({condition: {trait: "title", exists: true}})})).status"""
    )
    assert status == 200
