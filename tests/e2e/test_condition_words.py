"""Issue #20: a condition typed wrong in the playbook's form is refused with its reason in the
viewer's language (the condition parser's English is the REST API's alone)."""

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import LiveServer
from tests.e2e.test_console_flows import log_in

pytestmark = pytest.mark.e2e

# A stage named by its display name, and a pattern RE2 cannot read, in a persona's condition.
BY_NAME, BAD_PATTERN = "{stage: 商机}", "{trait: title, matches: '(CIO'}"
SAID = {
    "zh_CN": {
        "tab": "用户画像",
        BY_NAME: "阶段请用其标识表示：'商机' 请写成 'opportunity'",
        BAD_PATTERN: "正则表达式无效：not a valid regular expression",
    },
    "en": {
        "tab": "Personas",
        BY_NAME: "stages are named by their key: use 'opportunity' for '商机'",
        BAD_PATTERN: "the pattern cannot be used: not a valid regular expression",
    },
}


def _refused(page: Page, condition: str, said: str) -> str:
    """The problem the playbook page shows once ``condition`` is a persona's and the playbook
    is validated (it says ``said``)."""
    page.locator('[data-path="personas[1].if"]').fill(condition)
    page.locator(".lp-validate").click()
    problem = page.locator(".lp-problem").first
    expect(problem).to_contain_text(said)
    return problem.inner_text()


def test_a_wrong_condition_in_the_playbook_form_is_refused_in_the_viewers_language(
    page: Page, live_server: LiveServer
) -> None:
    base = live_server.base_url
    log_in(page, live_server)
    try:
        for locale, said in SAID.items():
            answer = page.request.put(f"{base}/api/v1/auth/locale", data={"locale": locale})
            assert answer.ok, answer.text()
            page.goto(f"{base}/console/playbook")
            page.get_by_role("tab", name=said["tab"]).click()
            for condition in (BY_NAME, BAD_PATTERN):
                shown = _refused(page, condition, said[condition])
                if locale == "zh_CN":  # the API's English words are not shown
                    assert "stages are" not in shown and "pattern cannot" not in shown, shown
    finally:
        page.request.put(f"{base}/api/v1/auth/locale", data={"locale": "zh_CN"})
