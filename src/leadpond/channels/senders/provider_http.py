"""What the HTTP senders share: a client with timeouts, and how a failed call becomes an outcome.

Every provider is reached through an endpoint from the channel's settings, so tests point the
senders at local fakes. Redirects are never followed: a provider API does not redirect, and a
webhook that does could point anywhere.
"""

import email.utils
import time
from collections.abc import Mapping
from datetime import UTC
from typing import Any

import httpx

from leadpond.channels.senders.base import Outcome, Result

DEFAULT_TIMEOUT_S = 10.0
# How long to wait for a connection before calling the provider unreachable.
CONNECT_TIMEOUT_S = 5.0


def provider_client(settings: Mapping[str, Any], *, trust_env: bool = True) -> httpx.Client:
    """A client for one sender: waits bounded by the settings' ``timeout_s`` (10 s by default),
    no redirects; ``trust_env`` False ignores proxy variables (a proxy connects anywhere)."""
    timeout_s = float(settings.get("timeout_s") or DEFAULT_TIMEOUT_S)
    timeout = httpx.Timeout(timeout_s, connect=min(timeout_s, CONNECT_TIMEOUT_S))
    return httpx.Client(timeout=timeout, follow_redirects=False, trust_env=trust_env)


def unreachable(message_id: int, exc: httpx.HTTPError) -> Outcome:
    """A timeout or a broken connection: worth another try later."""
    return Outcome(message_id, Result.TEMPORARY, detail=f"{type(exc).__name__}: {exc}".strip())


def is_server_trouble(response: httpx.Response) -> bool:
    """Whether the answer says "not now": a server error, a request timeout, too many requests."""
    return response.status_code >= 500 or response.status_code in (408, 429)


def server_trouble(message_id: int, response: httpx.Response) -> Outcome | None:
    """A TEMPORARY outcome for 5xx, 408 and 429 answers (with their Retry-After), else None."""
    if not is_server_trouble(response):
        return None
    return Outcome(
        message_id,
        Result.TEMPORARY,
        detail=f"HTTP {response.status_code}: {response.text[:200]}",
        retry_after_s=retry_after_s(response),
    )


def unreadable(response: httpx.Response) -> str:
    """The detail for an answer that is not the provider's documented shape."""
    return f"unreadable answer: HTTP {response.status_code} {response.text[:200]}"


def retry_after_s(response: httpx.Response) -> float | None:
    """The answer's Retry-After in seconds (given as seconds or as an HTTP date), if any."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(when.timestamp() - time.time(), 0.0)
