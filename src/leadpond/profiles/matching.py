"""Keys that bring together people who share no identifier, for human review."""

import re
import unicodedata
from typing import Any

from leadpond.normalise.company import normalise_company_name

_SPACES = re.compile(r"[\s·•.\-_]+")


def normalise_person_name(name: str) -> str:
    """Half-width, no spaces or middle dots, lowercase (张 三 = 张三, Li Lei = lilei)."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", name)).lower()


def match_key(traits: dict[str, Any]) -> str | None:
    """``name|company`` in normal form, or None when either is missing."""
    name = traits.get("name")
    company = traits.get("company") or traits.get("company_name")
    if not isinstance(name, str) or not isinstance(company, str):
        return None
    name_key, company_name = normalise_person_name(name), normalise_company_name(company)
    if not name_key or company_name is None or not company_name.full_key:
        return None
    return f"{name_key}|{company_name.full_key}"[:255]
