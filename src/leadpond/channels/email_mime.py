"""An email as it leaves: the MIME message built from a rendered :class:`Outgoing`.

multipart/alternative with a text part (the template's own, or the HTML turned to text) and the
HTML part with its CSS inlined (css-inline), links wrapped through the click redirect (except
unsubscribe and ``mailto:``), an open pixel; ``List-Unsubscribe`` / ``List-Unsubscribe-Post``
(RFC 2369 / 8058) on marketing mail; the ``ad_prefix`` Chinese rules ask for on marketing
subjects; a VERP envelope sender; an optional DKIM signature over the headers that matter.

This is on the sending path of every email: the message is written as bytes directly (headers
encoded by the ``email`` package, parts base64 by ``binascii``) rather than through
``EmailMessage``, which costs several times more per message.
"""

import base64
import hashlib
import html
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import formataddr, formatdate, parseaddr
from typing import Any

import css_inline
import dkim

from leadpond.channels.senders.base import Outgoing

# The headers a DKIM signature covers: RFC 8058 asks for both unsubscribe headers.
DKIM_HEADERS = (
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
)
ONE_CLICK = "List-Unsubscribe=One-Click"
CRLF = "\r\n"
_HREF = re.compile(r"""(<a\b[^>]*?\bhref\s*=\s*)(["'])(.*?)\2""", re.IGNORECASE | re.DOTALL)
_BODY_END = re.compile(r"</body\s*>", re.IGNORECASE)
_NEWLINES = re.compile(r"[\r\n]+\s*")
_UNTRACKED = ("mailto:", "tel:", "sms:", "#", "{")


@dataclass(frozen=True)
class Composed:
    """A message ready for SMTP: envelope and bytes."""

    message_id: int
    envelope_from: str
    recipient: str
    data: bytes
    rfc_message_id: str


def rfc_message_id(workspace_id: Any, idempotency_key: str, message_id: int, domain: str) -> str:
    """``<id.hash@domain>``: the same for every attempt of a message (a relay or the recipient
    can drop a repeat); the outbox id in front maps a bounce's returned headers to the row, the
    hash of the idempotency key proves it was ours."""
    digest = hashlib.sha256(f"{workspace_id}:{idempotency_key}".encode()).hexdigest()[:24]
    return f"<{message_id}.{digest}@{domain}>"


def parse_rfc_message_id(value: str) -> int | None:
    """The outbox id inside a Message-ID made by :func:`rfc_message_id`, or None."""
    local = value.strip().strip("<>").split("@", 1)[0]
    head, dot, digest = local.partition(".")
    if not dot or not head.isdigit() or len(digest) != 24:
        return None
    return int(head)


def verp_address(message_id: int, domain: str) -> str:
    """The envelope sender that brings a bounce back to its message."""
    return f"bounces+{message_id}@{domain}"


def _header(name: str, value: str) -> str:
    value = _NEWLINES.sub(" ", value).strip()  # a template must never add a header
    if value.isascii():
        return f"{name}: {value}\r\n"
    # RFC 2047 encoded words of ten characters (≤ 40 bytes of UTF-8: lines stay under 78).
    # Written here because email.header.Header costs more than the rest of the message.
    words = (
        f"=?utf-8?b?{base64.b64encode(value[at : at + 10].encode()).decode()}?="
        for at in range(0, len(value), 10)
    )
    return f"{name}: {(CRLF + ' ').join(words)}{CRLF}"


def _part(content_type: str, text: str) -> bytes:
    if text.isascii() and all(len(line) < 990 for line in text.splitlines()):
        body = text.replace("\r\n", "\n").replace("\n", "\r\n").encode()
        encoding = "7bit"
    else:
        body = base64.encodebytes(text.encode()).replace(b"\n", b"\r\n")
        encoding = "base64"
    head = (
        f'Content-Type: {content_type}; charset="utf-8"\r\n'
        f"Content-Transfer-Encoding: {encoding}\r\n\r\n"
    )
    return head.encode() + body


_BLOCKS = re.compile(r"<(style|script|head|title)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_LINKS = re.compile(r"""<a\b[^>]*?\bhref\s*=\s*["']([^"']*)["'][^>]*>(.*?)</a\s*>""", re.I | re.S)
_BREAKS = re.compile(r"<\s*(br|/p|/div|/tr|/h[1-6]|/ul|/ol|/table|hr)\b[^>]*>", re.IGNORECASE)
_ITEMS = re.compile(r"<\s*li\b[^>]*>", re.IGNORECASE)
_TAGS = re.compile(r"<[^>]+>")
_SPACES = re.compile(r"[ \t\u00a0]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")


def html_to_text(document: str) -> str:
    """A readable plain-text version of an HTML email: paragraphs, list items, links as
    ``text (url)``."""

    def link(match: re.Match[str]) -> str:
        url, label = match.group(1), _TAGS.sub("", match.group(2)).strip()
        return f"{label} ({url})" if label and label != url else url

    text = _BLOCKS.sub("", document)
    text = _LINKS.sub(link, text)
    text = _ITEMS.sub("\n- ", _BREAKS.sub("\n", text))
    text = html.unescape(_TAGS.sub("", text))
    lines = (_SPACES.sub(" ", line).strip() for line in text.splitlines())
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip() + "\n"


def wrap_links(document: str, wrap: Callable[[str], str], untracked: tuple[str, ...] = ()) -> str:
    """Every ``<a href>`` through ``wrap`` (the click redirect), except ``mailto:``/``tel:``,
    anchors, template leftovers and the URLs starting with one of ``untracked``."""

    def replace(match: re.Match[str]) -> str:
        url = html.unescape(match.group(3).strip())
        if url.startswith(_UNTRACKED) or (untracked and url.startswith(untracked)):
            return match.group(0)
        return f"{match.group(1)}{match.group(2)}{html.escape(wrap(url))}{match.group(2)}"

    return _HREF.sub(replace, document)


def click_wrapper(out: Outgoing) -> Callable[[str], str] | None:
    """``url -> <click_base_url><token>`` for this message, when the render step gave a base
    and a ``click_signer`` (``workspaces.signing.signer(session, ws, "click")``: the key is read
    once per batch, tokens are signed here without a session)."""
    base, sign = out.extra.get("click_base_url"), out.extra.get("click_signer")
    if not base or not callable(sign):
        return None
    message_id = out.message_id

    def wrap(url: str) -> str:
        return f"{base}{sign({'m': message_id, 'u': url})}"

    return wrap


def add_pixel(document: str, pixel_url: str) -> str:
    """The open pixel, last in the body."""
    tag = (
        f'<img src="{html.escape(pixel_url)}" width="1" height="1" alt="" '
        'style="display:block;border:0;width:1px;height:1px" />'
    )
    ends = list(_BODY_END.finditer(document))
    if not ends:
        return document + tag
    at = ends[-1].start()
    return document[:at] + tag + document[at:]


class EmailComposer:
    """Builds the MIME messages of one workspace's email settings (contract §2, email/smtp)."""

    def __init__(self, settings: Mapping[str, Any]) -> None:
        self.from_header = str(settings["from"])
        name, self.from_address = parseaddr(self.from_header)
        self.from_domain = self.from_address.rpartition("@")[2].lower() or "localhost"
        self._from_line = _header("From", formataddr((name, self.from_address), "utf-8"))
        reply_to = settings.get("reply_to")
        self._reply_to_line = _header("Reply-To", str(reply_to)) if reply_to else ""
        self.return_path_domain: str | None = settings.get("return_path_domain") or None
        self.ad_prefix = str(settings.get("ad_prefix") or "")
        self.unsubscribe_mailto: str | None = settings.get("list_unsubscribe_mailto") or None
        self._dkim: tuple[bytes, bytes, bytes] | None = None
        if settings.get("dkim_private_key") and settings.get("dkim_selector"):
            self._dkim = (
                str(settings["dkim_selector"]).encode(),
                str(settings.get("dkim_domain") or self.from_domain).encode(),
                str(settings["dkim_private_key"]).encode(),
            )
        self._inliner = css_inline.CSSInliner(keep_style_tags=False, load_remote_stylesheets=False)

    def subject(self, out: Outgoing) -> str:
        """The subject, prefixed with ``ad_prefix`` on marketing mail."""
        subject = out.subject or ""
        marketing = bool(out.extra.get("marketing"))
        if marketing and self.ad_prefix and not subject.startswith(self.ad_prefix):
            return f"{self.ad_prefix} {subject}"
        return subject

    def envelope_from(self, out: Outgoing) -> str:
        """The SMTP ``MAIL FROM``: the VERP address when a return-path domain is set."""
        given = out.extra.get("return_path")
        if given:
            return str(given)
        if self.return_path_domain:
            return verp_address(out.message_id, self.return_path_domain)
        return self.from_address

    def unsubscribe_headers(self, out: Outgoing) -> dict[str, str]:
        """RFC 2369 + RFC 8058 one-click, on marketing mail with an unsubscribe URL."""
        url = out.extra.get("unsubscribe_url")
        if not out.extra.get("marketing") or not url:
            return {}
        targets = [f"<{url}>"]
        if self.unsubscribe_mailto:
            mailto = self.unsubscribe_mailto
            if not mailto.startswith("mailto:"):
                mailto = f"mailto:{mailto}?subject=unsubscribe-{out.message_id}"
            targets.append(f"<{mailto}>")
        return {"List-Unsubscribe": ", ".join(targets), "List-Unsubscribe-Post": ONE_CLICK}

    def html_part(self, out: Outgoing) -> str:
        """The HTML with CSS inlined, links wrapped and the pixel added."""
        document = self._inliner.inline(out.body) if "<style" in out.body else out.body
        wrap = click_wrapper(out)
        if wrap is not None:
            unsubscribe = out.extra.get("unsubscribe_url")
            document = wrap_links(document, wrap, (unsubscribe,) if unsubscribe else ())
        pixel = out.extra.get("open_pixel_url")
        return add_pixel(document, str(pixel)) if pixel else document

    def compose(self, out: Outgoing) -> Composed:
        """The whole message as bytes, signed when DKIM is configured."""
        message_id = rfc_message_id(
            out.workspace_id, out.idempotency_key, out.message_id, self.from_domain
        )
        headers = {**self.unsubscribe_headers(out), **dict(out.extra.get("headers") or {})}
        headers.pop("Message-ID", None)  # always ours: the same for every attempt
        html_text = self.html_part(out)
        text = out.text_body if out.text_body else html_to_text(html_text)
        boundary = f"=_lp_{secrets.token_hex(12)}"
        head = [
            self._from_line,
            _header("To", out.address),
            _header("Subject", self.subject(out)),
            f"Date: {formatdate(usegmt=True)}\r\n",
            f"Message-ID: {message_id}\r\n",
            self._reply_to_line,
            *(_header(name, str(value)) for name, value in headers.items()),
            "MIME-Version: 1.0\r\n",
            f'Content-Type: multipart/alternative; boundary="{boundary}"\r\n\r\n',
        ]
        data = b"".join(
            (
                "".join(head).encode(),
                f"--{boundary}\r\n".encode(),
                _part("text/plain", text),
                f"\r\n--{boundary}\r\n".encode(),
                _part("text/html", html_text),
                f"\r\n--{boundary}--\r\n".encode(),
            )
        )
        if self._dkim is not None:
            data = self.sign(data)
        return Composed(out.message_id, self.envelope_from(out), out.address, data, message_id)

    def sign(self, data: bytes) -> bytes:
        """``data`` with a DKIM-Signature header in front."""
        assert self._dkim is not None
        selector, domain, key = self._dkim
        signature = dkim.sign(
            data, selector, domain, key, include_headers=[h.lower() for h in DKIM_HEADERS]
        )
        return bytes(signature) + data
