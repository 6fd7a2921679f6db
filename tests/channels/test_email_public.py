"""An email arrives personalised; its pixel, click redirect, one-click unsubscribe and
preference centre work through the app."""

import re
import uuid
from email.message import EmailMessage
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from leadpond.channels import events
from leadpond.channels.models import MessageEvent, Subscription
from leadpond.channels.senders.base import Result
from leadpond.channels.senders.email import SmtpSender
from leadpond.db.engine import read_only
from leadpond.kit.scope import in_workspace, owned
from leadpond.workspaces.service import NewWorkspace
from tests.channels.email_fixtures import PUBLIC, Sent, new_message
from tests.channels.smtp_sink import sink

HUMAN = {"User-Agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0 Safari/537.36"}


def _history(sent: Sent, kind: str) -> list[dict[str, Any]]:
    with read_only() as session:
        return list(
            session.scalars(
                select(MessageEvent.detail).where(
                    owned(MessageEvent, sent.workspace_id),
                    MessageEvent.message_id == sent.message_id,
                    MessageEvent.kind == kind,
                )
            )
        )


def _subscription(sent: Sent) -> str | None:
    with read_only() as session:
        return session.scalar(
            in_workspace(Subscription, sent.workspace_id)
            .where(Subscription.person_id == sent.person_id, Subscription.channel == "email")
            .with_only_columns(Subscription.status)
        )


def _received(sent: Sent) -> EmailMessage:
    with sink() as (box, port):
        sender = SmtpSender({"smtp_url": f"smtp://127.0.0.1:{port}", "from": "艾克米 <n@acme.cn>"})
        try:
            assert sender.send([sent.outgoing])[0].result is Result.SENT
        finally:
            sender.close()
    message = box.messages[0].parsed()
    return message


def _path(url: str) -> str:
    assert url.startswith(PUBLIC)
    return url.removeprefix(PUBLIC)


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    """The pipeline events the routes record (through core's ``events.record``)."""
    calls: list[tuple[str, dict[str, Any]]] = []
    original = events.record

    def spy(session: Any, message: Any, name: str, properties: dict[str, Any], at: Any) -> None:
        calls.append((name, properties))
        original(session, message, name, properties, at)

    monkeypatch.setattr(events, "record", spy)
    return calls


def test_an_email_arrives_personalised_and_its_pixel_and_click_work(
    client: TestClient, workspace: NewWorkspace, recorded: list[tuple[str, dict[str, Any]]]
) -> None:
    sent = new_message(workspace.workspace_id)
    message = _received(sent)
    text_part, html_part = message.get_body(("plain",)), message.get_body(("html",))
    assert text_part is not None and html_part is not None
    html, text = html_part.get_content(), text_part.get_content()
    assert "您好 李雷，欢迎了解 韩梅梅科技" in html and "您好 李雷" in text
    assert message["Subject"] == "李雷，欢迎"
    assert 'style="color: #333333;"' in html

    pixel = re.search(r'<img src="([^"]+\.gif)"', html)
    assert pixel is not None
    for _ in range(2):
        answer = client.get(_path(pixel.group(1)), headers=HUMAN)
        assert answer.status_code == 200 and answer.headers["content-type"] == "image/gif"
    assert len(_history(sent, "opened")) == 1  # once per message
    assert _history(sent, "opened")[0]["bot"] is False

    click = re.search(r'class="cta" href="([^"]+)"', html)
    assert click is not None
    answer = client.get(
        _path(click.group(1).replace("&amp;", "&")), headers=HUMAN, follow_redirects=False
    )
    assert answer.status_code == 302
    assert answer.headers["location"] == f"https://acme.cn/demo?who={sent.person_id}&x=1"
    assert _history(sent, "clicked")[0]["url"] == answer.headers["location"]
    assert [name for name, _ in recorded] == ["Email Opened", "Email Clicked"]


def test_a_bad_pixel_token_still_answers_a_gif(client: TestClient, backend: str) -> None:
    answer = client.get(f"/t/o/{uuid.uuid4().hex}.nonsense.gif")
    assert answer.status_code == 200 and answer.content.startswith(b"GIF89a")


def test_a_tampered_click_token_is_refused(client: TestClient, workspace: NewWorkspace) -> None:
    sent = new_message(workspace.workspace_id)
    wrap = sent.outgoing.extra["click_signer"]
    token = wrap({"m": sent.message_id, "u": "https://acme.cn/"})
    head, _, body = token.partition(".")
    forged = f"{head}.{body.replace(body[5], 'A' if body[5] != 'A' else 'B', 1)}"
    answer = client.get(f"/t/c/{forged}", follow_redirects=False)
    assert answer.status_code == 404 and answer.json()["code"] == "link_not_found"
    # An open token is not a click token, even for the same message.
    other = sent.outgoing.extra["open_pixel_url"].rsplit("/", 1)[1].removesuffix(".gif")
    assert client.get(f"/t/c/{other}", follow_redirects=False).status_code == 404


def test_scanners_and_apple_privacy_proxy_are_flagged(
    client: TestClient, workspace: NewWorkspace
) -> None:
    sent = new_message(workspace.workspace_id)
    pixel = _path(sent.outgoing.extra["open_pixel_url"])
    client.get(pixel, headers={"User-Agent": "Mozilla/5.0"})  # Apple Mail Privacy Protection
    client.get(pixel, headers={"User-Agent": "Mozilla/5.0"})
    client.get(pixel, headers=HUMAN)
    opens = _history(sent, "opened")
    assert [o["bot"] for o in opens] == [True, False]
    assert opens[0]["bot_reason"] == "apple_privacy_proxy"
    link = sent.outgoing.extra["click_signer"]({"m": sent.message_id, "u": "https://acme.cn/x"})
    client.get(
        f"/t/c/{link}", headers={"User-Agent": "Mimecast Security Scanner"}, follow_redirects=False
    )
    assert _history(sent, "clicked")[0]["bot_reason"] == "scanner_agent"


def test_a_click_right_after_the_send_is_flagged(
    client: TestClient, workspace: NewWorkspace
) -> None:
    sent = new_message(workspace.workspace_id, sent=False)
    with read_only() as session:
        assert session is not None
    from leadpond.channels.models import Message
    from leadpond.db.engine import unit_of_work
    from leadpond.kit.clock import utcnow

    with unit_of_work() as session:
        message = session.get(Message, sent.message_id)
        assert message is not None
        message.sent_at = utcnow()
    link = sent.outgoing.extra["click_signer"]({"m": sent.message_id, "u": "https://acme.cn/x"})
    client.get(f"/t/c/{link}", headers=HUMAN, follow_redirects=False)
    assert _history(sent, "clicked")[0]["bot_reason"] == "too_soon_after_send"


def test_get_shows_the_button_and_one_click_post_unsubscribes(
    client: TestClient, workspace: NewWorkspace, recorded: list[tuple[str, dict[str, Any]]]
) -> None:
    sent = new_message(workspace.workspace_id)
    path = _path(sent.outgoing.extra["unsubscribe_url"])
    page = client.get(path, headers={"Accept-Language": "en-US,en;q=0.9"})
    assert page.status_code == 200 and "Unsubscribe" in page.text and 'method="post"' in page.text
    assert client.get(path + "?lang=zh").text.count("退订") >= 1
    assert _subscription(sent) is None  # a GET never unsubscribes
    answer = client.post(
        path,
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )
    assert answer.status_code == 200
    assert _subscription(sent) == "unsubscribed"
    assert _history(sent, "unsubscribed")[0]["source"] == "one_click"
    assert ("Email Unsubscribed", {"source": "one_click"}) in recorded


def test_one_click_as_multipart_from_another_origin_with_a_console_cookie(
    client: TestClient, workspace: NewWorkspace
) -> None:
    sent = new_message(workspace.workspace_id)
    client.cookies.set("leadpond_session", "whatever")
    answer = client.post(
        _path(sent.outgoing.extra["unsubscribe_url"]),
        files={"List-Unsubscribe": (None, "One-Click")},
        headers={"Origin": "https://mail.example.com", "Sec-Fetch-Site": "cross-site"},
        follow_redirects=False,
    )
    client.cookies.clear()
    assert answer.status_code == 200
    assert _subscription(sent) == "unsubscribed"


def test_the_preference_centre_lists_and_changes_channels(
    client: TestClient, workspace: NewWorkspace
) -> None:
    sent = new_message(workspace.workspace_id)
    path = _path(sent.outgoing.extra["unsubscribe_url"]) + "/preferences"
    page = client.get(path + "?lang=en")
    assert page.status_code == 200 and "Email" in page.text and "checked" in page.text
    saved = client.post(path + "?lang=en", data={})  # nothing ticked: opt out of email
    assert saved.status_code == 200 and "Saved." in saved.text
    assert _subscription(sent) == "unsubscribed"
    client.post(path, data={"channel": ["email"]})
    assert _subscription(sent) == "subscribed"


def test_a_bad_unsubscribe_token_is_a_page_not_found(client: TestClient, backend: str) -> None:
    answer = client.post(f"/u/{uuid.uuid4().hex}.forged", content=b"List-Unsubscribe=One-Click")
    assert answer.status_code == 404
    assert client.get(f"/u/{uuid.uuid4().hex}.forged").status_code == 404
