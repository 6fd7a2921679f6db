"""The access-token cache: one fetch per key however many threads ask, kept until five minutes
before expiry, and a refused token replaced without dropping a newer one."""

import threading
import time

from leadpond.channels.tokens_cache import TokenCache, TokenKey

KEY = TokenKey("https://qyapi.weixin.qq.com", "corp", "secret")


def test_many_threads_fetch_one_token() -> None:
    cache = TokenCache()
    fetches: list[int] = []

    def fetch() -> tuple[str, float]:
        fetches.append(1)
        time.sleep(0.05)
        return "t1", 7200

    seen: list[str] = []
    threads = [
        threading.Thread(target=lambda: seen.append(cache.get(KEY, fetch))) for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == ["t1"] * 8 and len(fetches) == 1


def test_a_token_is_refetched_five_minutes_before_it_expires() -> None:
    now = [0.0]
    cache = TokenCache(clock=lambda: now[0])
    tokens = iter(["t1", "t2"])
    assert cache.get(KEY, lambda: (next(tokens), 7200)) == "t1"
    now[0] = 7200 - 301
    assert cache.get(KEY, lambda: (next(tokens), 7200)) == "t1"
    now[0] = 7200 - 299
    assert cache.get(KEY, lambda: (next(tokens), 7200)) == "t2"


def test_keys_differ_by_secret_and_invalidate_spares_a_newer_token() -> None:
    cache = TokenCache()
    other = TokenKey(KEY.endpoint, KEY.account, "客户联系-secret")
    assert cache.get(KEY, lambda: ("app", 7200)) == "app"
    assert cache.get(other, lambda: ("contacts", 7200)) == "contacts"
    cache.invalidate(KEY, "stale-one")  # another thread already replaced it
    assert cache.get(KEY, lambda: ("never", 7200)) == "app"
    cache.invalidate(KEY, "app")
    assert cache.get(KEY, lambda: ("fresh", 7200)) == "fresh"
