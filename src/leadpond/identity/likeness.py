"""What a person's traits say about who they are, in the comparable form the linkage model reads.

Names are the hard part. A Chinese name is written surname first, with or without a space
(王 洋伟 = 王洋伟), in simplified or traditional characters (陳 = 陈), and often in pinyin, in
either order (Wang Yangwei, Yangwei Wang). Every name becomes a (given, surname) pair of
lower-case pinyin or latin words, so all of these meet; the model's name comparison also knows
the swapped order. Other traits are cut to the part that survives retyping: the last eight
digits of a phone, an email's local part, a birthday's digits.
"""

import re
import unicodedata
from datetime import date, datetime
from typing import Any

from leadpond.normalise.chinese import CJK as _CJK
from leadpond.normalise.chinese import pinyin as _pinyin
from leadpond.normalise.chinese import simplified
from leadpond.normalise.company import normalise_company_name
from leadpond.normalise.contact import is_landline, normalise_phone, phone_extension

_SPACES = re.compile(r"[\s·•.\-_,]+")
_NOT_WORD = re.compile(r"[^0-9a-z\u3400-\u9fff]+")
_DIGITS = re.compile(r"\D+")
# Two-character surnames (复姓): 欧阳娜娜 is 欧阳 + 娜娜, not 欧 + 阳娜娜.
COMPOUND_SURNAMES = frozenset(
    {
        *("欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文"),
        *("司徒", "夏侯", "轩辕", "令狐", "端木", "南宫", "西门", "独孤", "呼延", "百里", "钟离"),
        *("澹台", "公冶", "太史", "申屠", "万俟", "闻人", "赫连", "东郭", "拓跋"),
    }
)

COLUMNS = (
    "unique_id",
    "given_name",
    "surname",
    "name_key",
    "birthday",
    "address",
    "city",
    "postcode",
    "phone",
    "email_local",
    "company",
    "title",
    "id_number",
    "changed",
)


def split_chinese_name(name: str) -> tuple[str, str]:
    """(surname, given) of a Chinese name written surname first, spaces already gone."""
    cut = 2 if name[:2] in COMPOUND_SURNAMES and len(name) > 2 else 1
    return name[:cut], name[cut:]


def name_parts(traits: dict[str, Any]) -> tuple[str | None, str | None, str | None]:
    """(given, surname, name key) in comparable form: pinyin for Chinese, latin letters else."""
    first, last = _text(traits.get("first_name")), _text(traits.get("last_name"))
    name = _text(traits.get("name"))
    if name is None and (first or last):
        name = " ".join(part for part in (last, first) if part)
        if first and last and not _CJK.search(f"{first}{last}"):
            name = f"{first} {last}"
    if name is None:
        return None, None, None
    plain = simplified(name)
    if _CJK.search(plain):
        joined = _NOT_WORD.sub("", plain)
        if not joined:
            return None, None, None
        surname, given = split_chinese_name(joined)
        return _pinyin(given) or None, _pinyin(surname) or None, joined
    if first or last:
        given_text, surname_text = simplified(first or ""), simplified(last or "")
    else:
        words = [w for w in _SPACES.split(plain) if w]
        given_text = " ".join(words[:-1]) if len(words) > 1 else ""
        surname_text = words[-1] if words else ""
    given_key = _NOT_WORD.sub("", given_text) or None
    surname_key = _NOT_WORD.sub("", surname_text) or None
    key = _NOT_WORD.sub("", plain) or None
    return given_key, surname_key, key


def _text(value: object) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def birthday_digits(value: object) -> str | None:
    """A birthday as YYYYMMDD (from a date, an ISO string or 8 digits), else None."""
    if isinstance(value, date | datetime):
        return value.strftime("%Y%m%d")
    text = _text(value)
    if text is None:
        return None
    digits = _DIGITS.sub("", unicodedata.normalize("NFKC", text)[:10])
    return digits if len(digits) == 8 and digits[:2] in ("19", "20") else None


def _address(traits: dict[str, Any]) -> tuple[str | None, str | None, str | None]:
    """(street line, city, postcode) from a Segment address object or flat traits."""
    found = traits.get("address")
    parts = found if isinstance(found, dict) else {"street": found}
    street = _text(parts.get("street"))
    city = _text(parts.get("city")) or _text(traits.get("city"))
    postcode = (
        _text(parts.get("postalCode"))
        or _text(parts.get("postal_code"))
        or _text(traits.get("postcode"))
        or _text(traits.get("postal_code"))
    )
    return (
        _SPACES.sub(" ", simplified(street)).strip() if street else None,
        _NOT_WORD.sub("", simplified(city)) or None if city else None,
        _NOT_WORD.sub("", simplified(postcode)) or None if postcode else None,
    )


def _phone(traits: dict[str, Any]) -> str | None:
    """The last 8 digits of a personal number: a mobile, or a desk (a line with an extension).
    A switchboard (总机) is the whole company's, so it says nothing about who someone is."""
    raw = _text(traits.get("phone")) or _text(traits.get("mobile"))
    if raw is None:
        return None
    extension = phone_extension(raw)
    e164 = normalise_phone(raw)
    if e164 is None:
        digits = _DIGITS.sub("", unicodedata.normalize("NFKC", raw))
        mobile = len(digits) == 11 and digits[0] == "1"
        return digits[-8:] if mobile else None
    if is_landline(e164) and extension is None:
        return None
    return e164[-8:] + (f"x{extension}" if extension else "")


def _email_local(traits: dict[str, Any]) -> str | None:
    email = _text(traits.get("email"))
    if email is None or "@" not in email:
        return None
    local = simplified(email).rsplit("@", 1)[0].split("+", 1)[0]
    return _NOT_WORD.sub("", local) or None


def _personal_local(local: str | None, given: str | None, surname: str | None) -> str | None:
    """An email name made of the person's own name or initials (duwei@, wei.du@, wangt@,
    ltian@) repeats the name: only a name of one's own choosing (tiger88@, chenjun3547@) is
    evidence of its own."""
    if local is None:
        return None
    rest = local
    for part in sorted((p for p in (given, surname) if p), key=len, reverse=True):
        rest = rest.replace(part, "", 1)
    return local if len(rest) > 1 else None


def _first_text(traits: dict[str, Any], names: tuple[str, ...]) -> str | None:
    for name in names:
        value = _text(traits.get(name))
        if value is not None:
            return value
    return None


def _company(traits: dict[str, Any]) -> str | None:
    """The company's full key (region and legal form peeled off, simplified)."""
    found = traits.get("company")
    display = (
        _text(found.get("name"))
        if isinstance(found, dict)
        else _first_text(traits, ("company", "company_name", "companyName", "organization"))
    )
    name = normalise_company_name(display) if display else None
    return name.full_key if name is not None else None


def person_record(person_id: int, traits: dict[str, Any], changed: bool) -> dict[str, Any]:
    """One row of the linkage input: every comparable trait of a person (None when unknown)."""
    given, surname, key = name_parts(traits)
    street, city, postcode = _address(traits)
    company = _company(traits)
    title = _first_text(traits, ("title", "job_title", "jobTitle", "position"))
    id_number = _text(traits.get("id_number"))
    return {
        "unique_id": person_id,
        "given_name": given,
        "surname": surname,
        "name_key": key,
        "birthday": birthday_digits(traits.get("birthday")),
        "address": street,
        "city": city,
        "postcode": postcode,
        "phone": _phone(traits),
        "email_local": _personal_local(_email_local(traits), given, surname),
        "company": company,
        "title": simplified(title) if title else None,
        "id_number": _NOT_WORD.sub("", simplified(id_number)) or None if id_number else None,
        "changed": changed,
    }


def comparable(record: dict[str, Any]) -> bool:
    """Whether a person says enough to be compared at all: a name, or a phone or email part."""
    return bool(record["surname"] or record["given_name"] or record["phone"])
