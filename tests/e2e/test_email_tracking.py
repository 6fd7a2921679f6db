"""A tracked email end to end: the live server (demo world, its worker delivering) sends through
a real SMTP server, and its reader opens, clicks and unsubscribes in Debian's chromium.

The SMTP sink runs in this process (``tests/channels/smtp_sink.py``: aiosmtpd on a free port,
keeping what it accepts) so the test can read the message the server sent.
"""

import re
import time
import uuid
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from typing import Any, TypeVar

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.channels.smtp_sink import Mailbox, sink
from tests.e2e.conftest import LiveServer

pytestmark = pytest.mark.e2e

T = TypeVar("T")
# A reader's browser, not a link scanner (whose agents are flagged as bots).
READER_AGENT = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0 Safari/537.36"
)
BROWSER_CONTEXT = {"user_agent": READER_AGENT}
TEMPLATE = {
    "channel": "email",
    "purpose": "marketing",
    "subject": "{{ person.traits.name }}，邀请您参加数据治理研讨会",
    "body": (
        "<p>{{ person.traits.name }}，您好：</p>"
        '<p><a id="agenda" href="{agenda}">查看议程</a></p>'
        '<p><a href="{{ unsubscribe_url }}">退订</a></p>'
    ),
}


@pytest.fixture(scope="module")
def mailbox(live_server: LiveServer) -> Iterator[tuple[Mailbox, int]]:
    """A sink per live server: both backends' demo worlds have the same people."""
    with sink() as running:
        yield running


@pytest.fixture(scope="module")
def api(live_server: LiveServer, mailbox: tuple[Mailbox, int]) -> Iterator[httpx.Client]:
    """The demo workspace's API, its email channel pointed at the sink, one template saved."""
    headers = {"Authorization": f"Bearer {live_server.api_key}"}
    with httpx.Client(base_url=live_server.base_url, headers=headers, timeout=30) as client:
        smtp = {"smtp_url": f"smtp://127.0.0.1:{mailbox[1]}", "from": "线索池 <hi@leadpond.cn>"}
        configured = client.put(
            "/api/v1/channels/email", json={"provider": "smtp", "settings": smtp}
        )
        assert configured.status_code == 200, configured.text
        agenda = f"{live_server.base_url}/healthz?utm_source=email&utm_campaign=seminar"
        body = {**TEMPLATE, "key": "seminar", "body": TEMPLATE["body"].replace("{agenda}", agenda)}
        saved = client.post("/api/v1/templates", json=body)
        assert saved.status_code == 201, saved.text
        yield client


def eventually(probe: Callable[[], T | None], what: str, seconds: float = 30) -> T:
    """``probe()`` once it answers something, polling; fails naming ``what``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"waited {seconds} s for {what}")


def readers(api: httpx.Client, count: int) -> list[dict[str, Any]]:
    """Demo people with a name and an address the sink accepts, not opted out."""
    found = api.get("/api/v1/people", params={"limit": 300}).json()["items"]
    fit = [
        p
        for p in found
        if p["traits"].get("name")
        and "@" in str(p["traits"].get("email", ""))
        and not str(p["traits"]["email"]).lower().startswith(("hard", "soft"))
        and not any(p["traits"].get(t) for t in ("unsubscribed", "do_not_contact"))
    ]
    assert len(fit) >= count, "the demo world has too few people with a name and an email"
    return fit[:count]


def send(api: httpx.Client, person: dict[str, Any]) -> int:
    body = {
        "channel": "email",
        "template": "seminar",
        "person_id": person["id"],
        "idempotency_key": f"e2e-{uuid.uuid4().hex}",
    }
    queued = api.post("/api/v1/sends", json=body)
    assert queued.status_code == 202, queued.text
    return int(queued.json()["message_id"])


def received(mailbox: Mailbox, address: str) -> EmailMessage:
    def probe() -> EmailMessage | None:
        for message in list(mailbox.messages):
            if address.strip().lower() in (r.lower() for r in message.recipients):
                return message.parsed()
        return None

    return eventually(probe, f"the email to {address}")


def history(api: httpx.Client, message_id: int) -> list[dict[str, Any]]:
    found = api.get(f"/api/v1/messages/{message_id}")
    assert found.status_code == 200, found.text
    return list(found.json()["history"])


def history_has(api: httpx.Client, message_id: int, kind: str) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        return next((h for h in history(api, message_id) if h["kind"] == kind), None)

    return eventually(probe, f"{kind!r} in message {message_id}'s history")


def timeline(api: httpx.Client, person_id: int) -> set[str]:
    found = api.get(f"/api/v1/people/{person_id}/timeline").json()["items"]
    return {entry["event"] for entry in found}


def html_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())


def test_a_reader_opens_clicks_and_unsubscribes_in_chromium(
    api: httpx.Client, mailbox: tuple[Mailbox, int], live_server: LiveServer, page: Page
) -> None:
    base = live_server.base_url
    [reader] = readers(api, 1)
    message_id = send(api, reader)
    email = received(mailbox[0], reader["traits"]["email"])
    html = html_of(email)
    assert reader["traits"]["name"] in str(email["Subject"])
    assert f"{reader['traits']['name']}，您好" in html
    assert f"{base}/t/o/" in html and f'href="{base}/t/c/' in html

    page.set_content(html)  # loads the open pixel, as a mail client showing images does
    history_has(api, message_id, "opened")
    with page.expect_navigation():
        page.click("#agenda")
    assert page.url == f"{base}/healthz?utm_source=email&utm_campaign=seminar"
    clicked = history_has(api, message_id, "clicked")
    assert clicked["detail"]["url"] == page.url

    unsubscribe = re.search(r'href="([^"]*/u/[^"]+)"', html)
    assert unsubscribe is not None
    page.goto(unsubscribe.group(1))
    expect(page.get_by_role("button", name="退订")).to_be_visible()
    page.get_by_text("管理订阅偏好").click()
    expect(page.locator("#c-email")).to_be_checked()  # looking never unsubscribes
    page.go_back()
    page.get_by_role("button", name="退订").click()
    expect(page.get_by_role("heading", name="已退订")).to_be_visible()
    page.get_by_text("管理订阅偏好").click()
    expect(page.locator("#c-email")).not_to_be_checked()
    assert history_has(api, message_id, "unsubscribed")["detail"]["source"] == "unsubscribe_page"

    assert {"Email Sent", "Email Opened", "Email Clicked", "Email Unsubscribed"} <= timeline(
        api, reader["id"]
    )
    # The opt-out holds: the next marketing email to them is not sent.
    again = send(api, reader)
    skipped = history_has(api, again, "skipped")
    assert skipped["detail"]["reason"] == "unsubscribed"


def test_one_click_unsubscribe_from_the_mail_client(
    api: httpx.Client, mailbox: tuple[Mailbox, int]
) -> None:
    reader = readers(api, 2)[1]
    message_id = send(api, reader)
    email = received(mailbox[0], reader["traits"]["email"])
    assert email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    target = re.search(r"<(https?://[^>]+)>", str(email["List-Unsubscribe"]))
    assert target is not None
    # RFC 8058: the client POSTs the body below to the https URL, with no cookie and no page.
    answer = httpx.post(target.group(1), data={"List-Unsubscribe": "One-Click"}, timeout=30)
    assert answer.status_code == 200
    assert history_has(api, message_id, "unsubscribed")["detail"]["source"] == "one_click"
    assert "Email Unsubscribed" in timeline(api, reader["id"])
