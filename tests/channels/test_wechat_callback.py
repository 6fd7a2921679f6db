"""The official account's server callback over HTTP, on both databases: WeChat's address check,
TEMPLATESENDJOBFINISH in plaintext and safe mode settling a template message that really went
out (through the outbox to the local fake WeChat API), and every forgery refused with nothing
changed. The test plays WeChat: it signs and encrypts as reference/channels.md §1 documents,
with its own code, not the server's."""

import base64
import hashlib
import os
import struct
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from leadpond.channels.deliverer import Deliverer
from leadpond.channels.models import Message
from leadpond.channels.wechat_callback import REPLAY_WINDOW_S, wechat_callback_url
from leadpond.cli import app as cli
from leadpond.db.engine import unit_of_work
from leadpond.workspaces.service import NewWorkspace
from leadpond.workspaces.signing import sign
from tests.channels.conftest import message, person, send, set_channel
from tests.channels.fakes import wechat
from tests.channels.fakes.server import serving
from tests.channels.fakes.wechat import FakeWeChat
from tests.conftest import Tracker

SERVER_TOKEN = "leadpondCallback2025"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
OLD_AES_KEY = "ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210zyxwvut"


# WeChat's side of the protocol, written from the documentation.
def wechat_signature(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def wechat_encrypt(xml: str, key: str = AES_KEY, app_id: str = wechat.APP_ID) -> str:
    secret = base64.b64decode(key + "=")
    message = xml.encode()
    plain = os.urandom(16) + struct.pack(">I", len(message)) + message + app_id.encode()
    pad = 32 - len(plain) % 32
    plain += bytes([pad]) * pad
    encryptor = Cipher(algorithms.AES(secret), modes.CBC(secret[:16])).encryptor()
    return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()


def job_finished(msg_id: str, status: str, openid: str = "o-follower-1") -> str:
    return (
        "<xml><ToUserName><![CDATA[gh_7f083739789a]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime>"
        "<MsgType><![CDATA[event]]></MsgType>"
        "<Event><![CDATA[TEMPLATESENDJOBFINISH]]></Event>"
        f"<MsgID>{msg_id}</MsgID><Status><![CDATA[{status}]]></Status></xml>"
    )


class WeChat:
    """Posts to one workspace's callback as WeChat would."""

    def __init__(self, client: TestClient, path: str) -> None:
        self.client, self.path = client, path

    def query(self, at: int | None = None, **changes: str) -> dict[str, str]:
        timestamp, nonce = str(at if at is not None else int(time.time())), "1439470329"
        signed = {"timestamp": timestamp, "nonce": nonce, "openid": "o-follower-1"}
        signed["signature"] = wechat_signature(SERVER_TOKEN, timestamp, nonce)
        return {**signed, **changes}

    def post_plain(self, xml: str, **query: Any) -> Any:
        return self.client.post(
            self.path, params=self.query(**query), content=xml.encode(), headers=XML
        )

    def post_safe(
        self, xml: str, key: str = AES_KEY, app_id: str = wechat.APP_ID, **query: Any
    ) -> Any:
        params = self.query(**query)
        encrypted = wechat_encrypt(xml, key, app_id)
        params["encrypt_type"] = "aes"
        params.setdefault(
            "msg_signature",
            wechat_signature(SERVER_TOKEN, params["timestamp"], params["nonce"], encrypted),
        )
        body = (
            "<xml><ToUserName><![CDATA[gh_7f083739789a]]></ToUserName>"
            f"<Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
        )
        return self.client.post(self.path, params=params, content=body.encode(), headers=XML)


XML = {"Content-Type": "text/xml"}


@pytest.fixture
def fake() -> Iterator[str]:
    provider = FakeWeChat()
    with serving(provider.app) as url:
        yield url


@pytest.fixture
def account(api: TestClient, workspace: NewWorkspace, fake: str) -> WeChat:
    settings = {
        "app_id": wechat.APP_ID,
        "app_secret": wechat.APP_SECRET,
        "endpoint": fake,
        "server_token": SERVER_TOKEN,
        "encoding_aes_key": AES_KEY,
        "previous_encoding_aes_key": OLD_AES_KEY,
    }
    set_channel(api, "wechat", "template", settings)
    with unit_of_work() as session:
        url = wechat_callback_url(session, workspace.workspace_id)
    return WeChat(api, urlsplit(url).path)


@pytest.fixture
def notice(
    api: TestClient, track: Tracker, workspace: NewWorkspace, account: WeChat
) -> dict[str, Any]:
    """A template message that went out through the outbox to the fake WeChat API."""
    body = '{"data": {"thing1": {"value": "{{ person.traits.name }}的订单已发货"}}}'
    template = {
        "key": "shipped",
        "channel": "wechat",
        "body": body,
        "purpose": "transactional",
        "provider_template": wechat.TEMPLATE_ID,
    }
    assert api.post("/api/v1/templates", json=template).status_code == 201
    pid = person(track, api, "follower-1", name="王芳", wechat_openid="o-follower-1")
    message_id = send(api, pid, "shipped", channel="wechat")
    deliverer = Deliverer(workspace_id=workspace.workspace_id)
    try:
        deliverer.run_pending()
    finally:
        deliverer.close()
    sent = message(api, message_id)
    assert sent["status"] == "sent", sent
    with unit_of_work() as session:
        msgid = session.scalars(select(Message.provider_id).where(Message.id == message_id)).one()
    # The msgid the fake WeChat answered the send with, as WeChat's callback will name it.
    assert msgid is not None and msgid.isdigit()
    return {**sent, "provider_id": msgid}


def timeline(api: TestClient, person_id: int) -> list[str]:
    found = api.get(f"/api/v1/people/{person_id}/timeline")
    assert found.status_code == 200, found.text
    return [event["event"] for event in found.json()["items"]]


def test_the_server_address_check_echoes_only_a_signed_echostr(account: WeChat) -> None:
    answer = account.client.get(account.path, params=account.query(echostr="7261548263"))
    assert answer.status_code == 200
    assert answer.text == "7261548263"
    assert answer.headers["content-type"].startswith("text/plain")
    forged = account.query(echostr="7261548263", signature=wechat_signature("guess", "1", "2"))
    refused = account.client.get(account.path, params=forged)
    assert refused.status_code == 403 and refused.json()["code"] == "bad_signature"


@pytest.mark.parametrize("mode", ["plain", "safe"])
def test_a_delivered_template_message_becomes_delivered(
    account: WeChat, notice: dict[str, Any], mode: str
) -> None:
    xml = job_finished(notice["provider_id"], "success")
    post = account.post_plain if mode == "plain" else account.post_safe
    answer = post(xml)
    assert answer.status_code == 200, answer.text
    assert answer.text == "success"
    found = message(account.client, notice["id"])
    assert found["status"] == "delivered"
    delivered = [h for h in found["history"] if h["kind"] == "delivered"]
    assert [h["detail"]["status"] for h in delivered] == ["success"]
    # WeChat posts the same event again when we are slow: nothing more happens.
    assert post(xml).status_code == 200
    again = message(account.client, notice["id"])
    assert len(again["history"]) == len(found["history"])


@pytest.mark.parametrize(
    ("mode", "status"),
    [
        ("plain", "failed:user block"),
        ("safe", "failed: system failed"),
        ("safe", "failed:user block"),
    ],
)
def test_a_refused_template_message_bounces_with_wechats_reason(
    account: WeChat, notice: dict[str, Any], mode: str, status: str
) -> None:
    post = account.post_plain if mode == "plain" else account.post_safe
    answer = post(job_finished(notice["provider_id"], status))
    assert answer.status_code == 200 and answer.text == "success"
    found = message(account.client, notice["id"])
    assert found["status"] == "bounced"
    assert found["history"][-1]["kind"] == "bounced"
    assert found["history"][-1]["detail"]["status"] == status
    assert "WeChat Message Bounced" in timeline(account.client, found["person_id"])


def test_the_key_before_a_change_still_opens_safe_mode(
    account: WeChat, notice: dict[str, Any]
) -> None:
    answer = account.post_safe(job_finished(notice["provider_id"], "success"), key=OLD_AES_KEY)
    assert answer.status_code == 200
    assert message(account.client, notice["id"])["status"] == "delivered"


def _forgeries(account: WeChat, msg_id: str) -> list[tuple[str, Any, int, str]]:
    xml = job_finished(msg_id, "success")
    # Twice the window each way: a slow run takes seconds between building and posting.
    stale, ahead = int(time.time()) - 2 * REPLAY_WINDOW_S, int(time.time()) + 2 * REPLAY_WINDOW_S
    guess = wechat_signature("not-the-token", "1", "2")
    other_key = "0000000000111111111122222222223333333333444"
    return [
        ("bad signature", account.post_plain(xml, signature=guess), 403, "bad_signature"),
        ("no signature", account.post_plain(xml, signature=""), 403, "bad_signature"),
        ("replayed", account.post_plain(xml, at=stale), 403, "stale_callback"),
        ("from the future", account.post_plain(xml, at=ahead), 403, "stale_callback"),
        ("replayed safe", account.post_safe(xml, at=stale), 403, "stale_callback"),
        ("bad msg_signature", account.post_safe(xml, msg_signature=guess), 403, "bad_signature"),
        ("another key", account.post_safe(xml, key=other_key), 403, "undecryptable"),
        ("another app", account.post_safe(xml, app_id="wx-someone-else"), 403, "undecryptable"),
    ]


def test_forged_stale_or_foreign_callbacks_are_refused_and_change_nothing(
    account: WeChat, notice: dict[str, Any]
) -> None:
    before = message(account.client, notice["id"])
    for name, answer, status, code in _forgeries(account, notice["provider_id"]):
        assert answer.status_code == status, (name, answer.text)
        assert answer.json()["code"] == code, name
    assert message(account.client, notice["id"]) == before


def test_a_callback_url_of_another_purpose_or_workspace_is_not_found(
    account: WeChat, notice: dict[str, Any], workspace: NewWorkspace
) -> None:
    xml = job_finished(notice["provider_id"], "success")
    with unit_of_work() as session:
        sms_receipts = sign(session, workspace.workspace_id, "receipts", {"c": "sms"})
        click = sign(session, workspace.workspace_id, "click", {"c": "wechat"})
    for token in (sms_receipts, click, f"{workspace.workspace_id.hex}.forged"):
        params = account.query()
        answer = account.client.post(f"/hooks/wechat/{token}", params=params, content=xml)
        assert answer.status_code == 404 and answer.json()["code"] == "link_not_found"
    assert message(account.client, notice["id"])["status"] == "sent"


def test_entities_and_doctypes_are_refused(account: WeChat, notice: dict[str, Any]) -> None:
    msg_id = notice["provider_id"]
    external = (
        '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY id SYSTEM "file:///etc/hostname">]>'
        + job_finished(msg_id, "success").replace(f"<MsgID>{msg_id}", "<MsgID>&id;")
    )
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        + job_finished(msg_id, "success").replace("success", "&b;")
    )
    for body, post in ((external, account.post_plain), (laughs, account.post_safe)):
        answer = post(body)
        assert answer.status_code == 400 and answer.json()["code"] == "invalid_xml"
    too_deep = "<xml>" + "<a>" * 20 + "</a>" * 20 + "</xml>"
    for broken in ("<xml><MsgType>event", "not xml at all", too_deep, "<xml>text only</xml>"):
        assert account.post_plain(broken).status_code == 400
    too_large = account.post_plain("<xml>" + "x" * 70_000 + "</xml>")
    assert too_large.status_code == 413
    assert message(account.client, notice["id"])["status"] == "sent"


def test_events_nobody_handles_yet_are_accepted_and_ignored(
    account: WeChat, notice: dict[str, Any]
) -> None:
    created = int(time.time())
    follow = (
        "<xml><ToUserName><![CDATA[gh_7f083739789a]]></ToUserName>"
        "<FromUserName><![CDATA[o-follower-1]]></FromUserName>"
        f"<CreateTime>{created}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        "<Event><![CDATA[subscribe]]></Event><EventKey><![CDATA[qrscene_123]]></EventKey></xml>"
    )
    text = (
        "<xml><ToUserName><![CDATA[gh_7f083739789a]]></ToUserName>"
        "<FromUserName><![CDATA[o-follower-1]]></FromUserName>"
        f"<CreateTime>{created}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{notice['provider_id']}]]></Content><MsgId>1234567890</MsgId></xml>"
    )
    for answer in (account.post_plain(follow), account.post_safe(text)):
        assert answer.status_code == 200 and answer.text == "success"
    assert message(account.client, notice["id"])["status"] == "sent"


def test_an_unknown_msgid_changes_nothing(account: WeChat, notice: dict[str, Any]) -> None:
    answer = account.post_plain(job_finished("999999999", "success"))
    assert answer.status_code == 200 and answer.text == "success"
    assert message(account.client, notice["id"])["status"] == "sent"


def test_the_callback_needs_a_server_token(api: TestClient, workspace: NewWorkspace) -> None:
    set_channel(api, "wechat", "template", {"app_id": wechat.APP_ID, "app_secret": "s"})
    with unit_of_work() as session:
        path = urlsplit(wechat_callback_url(session, workspace.workspace_id)).path
    answer = WeChat(api, path).post_plain(job_finished("1", "success"))
    assert answer.status_code == 404
    assert answer.json()["code"] == "wechat_callback_not_configured"


def test_the_callback_secrets_are_masked_and_kept(api: TestClient, account: WeChat) -> None:
    shown = api.get("/api/v1/channels/wechat").json()["settings"]
    for secret in ("server_token", "encoding_aes_key", "previous_encoding_aes_key", "app_secret"):
        assert shown[secret] == "••••", secret
    saved = api.put("/api/v1/channels/wechat", json={"provider": "template", "settings": shown})
    assert saved.status_code == 200, saved.text
    assert account.client.get(account.path, params=account.query(echostr="ok")).text == "ok"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("server_token", "no"),
        ("server_token", "has space"),
        ("encoding_aes_key", "short"),
        ("encoding_aes_key", "!" * 43),
    ],
)
def test_bad_callback_settings_are_refused_by_name(api: TestClient, field: str, value: str) -> None:
    settings = {"app_id": wechat.APP_ID, "app_secret": "s", field: value}
    answer = api.put("/api/v1/channels/wechat", json={"provider": "template", "settings": settings})
    assert answer.status_code == 400
    assert answer.json()["field"] == f"settings.{field}"


def test_the_cli_sets_the_callback_and_prints_the_server_address(
    client: TestClient, workspace: NewWorkspace
) -> None:
    given = [
        *("channel", "set", "wechat", "--workspace", str(workspace.workspace_id)),
        *("--app-id", wechat.APP_ID, "--app-secret", wechat.APP_SECRET),
        *("--server-token", SERVER_TOKEN, "--encoding-aes-key", AES_KEY),
    ]
    result = CliRunner().invoke(cli, given)
    assert result.exit_code == 0, result.output
    assert SERVER_TOKEN not in result.output and AES_KEY not in result.output
    printed = next(line for line in result.output.splitlines() if "/hooks/wechat/" in line)
    path = urlsplit(printed.split()[-1]).path
    answer = client.get(path, params=WeChat(client, path).query(echostr="hello"))
    assert answer.status_code == 200 and answer.text == "hello"
