"""Console translations: Babel ``.po`` catalogs read at run time (no compile step on a clone).

Message ids are the English text; ``en`` has an empty catalog (the ids are the text) and
``zh_CN`` translates every id. ``tests/console`` checks that no id lacks a Chinese text.
"""

from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from babel.messages.pofile import read_po

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
DOMAIN = "console"
DEFAULT_LOCALE = "zh_CN"
LOCALE_NAMES = {"zh_CN": "中文", "en": "English"}

Translate = Callable[[str], str]


@lru_cache(maxsize=8)
def catalog(locale: str) -> dict[str, str]:
    """msgid -> translated text of one locale (empty when the locale has no catalog)."""
    path = LOCALES_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not path.is_file():
        return {}
    with path.open("rb") as handle:
        messages = read_po(handle, locale=locale)
    return {
        str(message.id): str(message.string)
        for message in messages
        if message.id and isinstance(message.id, str) and message.string
    }


def translator(locale: str | None) -> Translate:
    """A ``_`` function for the locale: the translation, or the English id when there is none."""
    texts = catalog(locale if locale in LOCALE_NAMES else DEFAULT_LOCALE)

    def translate(message: str) -> str:
        return texts.get(message, message)

    return translate
