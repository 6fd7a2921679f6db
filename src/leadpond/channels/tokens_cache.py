"""Access tokens of WeCom and WeChat, shared by every sender in the process.

WeChat invalidates the previous token (after five minutes) whenever a new one is fetched, and
both providers cap how often one may be fetched, so a process keeps one token per endpoint,
account and secret and fetches it once however many senders and threads use it. A token is
kept until five minutes before it expires, or until the provider says it is no longer valid.
"""

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

# Refresh this long before the provider's expiry, so a token is never used in its last minutes.
EARLY_REFRESH_S = 300.0


@dataclass(frozen=True)
class TokenKey:
    """Whose token: tokens are per secret (a WeCom app and its 客户联系 secret differ)."""

    endpoint: str
    account: str
    secret: str


@dataclass
class _Cached:
    token: str
    expires_at: float


# What fetching a token answers: the token and its lifetime in seconds (``expires_in``).
TokenFetcher = Callable[[], tuple[str, float]]


class TokenCache:
    """Thread-safe tokens by :class:`TokenKey`; one fetch at a time per key."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._tokens: dict[TokenKey, _Cached] = {}
        self._locks: dict[TokenKey, threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, key: TokenKey, fetch: TokenFetcher) -> str:
        """The cached token for ``key``, fetched with ``fetch`` when missing or about to expire."""
        with self._lock_for(key):
            cached = self._tokens.get(key)
            if cached is not None and cached.expires_at > self._clock():
                return cached.token
            token, expires_in = fetch()
            lifetime = max(float(expires_in) - EARLY_REFRESH_S, 0.0)
            self._tokens[key] = _Cached(token, self._clock() + lifetime)
            return token

    def invalidate(self, key: TokenKey, token: str) -> None:
        """Forget ``token`` (the provider refused it); a newer token another thread fetched
        meanwhile is kept."""
        with self._lock_for(key):
            cached = self._tokens.get(key)
            if cached is not None and cached.token == token:
                del self._tokens[key]

    def clear(self) -> None:
        """Forget every token (tests, a settings change)."""
        with self._guard:
            self._tokens.clear()

    def _lock_for(self, key: TokenKey) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())


# The process-wide cache every WeCom and WeChat sender uses.
access_tokens = TokenCache()
