"""Webhooks: a JSON document POSTed to the workspace's URL, signed so the receiver can trust it.

Headers: ``Idempotency-Key`` (the same on every hand-over of one message, so receivers can
de-duplicate), ``X-Leadpond-Timestamp`` (unix seconds) and ``X-Leadpond-Signature:
sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" keyed with the settings' secret>``.

SSRF guard: the host is resolved once, every address it resolves to must be public (not
loopback, private, link-local, multicast, reserved…) unless ``allow_private``, and the
connection goes to that checked address (TLS still verifies the host's name): a DNS answer that
changes between the check and the connection cannot redirect the request inward. Redirects are
not followed.
"""

import hashlib
import hmac
import ipaddress
import json
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from leadpond.channels.senders.base import Outcome, Outgoing, Result
from leadpond.channels.senders.provider_http import (
    provider_client,
    server_trouble,
    unreachable,
)

USER_AGENT = "leadpond-webhook/1"
# Address properties that make a target private, in the order they are reported.
PRIVATE_KINDS = ("loopback", "private", "link_local", "multicast", "reserved", "unspecified")


class RefusedTarget(ValueError):
    """A webhook URL the guard does not let requests go to."""


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Leadpond-Signature`` value: ``sha256=`` + hex HMAC of ``<timestamp>.<body>``."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to, in the resolver's order."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def private_kind(address: str) -> str | None:
    """Why ``address`` is not a public internet address ("loopback", "private"…), or None."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for kind in PRIVATE_KINDS:
        if getattr(ip, f"is_{kind}"):
            return kind.replace("_", "-")
    return None if ip.is_global else "not global"


@dataclass(frozen=True)
class Target:
    """Where a request really goes: the URL with the checked address, the Host it names."""

    url: httpx.URL
    host_header: str
    server_name: str


def pinned_target(url: str, *, allow_private: bool) -> Target:
    """``url`` with its host replaced by a checked address; RefusedTarget when not allowed."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise RefusedTarget(f"not a valid URL: {exc}") from exc
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise RefusedTarget(f"not an http(s) URL: {url!r}")
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    addresses = resolve(parsed.host, port)
    if not allow_private:
        for address in addresses:
            kind = private_kind(address)
            if kind is not None:
                raise RefusedTarget(f"{parsed.host} resolves to {address} ({kind})")
    return Target(parsed.copy_with(host=addresses[0]), parsed.netloc.decode(), parsed.host)


class WebhookSender:
    """POSTs each message's document to the webhook URL, signed."""

    def __init__(self, settings: dict[str, Any]) -> None:
        self._url = str(settings["url"])
        self._secret = str(settings.get("secret") or "")
        self._allow_private = bool(settings.get("allow_private", False))
        self._client = provider_client(settings, trust_env=False)

    def send(self, messages: Sequence[Outgoing]) -> list[Outcome]:
        """One outcome per message, each from its own POST."""
        return [self._send_one(message) for message in messages]

    def close(self) -> None:
        """Close the HTTP client."""
        self._client.close()

    def _send_one(self, message: Outgoing) -> Outcome:
        document = message.extra.get("document")
        if not isinstance(document, dict | list):
            return Outcome(message.message_id, Result.PERMANENT, detail="no JSON document")
        try:
            target = pinned_target(message.address or self._url, allow_private=self._allow_private)
        except RefusedTarget as exc:
            return Outcome(message.message_id, Result.PERMANENT, detail=f"refused: {exc}")
        except (OSError, UnicodeError) as exc:
            return Outcome(message.message_id, Result.TEMPORARY, detail=f"cannot resolve: {exc}")
        body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
        extensions = {"sni_hostname": target.server_name} if target.url.scheme == "https" else {}
        try:
            response = self._client.post(
                target.url,
                content=body,
                headers=self._headers(target, message.idempotency_key, body),
                extensions=extensions,
            )
        except httpx.HTTPError as exc:
            return unreachable(message.message_id, exc)
        return answer_outcome(message.message_id, response)

    def _headers(self, target: Target, key: str, body: bytes) -> dict[str, str]:
        timestamp = str(int(time.time()))
        headers = {
            "Host": target.host_header,
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "Idempotency-Key": key,
            "X-Leadpond-Timestamp": timestamp,
        }
        if self._secret:
            headers["X-Leadpond-Signature"] = signature(self._secret, timestamp, body)
        return headers


def answer_outcome(message_id: int, response: httpx.Response) -> Outcome:
    """2xx accepted; 408, 429 and 5xx later (Retry-After honoured); anything else never."""
    detail = f"HTTP {response.status_code}"
    if response.is_success:
        return Outcome(message_id, Result.SENT, detail=detail)
    trouble = server_trouble(message_id, response)
    if trouble is not None:
        return trouble
    if response.is_redirect:
        detail += f" (redirects are not followed: {response.headers.get('location', '')})"
    return Outcome(message_id, Result.PERMANENT, detail=f"{detail}: {response.text[:200]}")
