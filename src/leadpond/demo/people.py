"""People of the demo world: Chinese names, decision-chain roles, phones, emails and WeChat ids.

Each true person holds every identifier they own; the ``*_as_typed`` helpers give the form in
which one channel records it (formats, letter case, the odd typo).
"""

import random
from dataclasses import dataclass

from leadpond.demo.companies import Company
from leadpond.demo.draw import cumulative, token, uuid4, weighted_index
from leadpond.demo.vocab import (
    EMAIL_DOMAIN_TYPOS,
    ENGLISH_NAMES,
    FREE_MAIL,
    GIVEN_CHARS,
    MOBILE_PREFIXES,
    ROLES,
    SURNAMES,
)

PRODUCT_LINES = ("graph_database", "realtime_warehouse", "data_platform", "ai_assistant")
_SURNAME_WEIGHTS = cumulative(w for _, _, w in SURNAMES)
_ROLE_WEIGHTS = cumulative(share for _, share, _ in ROLES)
_FREE_MAIL_WEIGHTS = cumulative(w for _, w in FREE_MAIL)
_WECHAT_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_FULL_WIDTH = str.maketrans("0123456789+-() ", "０１２３４５６７８９＋－（）\u3000")
# A bijection of person numbers onto 8-digit subscriber numbers keeps every mobile unique.
_MOBILE_SPACE = 100_000_000
_MOBILE_STEP = 48_271_019


@dataclass(slots=True)
class Person:
    """One true human; ``index`` is the ground-truth person id."""

    index: int
    company: Company
    role: str
    title: str
    surname: str
    surname_pinyin: str
    given: str
    given_pinyin: str
    english_name: str | None
    mobile: str
    corporate_email: str | None
    free_email: str
    desktop_cookie: str
    mobile_cookie: str
    unionid: str
    openid_service: str
    openid_mall: str
    crm_contact_id: str
    account_user_id: str
    subscriber_id: str
    interest: str
    propensity: float
    uses_shared_mailbox: bool
    uses_shared_device: bool
    prefers_free_mail: bool

    @property
    def name(self) -> str:
        """The name as on the ID card (surname first)."""
        return self.surname + self.given

    def name_as_typed(self, rng: random.Random) -> str:
        """The name as this person types it on one form."""
        roll = rng.random()
        if roll < 0.72:
            return self.name
        if roll < 0.78:
            return f"{self.surname} {self.given}"
        pinyin = (self.surname_pinyin.title(), self.given_pinyin.title())
        if roll < 0.86:
            return f"{pinyin[0]} {pinyin[1]}" if rng.random() < 0.5 else f"{pinyin[1]} {pinyin[0]}"
        if roll < 0.94 and self.english_name:
            return f"{self.english_name} {pinyin[0]}"
        if roll < 0.97:
            return f"{pinyin[0].upper()} {pinyin[1]}"
        return self.surname + ("先生" if self.index % 2 else "女士")

    def email_as_typed(self, rng: random.Random, noise: dict[str, int]) -> str:
        """The email this person gives on one form: work, private or the team mailbox."""
        if self.uses_shared_mailbox and self.company.shared_mailbox and rng.random() < 0.55:
            noise["shared_mailbox"] += 1
            return self.company.shared_mailbox
        use_free = self.corporate_email is None or (
            rng.random() < (0.7 if self.prefers_free_mail else 0.12)
        )
        address = self.free_email if use_free else str(self.corporate_email)
        roll = rng.random()
        if roll < 0.02:
            noise["email_typo"] += 1
            return _email_typo(rng, address)
        if roll < 0.08:
            return address.upper() if rng.random() < 0.3 else address.title()
        if roll < 0.11:
            return f" {address} "
        return address

    def phone_as_typed(self, rng: random.Random, noise: dict[str, int], style: str = "") -> str:
        """The mobile number as one channel records it (or, now and then, the office line)."""
        if style != "crm" and rng.random() < 0.03:
            noise["office_line"] += 1
            return f"{self.company.switchboard} 转 {8000 + self.index % 1000}"
        number = self.mobile
        if rng.random() < 0.012:
            noise["phone_typo"] += 1
            position = rng.randrange(3, 11)
            number = (
                number[:position] + str((int(number[position]) + 1) % 10) + number[position + 1 :]
            )
        return format_mobile(number, style or rng.choice(_FORMATS), rng)


_FORMATS = ("plain",) * 8 + ("spaced", "dashed", "plus86", "plus86_spaced", "0086", "full_width")


def format_mobile(number: str, style: str, rng: random.Random) -> str:
    """One of the ways Chinese mobile numbers are written."""
    spaced = f"{number[:3]} {number[3:7]} {number[7:]}"
    if style == "spaced":
        return spaced
    if style in ("dashed", "crm"):
        return f"{number[:3]}-{number[3:7]}-{number[7:]}"
    if style == "plus86":
        return "+86" + number
    if style == "plus86_spaced":
        return f"+86 {spaced}" if rng.random() < 0.5 else f"(+86) {number}"
    if style == "0086":
        return "0086" + number
    if style == "full_width":
        return number.translate(_FULL_WIDTH)
    if style == "events":
        return "+86-" + number
    return number


def _email_typo(rng: random.Random, address: str) -> str:
    local, _, domain = address.partition("@")
    if domain in EMAIL_DOMAIN_TYPOS and rng.random() < 0.6:
        return f"{local}@{EMAIL_DOMAIN_TYPOS[domain]}"
    if len(local) > 3:
        cut = rng.randrange(1, len(local) - 1)
        local = local[:cut] + local[cut + 1 :]
    return f"{local}@{domain}"


def _local_part(pattern: int, surname: str, given: str, english: str | None) -> str:
    if english and pattern == 4:
        return f"{english.lower()}.{surname}"
    return (
        f"{surname}{given}",
        f"{surname}.{given}",
        f"{given}.{surname}",
        f"{surname}{given[:1]}",
        f"{surname[:1]}{given}",
    )[pattern]


class PersonFactory:
    """Draws the people of each company; identifiers are unique across the world."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._mobile_offset = random.Random(f"{seed}/mobile").randrange(_MOBILE_SPACE)
        # Agencies of one city share a mail domain, so their mailbox names are unique together.
        self._shared_domain_locals: dict[str, set[str]] = {}

    def make(self, index: int, company: Company) -> Person:
        """Person number ``index``, working at ``company``."""
        rng = random.Random(f"{self.seed}/person/{index}")
        surname, surname_pinyin, _ = SURNAMES[weighted_index(rng, _SURNAME_WEIGHTS)]
        given_chars = rng.sample(GIVEN_CHARS, 1 if rng.random() < 0.3 else 2)
        given = "".join(c for c, _ in given_chars)
        given_pinyin = "".join(p for _, p in given_chars)
        role, _, titles = ROLES[weighted_index(rng, _ROLE_WEIGHTS)]
        english = rng.choice(ENGLISH_NAMES) if rng.random() < 0.3 else None
        subscriber = (index * _MOBILE_STEP + self._mobile_offset) % _MOBILE_SPACE
        return Person(
            index=index,
            company=company,
            role=role,
            title=rng.choice(titles),
            surname=surname,
            surname_pinyin=surname_pinyin,
            given=given,
            given_pinyin=given_pinyin,
            english_name=english,
            mobile=f"{rng.choice(MOBILE_PREFIXES)}{subscriber:08d}",
            corporate_email=self._corporate_email(company, surname_pinyin, given_pinyin, english),
            free_email=_free_email(rng, index, surname_pinyin + given_pinyin),
            desktop_cookie=uuid4(rng),
            mobile_cookie=uuid4(rng),
            unionid="o6_bm" + token(rng, 23, _WECHAT_ALPHABET),
            openid_service="oFw" + token(rng, 25, _WECHAT_ALPHABET),
            openid_mall="oMp" + token(rng, 25, _WECHAT_ALPHABET),
            crm_contact_id=f"003C{index:011d}",
            account_user_id=f"u_{rng.getrandbits(48):012x}",
            subscriber_id=f"sub_{rng.getrandbits(40):010x}",
            interest=rng.choice(PRODUCT_LINES),
            propensity=rng.lognormvariate(0.0, 0.5),
            uses_shared_mailbox=company.shared_mailbox is not None and rng.random() < 0.4,
            uses_shared_device=company.shared_device is not None and rng.random() < 0.5,
            prefers_free_mail=rng.random() < 0.25,
        )

    def _corporate_email(
        self, company: Company, surname: str, given: str, english: str | None
    ) -> str | None:
        if company.domain is None:
            return None
        used = company.used_locals
        if company.industry.key == "government":
            used = self._shared_domain_locals.setdefault(company.domain, set())
        base = _local_part(company.email_pattern, surname, given, english)
        local, number = base, 1
        while local in used:
            number += 1
            local = f"{base}{number}"
        used.add(local)
        return f"{local}@{company.domain}"


def _free_email(rng: random.Random, index: int, pinyin: str) -> str:
    """A private mailbox: a QQ number, or pinyin plus digits made unique by the person number."""
    domain = FREE_MAIL[weighted_index(rng, _FREE_MAIL_WEIGHTS)][0]
    if domain in ("qq.com", "foxmail.com") and rng.random() < 0.7:
        return f"{100_000_000 + index * 7 + rng.randrange(7)}@{domain}"
    return f"{pinyin}{index}@{domain}"
