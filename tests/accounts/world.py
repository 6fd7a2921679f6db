"""A labelled world of sign-ups: who works where, written the many ways people write it.

Every record is one person's identify (or group) call with a ground-truth company label. The
world holds format variants (regions in or out of brackets, spaces, half/full width, branches,
cut-off legal forms), typos, free and corporate mail, credit codes, group calls, shared
mailboxes (several people behind info@) and shared devices (a booth tablet two visitors use).
"""

import random
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

from stdnum.cn import uscc as stdnum_uscc

from tests.accounts.companies import companies

FREE_MAIL = ("qq.com", "163.com", "vip.163.com", "126.com", "foxmail.com", "gmail.com", "sina.com")
TITLES = ("CIO", "信息中心主任", "IT部门经理", "项目经理", "软件工程师", "采购经理", "运维", "")
REGION_PREFIXES = ("深圳市", "北京", "上海", "杭州", "浙江", "珠海", "大连")
LEGAL = ("股份有限公司", "有限责任公司", "有限公司", "集团公司")
CITIES = ("北京", "上海", "广州", "成都", "武汉")
NO_COMPANY = (None, "个人", "无", "学生", "自由职业", "N/A")


@dataclass
class Record:
    user_id: str
    company: int | None
    call: str
    traits: dict[str, Any]
    anonymous_id: str | None = None
    group_id: str | None = None
    after_aliases: bool = False

    def message(self) -> dict[str, Any]:
        body: dict[str, Any] = {"type": self.call, "userId": self.user_id, "traits": self.traits}
        if self.anonymous_id:
            body["anonymousId"] = self.anonymous_id
        if self.group_id:
            body["groupId"] = self.group_id
        return body


@dataclass
class World:
    records: list[Record] = field(default_factory=list)
    # (company, registered name, alias an operator attaches)
    aliases: list[tuple[int, str, str]] = field(default_factory=list)


def _credit_code(rng: random.Random) -> str:
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    body = "91" + "".join(rng.choice("0123456789") for _ in range(6))
    body += "".join(rng.choice(alphabet) for _ in range(9))
    return body + stdnum_uscc.calc_check_digit(body)


def format_variants(registered: str, short: str, index: int) -> list[str]:
    """The registered name as forms and people rewrite it."""
    variants = [registered, short, " " + registered.replace("（", "(").replace("）", ")") + "  "]
    legal = next((form for form in LEGAL if registered.endswith(form)), None)
    region = next((r for r in REGION_PREFIXES if registered.startswith(r)), None)
    if region and legal and not short.startswith(region.rstrip("市")):
        trade = registered[len(region) : -len(legal)]
        variants.append(f"{trade}（{region.rstrip('市')}）{legal}")
    if legal:
        city = CITIES[index % len(CITIES)]
        branch = "分行" if registered.endswith("银行股份有限公司") else "分公司"
        variants.append(f"{registered}{city}{branch}")
        if index % 3 == 0:
            variants.append(registered[:-1])
        if index % 4 == 1:
            variants.append(registered.replace(legal, " " + legal).replace("有限", "有限 "))
    return variants


def build_world(seed: int = 20261123) -> World:
    """The labelled records, in a shuffled arrival order."""
    rng = random.Random(seed)
    world, serial = World(), 0

    def person(company: int | None, traits: dict[str, Any], **extra: Any) -> Record:
        nonlocal serial
        serial += 1
        record = Record(f"u{serial:04d}", company, "identify", traits, **extra)
        world.records.append(record)
        return record

    for index, (registered, short, domain, typos, aliases) in enumerate(companies()):
        code = _credit_code(rng)
        for variant in format_variants(registered, short, index) + typos:
            mail = domain if rng.random() < 0.2 else rng.choice(FREE_MAIL)
            traits: dict[str, Any] = {
                "company": variant,
                "email": f"p{serial + 1}@{mail}",
                "title": rng.choice(TITLES),
            }
            if rng.random() < 0.1:
                traits["credit_code"] = code
            person(index, traits)
        if index % 8 == 0:
            group = person(index, {}, group_id=f"crm-{index}")
            group.call = "group"
            group.traits = {"name": registered, "website": f"https://www.{domain}/"}
        if index % 10 == 5:
            for _ in range(3):  # a shared mailbox: three people behind one address
                typed = rng.choice([short, registered, None])
                person(index, {"email": f"info@{domain}", "company": typed})
        for alias in aliases:
            world.aliases.append((index, registered, alias))
            person(index, {"company": alias, "email": f"a{serial}@qq.com"}, after_aliases=True)
    for _ in range(15):
        company = rng.choice(NO_COMPANY)
        person(None, {"email": f"n{serial}@{rng.choice(FREE_MAIL)}", "company": company})
    free = [r for r in world.records if r.call == "identify" and r.company is not None]
    pairs = [(a, b) for a, b in combinations(rng.sample(free, 40), 2) if a.company != b.company]
    for device, (one, other) in enumerate(pairs[:: max(1, len(pairs) // 12)][:12]):
        one.anonymous_id = other.anonymous_id = f"booth-tablet-{device}"
    rng.shuffle(world.records)
    return world


def pairwise_scores(truth: dict[str, int | None], found: dict[str, int | None]) -> dict[str, Any]:
    """Pairwise precision and recall of account matching over every pair of records."""
    true_pos = false_pos = false_neg = 0
    for one, other in combinations(sorted(truth), 2):
        same_company = truth[one] is not None and truth[one] == truth[other]
        same_account = found.get(one) is not None and found.get(one) == found.get(other)
        true_pos += same_company and same_account
        false_pos += same_account and not same_company
        false_neg += same_company and not same_account
    return {
        "records": len(truth),
        "companies": len({c for c in truth.values() if c is not None}),
        "true_pairs": true_pos + false_neg,
        "precision": true_pos / (true_pos + false_pos) if true_pos + false_pos else 1.0,
        "recall": true_pos / (true_pos + false_neg) if true_pos + false_neg else 1.0,
        "false_merged_pairs": false_pos,
        "missed_pairs": false_neg,
    }
