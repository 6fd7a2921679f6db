"""Display names in two languages: the playbook names an item with one text for every language
(``商机``) or per language (``{zh: 商机, en: Opportunity}``); readers see theirs, else the other
language's, else the item's key.
"""

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import PlainValidator, WithJsonSchema

from leadpond.kit.errors import RefusedValue

LANGUAGES = ("zh", "en")
# The console's and the public pages' default: Chinese.
DEFAULT_LANGUAGE = "zh"


def _checked(value: Any) -> str | dict[str, str]:
    """A name as the playbook may give it: text, or a mapping of languages to text."""
    if isinstance(value, str):
        return value
    if not isinstance(value, dict):
        raise ValueError("a name is text or a mapping {zh: …, en: …}")
    unknown = [str(key) for key in value if key not in LANGUAGES]
    if unknown:
        raise RefusedValue(
            "unknown language {unknown}: a name's languages are zh, en",
            unknown=", ".join(map(repr, unknown)),
        )
    if not value:
        raise ValueError("a name in languages gives at least one of zh, en")
    for language, text in value.items():
        if not isinstance(text, str) or not text.strip():
            raise RefusedValue("the {language} name is text (not empty)", language=language)
    return {language: value[language] for language in LANGUAGES if language in value}


_TEXT = {"type": "string", "minLength": 1}
# A display name in the playbook file: ``name``, ``description``, a tag value's name.
Name = Annotated[
    str | dict[str, str],
    PlainValidator(_checked),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string"},
                {
                    "type": "object",
                    "properties": {language: _TEXT for language in LANGUAGES},
                    "additionalProperties": False,
                    "minProperties": 1,
                },
            ],
            "description": "One text for every language, or per language: "
            "{zh: 商机, en: Opportunity}",
        }
    ),
]


def language_of(locale: str | None) -> str:
    """The language (zh/en) of a console locale (``zh_CN``, ``en``) or a language tag."""
    asked = (locale or "").lower()[:2]
    return asked if asked in LANGUAGES else DEFAULT_LANGUAGE


def name_in(name: object, language: str | None = DEFAULT_LANGUAGE) -> str | None:
    """The name in ``language`` (a locale will do: ``zh_CN``): a single name as it is; of a
    mapping, that language's, else the one for every language (key ``""``), else another's.
    None when there is none (the caller shows the key)."""
    if isinstance(name, str):
        return name or None
    if isinstance(name, Mapping):
        for key in (language_of(language), "", *LANGUAGES):
            text = name.get(key)
            if isinstance(text, str) and text:
                return text
    return None


def every_name(name: object) -> list[str]:
    """Every language's text of a name, Chinese first (to recognise the name a reader typed in
    either)."""
    if isinstance(name, str):
        return [name] if name else []
    if isinstance(name, Mapping):
        texts = [name.get(language) for language in LANGUAGES]
        return [text for text in texts if isinstance(text, str) and text]
    return []


def accepted_language(accept_language: str | None) -> str:
    """The first language of an Accept-Language header we speak; Chinese by default."""
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith(LANGUAGES):
            return tag[:2]
    return DEFAULT_LANGUAGE
