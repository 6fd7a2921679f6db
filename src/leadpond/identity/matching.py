"""Keys that bring together people who share no identifier, for human review."""

import re
import unicodedata
from typing import Any

_SPACES = re.compile(r"[\s·•.\-_]+")


def normalise_person_name(name: str) -> str:
    """Half-width, no spaces or middle dots, lowercase (张 三 = 张三, Li Lei = lilei)."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", name)).lower()


def company_key(company: str) -> str:
    """The company name in normal form (width, case, spacing)."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", company)).lower()


def match_key(traits: dict[str, Any]) -> str | None:
    """``name|company`` in normal form, or None when either is missing."""
    name = traits.get("name")
    company = traits.get("company") or traits.get("company_name")
    if not isinstance(name, str) or not isinstance(company, str):
        return None
    name_key, company_part = normalise_person_name(name), company_key(company)
    if not name_key or not company_part:
        return None
    return f"{name_key}|{company_part}"[:255]
