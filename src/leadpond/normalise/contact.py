"""Identifier normal forms: the same email or mobile number always reads the same."""

import re
import unicodedata
from functools import lru_cache

import phonenumbers
from email_validator import EmailNotValidError, validate_email

# 转 / 分机 / ext / x: what follows is an extension, not part of the subscriber number.
_EXTENSION = re.compile(r"(?:转|分机|ext\.?|extension|x|#)\s*(\d+)\s*$", re.IGNORECASE)


@lru_cache(maxsize=200_000)
def normalise_email(text: str) -> str | None:
    """Trimmed, lowercased, syntax-checked email; None when it is not an email address."""
    candidate = unicodedata.normalize("NFKC", text).strip().strip("<>").strip()
    if not candidate or "@" not in candidate:
        return None
    try:
        checked = validate_email(candidate, check_deliverability=False)
    except EmailNotValidError:
        return None
    return checked.normalized.lower()


@lru_cache(maxsize=200_000)
def normalise_phone(text: str, region: str = "CN") -> str | None:
    """E.164 for a valid phone number (full-width digits, 0086/+86, spaces, extensions ok)."""
    candidate = unicodedata.normalize("NFKC", text).strip()
    candidate = _EXTENSION.sub("", candidate).strip()
    if candidate.startswith("00"):
        candidate = "+" + candidate[2:]
    try:
        parsed = phonenumbers.parse(candidate, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def phone_extension(text: str) -> str | None:
    """The extension (分机) dialled after a switchboard number, if any."""
    found = _EXTENSION.search(unicodedata.normalize("NFKC", text).strip())
    return found.group(1) if found else None


@lru_cache(maxsize=200_000)
def is_landline(e164: str) -> bool:
    """True for a fixed line (a desk or switchboard), False for mobiles and ambiguous numbers."""
    try:
        number = phonenumbers.parse(e164)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.FIXED_LINE
