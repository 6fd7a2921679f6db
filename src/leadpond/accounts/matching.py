"""Which account a set of company signals belongs to: pure logic over an in-memory key index.

The strongest key decides: group id > credit code > corporate mail domain > full name (or an
explicit alias) > core name > a one-character typo of a known name. The last two are fuzzy and
only ever *meet* an account: exactly one candidate must fit, or nothing matches and the caller
creates a new account. A split account can be joined later by an alias; a false merge cannot be
seen from the data, so ambiguity always chooses the split.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from leadpond.normalise.company import (
    CompanyName,
    describe,
    email_domain,
    normalise_company_name,
    normalise_domain,
    region_prefix_length,
    validate_uscc,
)
from leadpond.normalise.company_words import WEAK_DESCRIPTORS

KeyRef = tuple[str, str]

_COMPANY_TRAITS = ("company", "company_name", "companyName", "organization", "organisation")
_USCC_TRAITS = ("uscc", "credit_code", "creditCode", "unified_social_credit_code")
_TITLE_TRAITS = ("title", "job_title", "jobTitle", "position")
_EXPLICIT_KINDS = ("group_id", "uscc")


@dataclass(slots=True)
class AccountSignals:
    """What one event says about the company of its person."""

    source: str
    group_id: str | None = None
    uscc: str | None = None
    domain: str | None = None
    name: CompanyName | None = None
    display_name: str | None = None
    industry: str | None = None
    traits: dict[str, Any] = field(default_factory=dict)

    def exact_keys(self) -> list[KeyRef]:
        """Every key an account could already hold for these signals."""
        keys: list[KeyRef] = []
        if self.group_id:
            keys.append(("group_id", self.group_id))
        if self.uscc:
            keys.append(("uscc", self.uscc))
        if self.domain:
            keys.append(("domain", self.domain))
        if self.name is not None:
            keys += [("alias", self.name.full_key), ("name", self.name.full_key)]
            if self.name.core_matchable:
                keys.append(("core_name", self.name.core_key))
        return keys


def _text(value: object) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def _first(traits: dict[str, Any], names: Iterable[str]) -> str | None:
    for name in names:
        value = _text(traits.get(name))
        if value is not None:
            return value
    return None


def title_of(traits: dict[str, Any]) -> str | None:
    """The person's job title, from whichever trait carries it."""
    return _first(traits, _TITLE_TRAITS)


def person_signals(traits: dict[str, Any]) -> AccountSignals | None:
    """Company signals in a person's traits (``company`` may be a Segment company object)."""
    company = traits.get("company")
    industry = None
    if isinstance(company, dict):
        display = _first(company, ("name",))
        industry = _first(company, ("industry",))
    else:
        display = _first(traits, _COMPANY_TRAITS)
    email = _text(traits.get("email"))
    code = _first(traits, _USCC_TRAITS)
    signals = AccountSignals(
        source="company_name",
        uscc=validate_uscc(code) if code else None,
        domain=email_domain(email) if email else None,
        name=normalise_company_name(display) if display else None,
        industry=industry or _first(traits, ("industry",)),
    )
    if signals.name is not None:
        signals.display_name = display
    if signals.uscc:
        signals.source = "uscc"
    elif signals.domain:
        signals.source = "email_domain"
    elif signals.name is None:
        return None
    return signals


def group_signals(group_id: str | None, traits: dict[str, Any]) -> AccountSignals | None:
    """Company signals of a ``group`` call: its group id and the company traits it carries."""
    display = _first(traits, ("name", *_COMPANY_TRAITS))
    site = _first(traits, ("domain", "website", "url", "email"))
    code = _first(traits, _USCC_TRAITS)
    signals = AccountSignals(
        source="group",
        group_id=group_id.strip() if group_id and group_id.strip() else None,
        uscc=validate_uscc(code) if code else None,
        domain=normalise_domain(site) if site else None,
        name=normalise_company_name(display) if display else None,
        industry=_first(traits, ("industry",)),
        traits={k: v for k, v in traits.items() if v is not None},
    )
    if signals.domain and email_domain(f"info@{signals.domain}") is None:
        signals.domain = None
    if signals.name is not None:
        signals.display_name = display
    if not (signals.group_id or signals.uscc or signals.domain or signals.name):
        return None
    return signals


def deletions(key: str) -> set[str]:
    """Every string one character shorter than ``key``: the typo index of a name."""
    return {key[:i] + key[i + 1 :] for i in range(len(key))}


def fuzzy_eligible(name: CompanyName) -> bool:
    """Only names long enough for one wrong character to still be a typo are typo-matched."""
    return not name.institution and len(name.full_key) >= (6 if name.latin else 4)


def _one_edit(a: str, b: str) -> bool:
    """Optimal string alignment distance exactly 1 (substitution, indel or adjacent swap)."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    prefix = 0
    while prefix < min(len(a), len(b)) and a[prefix] == b[prefix]:
        prefix += 1
    if len(a) == len(b):
        if a[prefix + 1 :] == b[prefix + 1 :]:
            return True
        swapped = a[prefix : prefix + 2] == b[prefix : prefix + 2][::-1]
        return swapped and a[prefix + 2 :] == b[prefix + 2 :]
    longer, shorter = (a, b) if len(a) > len(b) else (b, a)
    return longer[prefix + 1 :] == shorter[prefix:]


@lru_cache(maxsize=65536)
def _description(full_key: str) -> tuple[str, frozenset[str], bool]:
    return describe(full_key)


def _typo_fits(query: str, known: str) -> bool:
    """One edit apart, and not inside a short trade name or a region (北京汽车 ≠ 南京汽车)."""
    if not _one_edit(query, known):
        return False
    core, _, institution = _description(known)
    if institution:
        return False
    edit_at = 0
    while edit_at < min(len(query), len(known)) and query[edit_at] == known[edit_at]:
        edit_at += 1
    if edit_at < max(region_prefix_length(query), region_prefix_length(known)):
        return False
    shortest_core = 5 if known.isascii() else 3
    return edit_at >= len(core) or len(core) >= shortest_core


class AccountDirectory:
    """The keys of the accounts one batch may touch, with the rules that pick one.

    Account references are ints: real ids, or negative ids for accounts created in this batch.
    """

    def __init__(self) -> None:
        self.owner: dict[KeyRef, int] = {}
        self.cores: dict[str, set[int]] = {}
        self.typos: dict[str, set[int]] = {}
        self.names: dict[int, set[str]] = {}
        self.explicit: dict[int, set[str]] = {}
        self.redirect: dict[int, int] = {}
        self.kinds: dict[int, set[str]] = {}

    def load(self, rows: Iterable[tuple[str, str, int]]) -> None:
        """Add stored keys (kind, value, account id) to the index."""
        for kind, value, account in rows:
            self._index(kind, value, account)

    def _index(self, kind: str, value: str, account: int) -> None:
        if kind == "core_name":
            self.cores.setdefault(value, set()).add(account)
        elif kind == "name_deletion":
            self.typos.setdefault(value, set()).add(account)
        else:
            self.owner.setdefault((kind, value), account)
            self.kinds.setdefault(account, set()).add(kind)
            if kind in ("name", "alias"):
                self.names.setdefault(account, set()).add(value)
            elif kind in _EXPLICIT_KINDS:
                self.explicit.setdefault(account, set()).add(kind)

    def final(self, account: int) -> int:
        """The account an absorbed account now lives on (itself when never absorbed)."""
        while account in self.redirect:
            account = self.redirect[account]
        return account

    def absorbable(self, signals: AccountSignals) -> tuple[int, int] | None:
        """(nameless, named) when the signals prove two accounts are one company.

        A credit code or mail domain leads to an account that has no name yet, while the
        company's name (exactly, or by an unambiguous core) leads to another that lacks that
        kind of key: the first was made from an address alone, the second from a typed name
        alone. Nothing else merges accounts.
        """
        name = signals.name
        if name is None:
            return None
        for kind, value in (("uscc", signals.uscc), ("domain", signals.domain)):
            nameless = self.owner.get((kind, value or ""))
            if nameless is None or self.names.get(nameless):
                continue
            named = self.resolve(AccountSignals("company_name", name=name), fuzzy=False)
            if named is None or named == nameless or kind in self.kinds.get(named, ()):
                return None
            clash = self.explicit.get(nameless, set()) & self.explicit.get(named, set())
            return None if clash else (nameless, named)
        return None

    def absorb(self, loser: int, survivor: int) -> None:
        """Move every key of ``loser`` to ``survivor`` in the index."""
        for key, account in list(self.owner.items()):
            if account == loser:
                self.owner[key] = survivor
        for group in (*self.cores.values(), *self.typos.values()):
            if loser in group:
                group.discard(loser)
                group.add(survivor)
        self.names.setdefault(survivor, set()).update(self.names.pop(loser, set()))
        self.explicit.setdefault(survivor, set()).update(self.explicit.pop(loser, set()))
        self.kinds.setdefault(survivor, set()).update(self.kinds.pop(loser, set()))
        self.redirect[loser] = survivor

    def accounts(self) -> set[int]:
        """Every account the index knows of."""
        found = set(self.owner.values()) | set(self.names)
        for group in (*self.cores.values(), *self.typos.values()):
            found |= group
        return found

    def _fits(self, account: int, signals: AccountSignals) -> bool:
        """An explicit id (group id, credit code) never joins an account holding another one."""
        held = self.explicit.get(account, set())
        return not ((signals.group_id and "group_id" in held) or (signals.uscc and "uscc" in held))

    def resolve(self, signals: AccountSignals, *, fuzzy: bool = True) -> int | None:
        """The account these signals belong to, or None when none fits unambiguously."""
        for kind, value in (("group_id", signals.group_id), ("uscc", signals.uscc)):
            if value and (kind, value) in self.owner:
                return self.owner[(kind, value)]
        name = signals.name
        candidates = [
            self.owner.get(key)
            for key in (
                ("domain", signals.domain or ""),
                ("alias", name.full_key if name else ""),
                ("name", name.full_key if name else ""),
            )
        ]
        for account in candidates:
            if account is not None and self._fits(account, signals):
                return account
        if name is None:
            return None
        if name.core_matchable:
            fits = {a for a in self.cores.get(name.core_key, ()) if self._core_fits(a, name)}
            fits = {a for a in fits if self._fits(a, signals)}
            if len(fits) == 1:
                return fits.pop()
        if fuzzy and fuzzy_eligible(name):
            near = {a for a in self.typo_candidates(name.full_key) if self._fits(a, signals)}
            near = {
                a for a in near if any(_typo_fits(name.full_key, n) for n in self.names.get(a, ()))
            }
            if len(near) == 1:
                return near.pop()
        return None

    def _core_fits(self, account: int, name: CompanyName) -> bool:
        """Same trade name, and one's industry words include the other's (科技 ⊂ 信息科技)."""
        for known in self.names.get(account, ()):
            core, descriptors, institution = _description(known)
            if institution or core != name.core_key:
                continue
            smaller, larger = sorted((descriptors, name.descriptors), key=len)
            if smaller <= larger and (smaller or larger <= WEAK_DESCRIPTORS):
                return True
        return False

    def typo_candidates(self, full_key: str) -> set[int]:
        """Accounts holding a name one edit away from ``full_key`` (to be verified)."""
        found = set(self.typos.get(full_key, ()))
        for shorter in deletions(full_key):
            found |= self.typos.get(shorter, set())
            for kind in ("name", "alias"):
                owner = self.owner.get((kind, shorter))
                if owner is not None:
                    found.add(owner)
        return found

    def claim(self, account: int, signals: AccountSignals) -> list[KeyRef]:
        """Give the account every key of the signals no other account holds; returns new keys."""
        new: list[KeyRef] = []
        unique: list[KeyRef] = [
            (kind, value)
            for kind, value in (
                ("group_id", signals.group_id),
                ("uscc", signals.uscc),
                ("domain", signals.domain),
            )
            if value
        ]
        name = signals.name
        if name is not None and ("alias", name.full_key) not in self.owner:
            unique.append(("name", name.full_key))
        for key in unique:
            if key not in self.owner:
                self._index(*key, account)
                new.append(key)
        if name is None or ("name", name.full_key) not in new:
            return new
        cores = [name.core_key] if name.core_matchable else []
        if name.regional_key and ("name", name.regional_key) not in self.owner:
            self._index("name", name.regional_key, account)
            new.append(("name", name.regional_key))
            cores.append(_description(name.regional_key)[0])
        for core in cores:
            if account not in self.cores.get(core, ()):
                self._index("core_name", core, account)
                new.append(("core_name", core))
        if fuzzy_eligible(name):
            for shorter in sorted(deletions(name.full_key)):
                if account not in self.typos.get(shorter, ()):
                    self._index("name_deletion", shorter, account)
                    new.append(("name_deletion", shorter))
        return new
