"""The MIME message: both parts, CSS inlined, links tracked, pixel, unsubscribe headers, AD
prefix, VERP, a stable Message-ID, DKIM that verifies."""

import email
import email.policy
import re
import uuid
from email.message import EmailMessage

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from leadpond.channels.email_mime import (
    EmailComposer,
    html_to_text,
    parse_rfc_message_id,
    rfc_message_id,
)
from leadpond.channels.senders.base import Outgoing

WORKSPACE = uuid.uuid4()
HTML = """<html><head><style>p { color: #333333; }</style></head><body>
<p>您好 韩梅梅，</p><p><a href="https://acme.cn/demo?a=1&amp;b=2">预约演示</a>
<a href="mailto:sales@acme.cn">写信</a> <a href="https://x.test/u/TOKEN">退订</a></p></body></html>"""


def _outgoing(marketing: bool = True, **extra: object) -> Outgoing:
    return Outgoing(
        message_id=42,
        workspace_id=WORKSPACE,
        idempotency_key="journey:1:2:3",
        address="han@example.cn",
        subject="新品发布",
        body=HTML,
        extra={
            "marketing": marketing,
            "unsubscribe_url": "https://x.test/u/TOKEN",
            "open_pixel_url": "https://x.test/t/o/OPEN.gif",
            "click_base_url": "https://x.test/t/c/",
            "click_signer": lambda data: f"SIGNED[{data['m']}|{data['u']}]",
            **extra,
        },
    )


SETTINGS = {
    "smtp_url": "smtp://127.0.0.1:25",
    "from": "艾克米 <news@acme.cn>",
    "ad_prefix": "广告",
    "return_path_domain": "bounce.acme.cn",
    "list_unsubscribe_mailto": "unsubscribe@acme.cn",
}


def _parse(data: bytes) -> EmailMessage:
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def _parts(message: EmailMessage) -> tuple[str, str]:
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    return text.get_content(), html.get_content()


def test_a_marketing_email_has_both_parts_inlined_css_tracked_links_and_a_pixel() -> None:
    composed = EmailComposer(SETTINGS).compose(_outgoing())
    message = _parse(composed.data)
    assert message.get_content_type() == "multipart/alternative"
    text, html = _parts(message)
    assert 'style="color: #333333;"' in html and "<style" not in html
    assert 'href="https://x.test/t/c/SIGNED[42|https://acme.cn/demo?a=1&amp;b=2]"' in html
    assert 'href="mailto:sales@acme.cn"' in html
    assert 'href="https://x.test/u/TOKEN"' in html  # the unsubscribe link is never wrapped
    assert '<img src="https://x.test/t/o/OPEN.gif" width="1" height="1"' in html
    assert html.index("OPEN.gif") < html.index("</body>")
    assert "您好 韩梅梅" in text and "预约演示 (https://x.test/t/c/SIGNED[42|" in text


def test_marketing_headers_prefix_and_verp() -> None:
    composed = EmailComposer(SETTINGS).compose(_outgoing())
    message = _parse(composed.data)
    assert message["Subject"] == "广告 新品发布"
    assert message["From"] == "艾克米 <news@acme.cn>"
    assert message["List-Unsubscribe"] == (
        "<https://x.test/u/TOKEN>, <mailto:unsubscribe@acme.cn?subject=unsubscribe-42>"
    )
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert composed.envelope_from == "bounces+42@bounce.acme.cn"
    assert composed.recipient == "han@example.cn"


def test_transactional_mail_has_no_prefix_and_no_one_click() -> None:
    message = _parse(EmailComposer(SETTINGS).compose(_outgoing(marketing=False)).data)
    assert message["Subject"] == "新品发布"
    assert message["List-Unsubscribe"] is None and message["List-Unsubscribe-Post"] is None


def test_the_message_id_is_the_same_on_every_attempt_and_names_the_row() -> None:
    composer = EmailComposer(SETTINGS)
    first, second = composer.compose(_outgoing()), composer.compose(_outgoing())
    assert first.rfc_message_id == second.rfc_message_id
    assert _parse(first.data)["Message-ID"] == first.rfc_message_id
    assert re.fullmatch(r"<42\.[0-9a-f]{24}@acme\.cn>", first.rfc_message_id)
    assert parse_rfc_message_id(first.rfc_message_id) == 42
    other = rfc_message_id(WORKSPACE, "another key", 42, "acme.cn")
    assert other != first.rfc_message_id


def test_a_subject_cannot_inject_headers() -> None:
    out = _outgoing(marketing=False)
    out = Outgoing(**{**out.__dict__, "subject": "hi\r\nBcc: victim@example.com"})
    message = _parse(EmailComposer(SETTINGS).compose(out).data)
    assert message["Bcc"] is None
    assert message["Subject"] == "hi Bcc: victim@example.com"


def test_html_to_text_keeps_paragraphs_items_and_link_targets() -> None:
    text = html_to_text(
        "<style>p{}</style><p>One &amp; two</p><ul><li>a</li><li>b</li></ul>"
        '<a href="https://x.cn">site</a>'
    )
    assert text == "One & two\n\n- a\n- b\nsite (https://x.cn)\n"


@pytest.fixture(scope="module")
def dkim_key() -> tuple[bytes, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public


def test_the_dkim_signature_verifies_and_covers_the_unsubscribe_headers(
    dkim_key: tuple[bytes, bytes],
) -> None:
    private, public = dkim_key
    import base64

    record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)
    settings = {**SETTINGS, "dkim_selector": "lp", "dkim_private_key": private.decode()}
    data = EmailComposer(settings).compose(_outgoing()).data

    def dns(name: bytes, timeout: int = 5) -> bytes:
        assert name == b"lp._domainkey.acme.cn."
        return record

    assert dkim.verify(data, dnsfunc=dns)
    signed = _parse(data)["DKIM-Signature"].replace(" ", "").replace("\t", "")
    header_list = re.search(r"h=([^;]+)", signed)
    assert header_list is not None
    covered = header_list.group(1).lower().split(":")
    assert {"from", "to", "subject", "date", "message-id"} <= set(covered)
    assert {"list-unsubscribe", "list-unsubscribe-post"} <= set(covered)
    tampered = data.replace(
        b"List-Unsubscribe-Post: List-Unsubscribe=One-Click", b"List-Unsubscribe-Post: x"
    )
    assert not dkim.verify(tampered, dnsfunc=dns)
