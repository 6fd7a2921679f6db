"""Issue #20: the playbook's stage, tag and score names in the console's language — the default
playbook names each in Chinese and English; the dashboard, the directory and the person page
show the viewer's."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import LiveServer
from tests.e2e.test_console_flows import log_in

pytestmark = pytest.mark.e2e

# The default playbook's names the demo world shows, by console locale.
SHOWN = {
    "en": {
        "stage": "Opportunity",
        "tag": re.compile(r"^(Industry|Product|Product-line|Role|Need|Value)[\w -]*: \S"),
        "score": "Engagement",
    },
    "zh_CN": {
        "stage": "商机",
        "tag": re.compile(r"^(行业|产品|角色|需求|价值)[\u4e00-\u9fff]*: \S"),
        "score": "活跃度",
    },
}
NOT_SHOWN = {
    "en": ("商机", "活跃度", "产品偏好", "行业偏好"),
    "zh_CN": ("Opportunity", "Engagement"),
}
# Every chart's category axis, as the page's ECharts instances hold it (charts draw on canvas).
CHART_AXES = """() => [...document.querySelectorAll('[id^=c]')]
    .map(el => getElement(el))
    .filter(vue => vue && vue.chart)
    .flatMap(vue => (vue.chart.getOption().yAxis || []).flatMap(axis => axis.data || []))"""


def _speak(page: Page, server: LiveServer, locale: str) -> None:
    answer = page.request.put(f"{server.base_url}/api/v1/auth/locale", data={"locale": locale})
    assert answer.ok, answer.text()


def _no_other_language(text: str, locale: str) -> None:
    assert not [name for name in NOT_SHOWN[locale] if name in text], text[:2000]


@pytest.mark.parametrize("locale", ["en", "zh_CN"])
def test_the_playbooks_names_follow_the_console_language(
    page: Page, live_server: LiveServer, locale: str
) -> None:
    base, shown = live_server.base_url, SHOWN[locale]
    log_in(page, live_server)
    _speak(page, live_server, locale)
    try:
        page.goto(f"{base}/console/")
        conversions = page.get_by_text(re.compile(rf"^{shown['stage']}: (\d+%|–)$"))
        expect(conversions).to_be_visible()
        axes: list[str] = page.evaluate(CHART_AXES)
        assert shown["stage"] in axes
        assert [a for a in axes if shown["tag"].match(a)], axes
        _no_other_language(" ".join(axes), locale)
        expect(page.get_by_text(re.compile(rf"^{shown['score']}$")).first).to_be_visible()

        page.goto(f"{base}/console/people")
        expect(page.locator("table tbody tr").first).to_be_visible()
        cells = page.locator("table tbody td").all_inner_texts()
        tags = [t.strip() for cell in cells for t in cell.split(", ")]
        assert [t for t in tags if shown["tag"].match(t)], cells
        _no_other_language(page.locator("table").inner_text(), locale)

        found = page.request.get(
            f"{base}/api/v1/search/people", params={"stage": "opportunity", "limit": 1}
        ).json()["items"]
        assert found, "the demo world has someone at the opportunity stage"
        page.goto(f"{base}/console/people/{found[0]['id']}")
        summary = page.get_by_text(re.compile(r"^(阶段|Stage)[:：] ")).first
        expect(summary).to_have_text(re.compile(rf"{shown['stage']}$"))
        expect(page.get_by_text(re.compile(rf"^{shown['score']}: \d")).first).to_be_visible()
        _no_other_language(page.locator("main, body").first.inner_text(), locale)
    finally:
        _speak(page, live_server, "zh_CN")
