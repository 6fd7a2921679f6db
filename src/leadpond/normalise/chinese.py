"""Chinese text in one comparable form: simplified characters, and their pinyin."""

import re
import unicodedata
from functools import cache, lru_cache

import opencc
from pypinyin import lazy_pinyin

CJK = re.compile(r"[\u3400-\u9fff]")


@cache
def _to_simplified() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


@lru_cache(maxsize=65536)
def simplified(text: str) -> str:
    """Half-width, lower-case, simplified characters (陳 → 陈, 銀行 → 银行, ＡＢＣ → abc)."""
    folded = unicodedata.normalize("NFKC", text).strip().lower()
    return _to_simplified().convert(folded) if CJK.search(folded) else folded


@lru_cache(maxsize=65536)
def pinyin(text: str) -> str:
    """Toneless pinyin of the Chinese characters, joined (凯天 → kaitian); other text as is."""
    return "".join(lazy_pinyin(text)).lower()
