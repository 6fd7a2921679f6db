"""Accounts that look like one company: found by blocking on comparable name keys, scored by
evidence, suggested for a human to merge (recorded and reversible) or keep apart (for good).

What meets: the same name once both are normalised today (traditional characters, a department
written after the name, made by older normal forms), and an English name whose words are the
pinyin of a Chinese name's trade name — Tianjin Kaitian Bank ↔ 天津凯天农村商业银行 — when their
regions and industries agree; an agency's English name (Zhengzhou Municipal Bureau) and the one
agency of its kind in its city. Two accounts holding different credit codes or mail domains are
two companies and never meet; group ids differ between systems and decide nothing.
"""

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import combinations
from typing import Any

from sqlalchemy import func, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from leadpond.accounts.merges import merge_accounts
from leadpond.accounts.models import Account, AccountKey, AccountSuggestion
from leadpond.db.engine import is_postgres
from leadpond.kit.clock import utcnow
from leadpond.kit.errors import Conflict, NotFound
from leadpond.kit.scope import in_workspace, owned
from leadpond.normalise.chinese import CJK, pinyin
from leadpond.normalise.company import CompanyName, normalise_company_name, region_prefix_length
from leadpond.normalise.company_words import CITIES, LATIN_REGIONS, PROVINCES

# English industry words and the Chinese words one of which the Chinese name must hold.
_INDUSTRY_WORDS = {
    "bank": ("银行",),
    "insurance": ("保险",),
    "securities": ("证券", "基金", "期货"),
    "energy": ("能源", "电力", "石油", "石化", "燃气"),
    "manufacturing": ("制造", "机械", "装备", "设备", "零部件", "汽车", "电子", "工业"),
    "trading": ("贸易", "商贸", "商业", "零售", "超市", "食品", "电子商务"),
    "technology": ("科技", "技术", "信息", "网络", "软件", "通信", "数据"),
    "pharmaceutical": ("医药", "制药", "药业", "医疗", "器械", "健康"),
    "education": ("教育", "培训", "学校"),
    "logistics": ("物流", "运输", "供应链", "货运"),
    "communication": ("通信", "通讯"),
}
# A government agency's English name (Zhengzhou Municipal Bureau) and the Chinese endings its
# kind of agency has (郑州市税务局, 郑州市大数据管理局).
_AGENCY_WORDS = {
    "bureau": ("局",),
    "administration": ("管理局", "管理委员会"),
    "commission": ("委员会",),
    "committee": ("委员会",),
    "center": ("中心",),
    "centre": ("中心",),
    "department": ("厅", "处"),
    "division": ("处",),
    "office": ("办公室", "办", "处"),
    "government": ("政府",),
}
_AGENCY_QUALIFIERS = frozenset({"municipal", "city", "provincial", "district", "people", "s"})
_AGENCY_ENDINGS = tuple(sorted({e for ends in _AGENCY_WORDS.values() for e in ends}, key=len))
_MAX_BLOCK = 20
_REGION_PINYIN = LATIN_REGIONS | {pinyin(region) for region in (*PROVINCES, *CITIES)}
_WRITE_BATCH = 1000


class AccountSuggestionNotFound(NotFound):
    code = "account_suggestion_not_found"


class AccountSuggestionDecided(Conflict):
    code = "account_suggestion_decided"


@dataclass(frozen=True)
class Profile:
    """What one account's names say, in comparable form."""

    id: int
    names: frozenset[str]  # full keys of its name and aliases, normalised today
    english: tuple[str, str, frozenset[str]] | None  # (region, trade pinyin, industry words)
    chinese: tuple[str, str, str] | None  # (region pinyin, trade-name pinyin, name)
    explicit: frozenset[tuple[str, str]]  # group ids, credit codes, domains
    bare: frozenset[str] = frozenset()  # Chinese keys without their leading region
    agency: tuple[str, str] | None = None  # (region pinyin, agency word) of an English agency
    agencies: frozenset[tuple[str, str]] = frozenset()  # (region pinyin, key) of Chinese ones


def _latin_parts(text: str) -> tuple[str, str, frozenset[str]] | None:
    words = [w for w in "".join(c if c.isalnum() else " " for c in text.lower()).split() if w]
    region = words.pop(0) if words and words[0] in _REGION_PINYIN else ""
    if not words:
        return None
    industry = frozenset(w for w in words if w in _INDUSTRY_WORDS)
    trade = words[0]
    return (region, trade, industry) if len(trade) >= 4 and trade not in _INDUSTRY_WORDS else None


def _region_of(key: str) -> str:
    """The pinyin of the province or city a key starts with (深圳市税务局 → shenzhen), or ''."""
    return next((pinyin(region) for region in _REGIONS if key.startswith(region)), "")


_REGIONS = sorted((*PROVINCES, *CITIES), key=len, reverse=True)


def _latin_agency(text: str) -> tuple[str, str] | None:
    """(region, agency word) of an English agency name: Zhengzhou Municipal Bureau →
    (zhengzhou, bureau); None for anything else (a company, an agency without its city)."""
    words = [w for w in "".join(c if c.isalnum() else " " for c in text.lower()).split() if w]
    if len(words) < 2 or words[0] not in _REGION_PINYIN or words[-1] not in _AGENCY_WORDS:
        return None
    if not all(word in _AGENCY_QUALIFIERS for word in words[1:-1]):
        return None
    return words[0], words[-1]


def _chinese_agency(key: str) -> tuple[str, str] | None:
    """(region, key) of a Chinese agency named by its city: 郑州市税务局 → (zhengzhou, …)."""
    region = _region_of(key)
    if not region or not key.endswith(_AGENCY_ENDINGS):
        return None
    return region, key


def _bare(key: str) -> str | None:
    """The key without its leading region — unless the rest is no name of its own: an agency
    (北京市税务局 is not 长沙市税务局) or a stub (大连市公)."""
    rest = key[region_prefix_length(key) :]
    if not rest:
        return key
    if len(rest) < 2 or _chinese_agency(key) is not None:
        return None
    return rest


def _chinese_parts(name: CompanyName) -> tuple[str, str, str] | None:
    key = name.regional_key or name.full_key
    cut = region_prefix_length(key)
    rest = key[cut:]
    if len(rest) < 2:
        return None
    return pinyin(key[:cut]), pinyin(rest[:2]), key


def profile(account: Account, keys: list[tuple[str, str]]) -> Profile:
    """An account's comparable names and explicit ids."""
    texts = [account.name, *(value for kind, value in keys if kind in ("name", "alias"))]
    names, bare, english, chinese = set(), set(), None, None
    agency, agencies = None, set()
    for text in texts:
        name = normalise_company_name(text) if text else None
        if name is None:
            continue
        names.add(name.full_key)
        if CJK.search(name.full_key) is not None:
            key = name.regional_key or name.full_key
            without_region = _bare(key)
            if without_region is not None:
                bare.add(without_region)
            found = _chinese_agency(key)
            if found is not None:
                agencies.add(found)
        if CJK.search(name.full_key) is None:
            english = english or _latin_parts(text)
            agency = agency or _latin_agency(text)
        else:
            chinese = chinese or _chinese_parts(name)
    explicit = frozenset(
        (kind, value) for kind, value in keys if kind in ("group_id", "uscc", "domain")
    )
    return Profile(
        account.id,
        frozenset(names),
        english,
        chinese,
        explicit,
        frozenset(bare),
        agency,
        frozenset(agencies),
    )


def _blocks(profile: Profile) -> Iterator[str]:
    for name in profile.names:
        yield f"name:{name}"
    for key in profile.bare:
        yield f"bare:{key}"
    if profile.english is not None:
        yield f"pinyin:{profile.english[1]}"
    if profile.chinese is not None:
        for length in (2, 3):
            yield f"pinyin:{_trade_pinyin(profile.chinese, length)}"


def _trade_pinyin(chinese: tuple[str, str, str], length: int) -> str:
    key = chinese[2]
    cut = region_prefix_length(key)
    return pinyin(key[cut : cut + length])


_ANY_INDUSTRY = frozenset(word for words in _INDUSTRY_WORDS.values() for word in words)


def _industry_fits(english: frozenset[str], chinese_name: str) -> bool:
    """The English industry words are in the Chinese name — or it names no industry at all (a
    bare trade name contradicts nothing). Logistics is not 佳朗汽车, manufacturing not 鼎鑫石化."""
    if not any(word in chinese_name for word in _ANY_INDUSTRY):
        return True
    return all(any(word in chinese_name for word in _INDUSTRY_WORDS[w]) for w in english)


def compare_explicit(a: Profile, b: Profile) -> bool:
    """False when the two hold different credit codes or mail domains.

    A company has one unified social credit code; two codes are two companies. Group ids are
    no such evidence: they come from different systems (a CRM account id, a product's tenant
    id per sign-up), so one company holds several of them and a difference says nothing.
    """
    for kind in ("uscc", "domain"):
        held_a = {value for k, value in a.explicit if k == kind}
        held_b = {value for k, value in b.explicit if k == kind}
        if held_a and held_b and not held_a & held_b:
            return False
    return True


def compare(a: Profile, b: Profile) -> tuple[float, list[dict[str, Any]]] | None:
    """(score, evidence) when the two accounts look like one company, else None."""
    if not compare_explicit(a, b):
        return None
    if a.names & b.names:
        return 0.99, [{"comparison": "name", "level": "same_normalised_name", "weight": None}]
    if a.bare & b.bare:
        # 九科东村镇银行(武汉) and 武汉九科东村镇银行: one names its city, the other does not.
        return 0.95, [{"comparison": "name", "level": "same_name_without_region", "weight": None}]
    for english_side, chinese_side in ((a, b), (b, a)):
        english, chinese = english_side.english, chinese_side.chinese
        if english is None or chinese is None or english_side.chinese is not None:
            continue
        region, trade, industry = english
        trades = {_trade_pinyin(chinese, n) for n in (2, 3)}
        chinese_names = [name for name in chinese_side.names if CJK.search(name) is not None]
        if trade not in trades or not all(_industry_fits(industry, n) for n in chinese_names):
            continue
        evidence = [{"comparison": "name", "level": "english_name_is_pinyin", "weight": None}]
        if region and chinese[0]:
            if region != chinese[0]:
                continue
            evidence.append({"comparison": "region", "level": "exact", "weight": None})
            return 0.97, evidence
        return 0.9, evidence
    return None


def candidate_pairs(profiles: list[Profile]) -> Iterator[tuple[Profile, Profile]]:
    """Pairs sharing a block key, each once; oversized blocks (a generic word) are skipped."""
    blocks: dict[str, list[Profile]] = {}
    for item in profiles:
        for key in set(_blocks(item)):
            blocks.setdefault(key, []).append(item)
    seen: set[tuple[int, int]] = set()
    for members in blocks.values():
        if not 2 <= len(members) <= _MAX_BLOCK:
            continue
        for a, b in combinations(sorted(members, key=lambda p: p.id), 2):
            if (a.id, b.id) not in seen:
                seen.add((a.id, b.id))
                yield a, b


def scan_accounts(session: Session, workspace_id: uuid.UUID) -> int:
    """Suggest every pair of accounts that look like one company; returns new suggestions."""
    keys: dict[int, list[tuple[str, str]]] = {}
    for account_id, kind, value in session.execute(
        select(AccountKey.account_id, AccountKey.kind, AccountKey.value).where(
            owned(AccountKey, workspace_id),
            AccountKey.kind.in_(("name", "alias", "group_id", "uscc", "domain")),
        )
    ):
        keys.setdefault(account_id, []).append((kind, value))
    profiles = [
        profile(account, keys.get(account.id, []))
        for account in session.scalars(in_workspace(Account, workspace_id))
    ]
    now = utcnow()
    found = [(a, b, scored) for a, b in candidate_pairs(profiles) if (scored := compare(a, b))]
    rows = [_row(workspace_id, a.id, b.id, scored, now) for a, b, scored in unambiguous(found)]
    joined = _Clusters()
    for row in rows:
        joined.join(row["account_a_id"], row["account_b_id"])
    for short, full in short_names(profiles, joined):
        low, high = sorted((short.id, full.id))
        evidence = [{"comparison": "name", "level": "short_name_of", "weight": None}]
        rows.append(_row(workspace_id, low, high, (0.9, evidence), now))
        joined.join(low, high)
    for english, chinese in agencies(profiles, joined):
        low, high = sorted((english.id, chinese.id))
        evidence = [
            {"comparison": "name", "level": "english_agency_name", "weight": None},
            {"comparison": "region", "level": "exact", "weight": None},
        ]
        rows.append(_row(workspace_id, low, high, (0.9, evidence), now))
        joined.join(low, high)
    return _insert(session, rows)


Scored = tuple[Profile, Profile, tuple[float, list[dict[str, Any]]]]


def unambiguous(found: list[Scored]) -> Iterator[Scored]:
    """The pairs, less the English-name guesses that are not the best or not the only one.

    An English name (Shijiazhuang Dingxin Manufacturing) is pinyin, and pinyin is ambiguous:
    dingxin is 鼎信 and 鼎鑫. When it meets a Chinese name with its region and industry, its
    weaker matches (a bare 鼎信 without region) go; when it meets only weak ones, they stay only
    if they are all one trade name in characters.
    """
    guesses: dict[int, list[Scored]] = {}
    for item in found:
        a, b, (_, evidence) = item
        if evidence[0]["level"] != "english_name_is_pinyin":
            yield item
            continue
        english = a if a.chinese is None else b
        guesses.setdefault(english.id, []).append(item)
    for items in guesses.values():
        best = max(score for _, _, (score, _) in items)
        kept = [item for item in items if item[2][0] == best]
        trades = {_trade_of(a if a.chinese is not None else b) for a, b, _ in kept}
        if best >= 0.97 or len(trades) == 1:
            yield from kept


def _trade_of(chinese_side: Profile) -> str:
    assert chinese_side.chinese is not None
    key = chinese_side.chinese[2]
    cut = region_prefix_length(key)
    return key[cut : cut + 2]


def agencies(profiles: list[Profile], joined: "_Clusters") -> Iterator[tuple[Profile, Profile]]:
    """(English, Chinese): an agency known only by its English name (Zhengzhou Municipal
    Bureau) and the one Chinese agency of that city whose name ends as that kind of agency does
    (郑州市税务局). Two agencies of the city that fit (its tax and its labour bureau): nothing —
    a city's mail domain (zhengzhou.gov.cn) is shared by all of them and decides nothing."""
    by_region: dict[str, list[tuple[str, Profile]]] = {}
    for item in profiles:
        for region, key in item.agencies:
            by_region.setdefault(region, []).append((key, item))
    for item in profiles:
        if item.agency is None or item.chinese is not None:
            continue
        region, word = item.agency
        fitting = {
            other.id: other
            for key, other in by_region.get(region, [])
            if other.id != item.id and key.endswith(_AGENCY_WORDS[word])
        }
        if fitting and len({joined.find(account) for account in fitting}) == 1:
            chinese = fitting[min(fitting)]
            if compare_explicit(item, chinese):
                yield item, chinese


class _Clusters:
    """Accounts already suggested together: several of them are still one candidate."""

    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def find(self, item: int) -> int:
        while self.parent.get(item, item) != item:
            item = self.parent[item]
        return item

    def join(self, a: int, b: int) -> None:
        self.parent[self.find(b)] = self.find(a)


def short_names(profiles: list[Profile], joined: "_Clusters") -> Iterator[tuple[Profile, Profile]]:
    """(short, full): an account known only by a trade name (恒通, 达兴电子) and the one account
    (or accounts already suggested together) whose name starts with it (长沙恒通汽车零部件).
    Two unrelated such accounts: ambiguous, nothing."""
    by_head: dict[str, list[tuple[str, Profile]]] = {}
    for item in profiles:
        for key in item.bare:
            by_head.setdefault(key[:2], []).append((key, item))
    for members in by_head.values():
        if len(members) < 2 or len(members) > _MAX_BLOCK * 5:
            continue
        for key, short in members:
            if any(len(other) < len(key) for other in short.bare):
                continue
            longer = {
                item.id: item
                for other, item in members
                if item.id != short.id and other != key and other.startswith(key)
            }
            if len({joined.find(account) for account in longer}) == 1:
                full = longer[min(longer)]
                if compare_explicit(short, full):
                    yield short, full


def _row(
    workspace_id: uuid.UUID,
    a: int,
    b: int,
    found: tuple[float, list[dict[str, Any]]],
    now: datetime,
) -> dict[str, Any]:
    return {
        "workspace_id": workspace_id,
        "account_a_id": a,
        "account_b_id": b,
        "score": found[0],
        "evidence": found[1],
        "status": "pending",
        "created_at": now,
    }


def _insert(session: Session, rows: list[dict[str, Any]]) -> int:
    if not rows:
        return 0
    dialect = postgresql if is_postgres(session) else sqlite
    workspace_id = rows[0]["workspace_id"]
    counted = select(func.count(AccountSuggestion.id)).where(owned(AccountSuggestion, workspace_id))
    before = session.scalar(counted) or 0
    for start in range(0, len(rows), _WRITE_BATCH):
        session.execute(
            dialect.insert(AccountSuggestion).on_conflict_do_nothing(
                index_elements=["workspace_id", "account_a_id", "account_b_id"]
            ),
            rows[start : start + _WRITE_BATCH],
        )
    return (session.scalar(counted) or 0) - before


def list_account_suggestions(
    session: Session,
    workspace_id: uuid.UUID,
    status: str,
    limit: int,
    after: tuple[float, int] | None = None,
) -> tuple[int, list[AccountSuggestion]]:
    """A keyset page of account suggestions in a status, best first."""
    in_status = (owned(AccountSuggestion, workspace_id), AccountSuggestion.status == status)
    total = session.scalar(select(func.count(AccountSuggestion.id)).where(*in_status)) or 0
    scoped = select(AccountSuggestion).where(*in_status)
    if after is not None:
        scoped = scoped.where(
            tuple_(AccountSuggestion.score, AccountSuggestion.id) < tuple_(*after)
        )
    page = session.scalars(
        scoped.order_by(AccountSuggestion.score.desc(), AccountSuggestion.id.desc()).limit(limit)
    ).all()
    return total, list(page)


def _pending(session: Session, workspace_id: uuid.UUID, suggestion_id: int) -> AccountSuggestion:
    found = session.get(AccountSuggestion, suggestion_id)
    if found is None or found.workspace_id != workspace_id:
        raise AccountSuggestionNotFound(f"account suggestion {suggestion_id} not found")
    if found.status != "pending":
        raise AccountSuggestionDecided(f"account suggestion {suggestion_id} is {found.status}")
    return found


def accept(session: Session, workspace_id: uuid.UUID, suggestion_id: int, actor: str) -> int:
    """Merge the two accounts into the older one (an undoable merge); returns the survivor."""
    suggestion = _pending(session, workspace_id, suggestion_id)
    survivor, merged = suggestion.account_a_id, suggestion.account_b_id
    merge_accounts(
        session, workspace_id, survivor, merged, actor=actor, reason="suggestion_accepted"
    )
    suggestion.status, suggestion.decided_at, suggestion.decided_by = "accepted", utcnow(), actor
    return survivor


def reject(
    session: Session, workspace_id: uuid.UUID, suggestion_id: int, actor: str
) -> AccountSuggestion:
    """Two companies after all: the pair is never suggested again."""
    suggestion = _pending(session, workspace_id, suggestion_id)
    suggestion.status, suggestion.decided_at, suggestion.decided_by = "rejected", utcnow(), actor
    return suggestion
