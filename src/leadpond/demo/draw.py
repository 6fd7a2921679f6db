"""Deterministic draws from a caller's ``random.Random`` (the demo never touches global random)."""

import random
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from itertools import accumulate
from typing import TypeVar

T = TypeVar("T")


def cumulative(weights: Iterable[float]) -> list[float]:
    """Running totals of ``weights``, for :func:`weighted_index`."""
    return list(accumulate(weights))


def weighted_index(rng: random.Random, totals: list[float]) -> int:
    """An index drawn with the weights whose running totals are ``totals``."""
    return min(bisect_right(totals, rng.random() * totals[-1]), len(totals) - 1)


def weighted_choice(rng: random.Random, items: Sequence[T], totals: list[float]) -> T:
    """One of ``items``, drawn with the weights behind ``totals``."""
    return items[weighted_index(rng, totals)]


def uuid4(rng: random.Random) -> str:
    """A version-4 UUID string drawn from ``rng`` (message ids, cookies)."""
    hexed = f"{rng.getrandbits(128):032x}"
    return f"{hexed[:8]}-{hexed[8:12]}-4{hexed[13:16]}-a{hexed[17:20]}-{hexed[20:]}"


def token(rng: random.Random, length: int, alphabet: str) -> str:
    """``length`` characters of ``alphabet`` (WeChat ids, subscriber ids)."""
    return "".join(rng.choices(alphabet, k=length))
