"""What a marketer must never read on a console page, as a checker of the page's visible text:
raw keys (``snake_case``, ``category:value`` tags), Python reprs, times without their zone,
standard event names in English on a Chinese page, and, in the page's chrome (titles, column
heads, tabs, buttons, field labels, menus), English on a Chinese page or Chinese on an English one.

Code is code: icons' ligatures, ``pre``/``code`` blocks, text areas and elements marked
``lp-code`` (a key, an identifier, a URL shown on purpose) are not read.
"""

import re

from playwright.sync_api import Page

from leadpond.console.pages.words import EVENT_NAMES

# Each visible text node of the page with where it sits: "chrome" (words the console writes:
# titles, column heads, tabs, buttons, labels, menus, notifications) or "data" (a cell, a value).
VISIBLE_TEXT = """() => {
  const skip = 'script, style, svg, pre, code, textarea, .q-icon, .material-icons, .lp-code';
  const chrome = 'th, .q-tab, .q-btn, .q-field__label, .q-item, .q-notification, '
    + '.q-table__bottom, .lp-nav, .q-menu, .q-timeline__title';
  const found = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.textContent.trim();
    const parent = node.parentElement;
    if (!text || !parent || parent.closest(skip)) continue;
    if (!parent.checkVisibility({visibilityProperty: true, opacityProperty: true})) continue;
    const where = parent.closest(chrome) && !parent.closest('.lp-data') ? 'chrome' : 'data';
    found.push([text, where]);
  }
  for (const input of document.querySelectorAll('input[placeholder], textarea[placeholder]')) {
    if (input.checkVisibility()) found.push([input.placeholder, 'chrome']);
  }
  // A picker one can type into shows what is picked as its input's value.
  for (const input of document.querySelectorAll('.q-select input')) {
    if (input.value && input.checkVisibility() && !input.closest('.lp-code')) {
      found.push([input.value, 'data']);
    }
  }
  return found;
}"""

# Proper nouns and standard terms that are the same in every language (protocols, file
# formats, providers' own field names, acronyms of job titles).
PROPER_NOUNS = frozenset(
    re.findall(
        r"\S+",
        """leadpond API REST SDK CSV XLSX YAML JSON HTML PDF SMTP SMS DKIM VERP HMAC SHA PEM URL
        UTC AI IT CIO CTO CEO CFO DBA PMO HR MQL SQL CRM ID OpenID UnionID AppID AppSecret
        AgentId AccessKey Secret Token EncodingAESKey TemplateCode Webhook WeChat WeCom Jinja
        JavaScript Python Markdown Asia Shanghai English QR CNY http https""",
    )
)
SNAKE = re.compile(r"(?<![\w./@:#=-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w.@/:-])")
TAG_KEY = re.compile(r"(?<![\w/.@-])[a-z][a-z_]*:[a-z][a-z_0-9]*(?![\w/.@-])")
REPR = re.compile(r"\[['\"]|\{['\"]|\b(?:None|True|False)\b|datetime\.|UUID\(|<\w+ object")
NAIVE_ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?![\d.:+Z-])")
CJK = re.compile(r"[\u3400-\u9fff]")
ENGLISH_WORD = re.compile(r"[A-Za-z]{2,}")
STANDARD_EVENT = re.compile("|".join(map(re.escape, sorted(EVENT_NAMES, key=len, reverse=True))))
# Raw-JSON error bodies and framework words that must not reach a page.
DEVELOPER_TEXT = re.compile(
    r"Field required|Input should be|not found|Internal Server Error|Traceback"
)


# Examples of what to type, shown in a field's label as they are typed.
EXAMPLES = ("wechat-group:finance-01", "category:value", "value|中文|English", "中文")


def problems(texts: list[list[str]], locale: str) -> list[str]:
    """The strings of a page (``VISIBLE_TEXT``) a marketer should not read in ``locale``."""
    found: list[str] = []
    for shown, where in texts:
        text = shown
        for example in EXAMPLES:
            text = text.replace(example, "")
        for pattern in (SNAKE, TAG_KEY, REPR, NAIVE_ISO, DEVELOPER_TEXT):
            found += [f"{m.group(0)!r} in {text!r}" for m in pattern.finditer(text)]
        if locale == "zh_CN":
            found += [f"{m.group(0)!r} in {text!r}" for m in STANDARD_EVENT.finditer(text)]
            if where == "chrome":
                words = [w for w in ENGLISH_WORD.findall(text) if w not in PROPER_NOUNS]
                found += [f"English {words} in {text!r}"] if words else []
        elif where == "chrome" and CJK.search(text):
            found.append(f"Chinese in {text!r}")
    return found


def read_page(page: Page, locale: str) -> list[str]:
    """The problems of the page as shown now, then of each of its tabs in turn."""
    found = problems(page.evaluate(VISIBLE_TEXT), locale)
    # Inner tabs (a panel's own) come after the outer ones: clicked first, while they show.
    for tab in reversed(page.locator(".q-tabs .q-tab").all()):
        if tab.is_visible():
            tab.click()
            page.wait_for_timeout(300)  # the panel is drawn over the page's socket
            found += problems(page.evaluate(VISIBLE_TEXT), locale)
    return found
