"""Which words the console's catalogs leave out (shared by the words tests)."""

from collections.abc import Iterable

from babel.messages.pofile import read_po

from leadpond.console.i18n import LOCALES_DIR, catalog


def missing_words(words: Iterable[str]) -> dict[str, list[str]]:
    """The words the Chinese catalog does not translate, and those the English one lacks."""
    wanted = set(words)
    with (LOCALES_DIR / "en" / "LC_MESSAGES" / "console.po").open("rb") as handle:
        english = {str(m.id) for m in read_po(handle, locale="en") if m.id}
    chinese = catalog("zh_CN")
    return {
        "zh_CN": sorted(w for w in wanted if w not in chinese),
        "en": sorted(w for w in wanted if w not in english),
    }
