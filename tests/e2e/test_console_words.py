"""Issue #20: the console speaks the marketer's language on every page and tab. One sweep per
database keeps the suite lean: Chinese on SQLite, English on PostgreSQL, every page (and tab)
at 1400×900, the header and its menu at 390×844; ``console_words`` says what must not show."""

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import LiveServer
from tests.e2e.console_words import VISIBLE_TEXT, problems, read_page
from tests.e2e.test_console_flows import log_in

pytestmark = pytest.mark.e2e

LOCALE = {"sqlite": "zh_CN", "postgresql": "en"}
# The default playbook's visit and opportunity stages, as each language names them.
STAGE_NAMES = {"zh_CN": ("访问", "商机"), "en": ("Visited", "Opportunity")}
DESKTOP = {"width": 1400, "height": 900}
PHONE = {"width": 390, "height": 844}
# The event atom's picker: Demo Requested as saved, White paper downloaded as picked.
EVENT_SHOWN = {
    "zh_CN": ("申请演示", "下载白皮书"),
    "en": ("Demo requested", "White paper downloaded"),
}
WRONG_CONDITION = {
    "zh_CN": "条件有误。（第 3 行）不认识的条件：colour（请检查拼写）",
    "en": "The condition is not valid. (line 3) unknown condition colour (check the spelling)",
}
# Pages with their own path; the detail pages are found through their lists.
PAGES = (
    "/",
    "/people",
    "/accounts",
    "/duplicates",
    "/segments",
    "/segments/new",
    "/playbook",
    "/playbook/history",
    "/channels",
    "/templates",
    "/acquisition",
    "/journeys",
    "/journeys/new",
    "/events",
    "/settings",
    "/import",
    "/forms",
    "/content",
    "/content/coverage",
    "/content/authors",
)
DETAILS = {
    "/accounts": r"/console/accounts/\d+",
    "/segments": r"/console/segments/(?!new$)[\w-]+",
    "/templates": r"/console/templates/(?!new$)[\w-]+",
    "/journeys": r"/console/journeys/(?!new$)[\w-]+",
    "/events": r"/console/events/\d+",
    "/forms": r"/console/forms/(?!new$)[\w-]+",
    "/content": r"/console/content/\d+",
}


def _details(page: Page, listing: str) -> list[str]:
    """The first detail page linked from a list page (and a journey's builder, an item's
    statistics)."""
    hrefs = page.locator("a[href]").evaluate_all("found => found.map(a => a.getAttribute('href'))")
    first = next(h for h in hrefs if re.fullmatch(DETAILS[listing], h or ""))
    extra = {"/journeys": "/edit", "/content": "/stats"}.get(listing)
    return [first, first + extra] if extra else [first]


def _open(page: Page, url: str) -> None:
    """Go to a console page and wait for its socket (what a page adds once connected follows
    within moments): "networkidle" never comes when a loaded machine keeps the socket on
    long polling."""
    page.goto(url)
    page.wait_for_function("() => window.did_handshake === true")
    page.wait_for_timeout(500)


def _busiest_person(page: Page, server: LiveServer) -> str:
    key = {"Authorization": f"Bearer {server.api_key}"}
    found = page.request.get(
        f"{server.base_url}/api/v1/search/people?known=true&sort=-events&limit=1", headers=key
    ).json()
    return f"/console/people/{found['items'][0]['id']}"


def test_every_page_and_tab_speaks_the_viewers_language(
    browser: Browser, live_server: LiveServer
) -> None:
    base, locale = live_server.base_url, LOCALE[live_server.backend]
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(30_000)
    log_in(page, live_server)
    assert page.request.put(f"{base}/api/v1/auth/locale", data={"locale": locale}).ok
    found: dict[str, list[str]] = {}
    try:
        details = [_busiest_person(page, live_server)]
        for path in PAGES:
            _open(page, f"{base}/console{path}")
            found[path] = read_page(page, locale)
            if path in DETAILS:
                details += _details(page, path)
        for path in details:
            _open(page, f"{base}{path}")
            found[path] = read_page(page, locale)
            if path.endswith("/edit"):  # the journey builder's event picker, opened
                page.locator(".lp-trigger-event").click()
                page.locator(".q-menu .q-item").first.wait_for()
                found[f"{path} (events)"] = problems(page.evaluate(VISIBLE_TEXT), locale)
                page.keyboard.press("Escape")

        # The condition builder's stage atom shows the playbook's names and keeps its keys.
        page.goto(f"{base}/console/segments/new")
        page.locator(".lp-yaml textarea").fill("stage: {in: [visit, opportunity]}")
        visit, opportunity = STAGE_NAMES[locale]
        expect(page.locator(".lp-atom-value input")).to_have_value(
            f"{visit}, {opportunity}", timeout=20_000
        )
        page.locator(".lp-atom-value input").fill(opportunity)
        expect(page.locator(".lp-yaml textarea")).to_have_value(re.compile(r"\[opportunity\]"))

        # The event atom picks events by name, shows a saved one by its name, keeps one typed.
        yaml = page.locator(".lp-yaml textarea")
        yaml.fill("{event: Demo Requested, count: {gte: 1}}")
        # The atoms are redrawn by the server after the YAML changes: seconds on a loaded machine.
        expect(page.locator(".lp-atom-event input")).to_have_value(
            EVENT_SHOWN[locale][0], timeout=20_000
        )
        found["/segments/new (event atom)"] = problems(page.evaluate(VISIBLE_TEXT), locale)
        page.locator(".lp-atom-event").click()
        page.locator(".q-menu .q-item").first.wait_for()
        found["/segments/new (events)"] = problems(page.evaluate(VISIBLE_TEXT), locale)
        page.locator(".q-menu .q-item", has_text=EVENT_SHOWN[locale][1]).first.click()
        expect(yaml).to_have_value(re.compile(r"event: Whitepaper Downloaded"), timeout=20_000)
        page.locator(".lp-atom-event input").fill("Quote Sent")
        page.keyboard.press("Enter")
        expect(yaml).to_have_value(re.compile(r"event: Quote Sent"), timeout=20_000)

        # A condition the parser refuses is said in words, with its line.
        yaml.fill("all:\n  - {tag: vip}\n  - {colour: red}\n")
        expect(page.locator(".lp-preview-count")).to_have_text(
            WRONG_CONDITION[locale], timeout=20_000
        )
        found["/segments/new (wrong condition)"] = problems(page.evaluate(VISIBLE_TEXT), locale)

        # A phone: the header's menu.
        page.set_viewport_size(PHONE)
        _open(page, f"{base}/console/")
        page.locator(".lp-nav-menu").click()
        page.locator(".q-menu .q-item").first.wait_for()
        found["/ (phone menu)"] = problems(page.evaluate(VISIBLE_TEXT), locale)
    finally:
        page.request.put(f"{base}/api/v1/auth/locale", data={"locale": "zh_CN"})
        context.close()
    unsaid = {path: sorted(set(said)) for path, said in found.items() if said}
    assert unsaid == {}, "\n".join(f"{path}: {said}" for path, said in unsaid.items())
    assert len(found) >= len(PAGES) + len(DETAILS) + 4
