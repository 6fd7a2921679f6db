"""Companies of the demo world: legal names and the many ways people write them, domains, USCCs."""

import random
from dataclasses import dataclass, field

from stdnum.cn import uscc as uscc_checksum

from leadpond.demo.draw import cumulative, uuid4, weighted_index
from leadpond.demo.vocab import (
    BRAND_CHARS,
    CITIES,
    DISTRICTS,
    INDUSTRIES,
    SIZE_BANDS,
    TRADITIONAL,
    City,
    Industry,
)

_CITY_WEIGHTS = cumulative(c.weight for c in CITIES)
_INDUSTRY_WEIGHTS = cumulative(i.weight for i in INDUSTRIES)
_ORG_CODE_CHARS = "0123456789"
_ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_AGENCY_ENGLISH = (
    ("管理局", "Administration"),
    ("局", "Bureau"),
    ("中心", "Center"),
    ("", "Bureau"),  # 公安局科技信息化处: a division of the bureau
)
_DEPARTMENTS = ("信息中心", "信息科技部", "数据管理部", "科技部", "IT部")
_ENGLISH_WORDS = {
    "banking": "Bank",
    "insurance": "Insurance",
    "securities": "Securities",
    "energy": "Energy Group",
    "manufacturing": "Manufacturing",
    "retail": "Trading",
    "government": "Bureau",
    "internet": "Technology",
    "healthcare": "Pharmaceutical",
    "education": "Education Technology",
    "logistics": "Logistics",
    "telecom": "Communication Technology",
}


@dataclass(slots=True)
class Company:
    """One true organisation; ``index`` is its ground-truth id."""

    index: int
    industry: Industry
    city: City
    legal_name: str
    trade_name: str
    trade_pinyin: str
    suffix: str
    english_name: str
    domain: str | None
    size_band: str
    uscc: str
    contacts: int
    crm_account_id: str
    switchboard: str
    shared_mailbox: str | None = None
    shared_device: str | None = None
    email_pattern: int = 0
    used_locals: set[str] = field(default_factory=set)

    def written_name(self, rng: random.Random) -> str:
        """The company as one person types it into one form."""
        roll = rng.random()
        if roll < 0.45:
            return self.legal_name
        if roll < 0.63:
            return self.trade_name
        if roll < 0.72:
            return self.trade_name + self.suffix[:2]
        if roll < 0.78 and self.industry.key != "government" and "有限" in self.suffix:
            left, right = ("（", "）") if rng.random() < 0.5 else ("(", ")")
            head, _, tail = self.suffix.partition("有限")
            return f"{self.trade_name}{head}{left}{self.city.name}{right}有限{tail}"
        if roll < 0.85:
            return self.english_name if rng.random() < 0.6 else self.english_name.split(" Co")[0]
        if roll < 0.90:
            return f"{self.legal_name} {rng.choice(_DEPARTMENTS)}"
        if roll < 0.94:
            return self.legal_name.translate(TRADITIONAL)
        if rng.random() < 0.5:
            return f" {self.legal_name} "
        return self.legal_name.replace("公司", "公 司")


def _org_code(rng: random.Random) -> str:
    """A GB 11714 organisation code: eight characters and their check character."""
    body = "".join(rng.choice(_ORG_CODE_CHARS) for _ in range(8))
    check = 11 - sum(int(c) * w for c, w in zip(body, _ORG_CODE_WEIGHTS, strict=True)) % 11
    return body + ("X" if check == 10 else "0" if check == 11 else str(check))


def make_uscc(rng: random.Random, prefix: str, division: str) -> str:
    """A valid 18-character unified social credit code (统一社会信用代码)."""
    partial = prefix + division + _org_code(rng)
    return partial + uscc_checksum.calc_check_digit(partial + "0")


class CompanyFactory:
    """Draws companies one after the other; names and domains stay unique across the world."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._legal_names: set[str] = set()
        self._domains: set[str] = set()

    def make(self, index: int) -> Company:
        """Company number ``index`` (its draws depend only on the seed and the index)."""
        rng = random.Random(f"{self.seed}/company/{index}")
        industry = INDUSTRIES[weighted_index(rng, _INDUSTRY_WEIGHTS)]
        city = CITIES[weighted_index(rng, _CITY_WEIGHTS)]
        band_index = weighted_index(rng, cumulative(industry.size_weights))
        size_band, scale = SIZE_BANDS[band_index]
        legal, trade, pinyin, suffix = self._name(rng, industry, city)
        domain = self._domain(rng, industry, city, pinyin, band_index)
        contacts = max(1, min(400, round(rng.expovariate(1.0 / (1.6 * scale)))))
        company = Company(
            index=index,
            industry=industry,
            city=city,
            legal_name=legal,
            trade_name=trade,
            trade_pinyin=pinyin,
            suffix=suffix,
            english_name=_english(city, pinyin, industry, suffix),
            domain=domain,
            size_band=size_band,
            uscc=make_uscc(rng, industry.uscc_prefix, city.division),
            contacts=contacts,
            crm_account_id=f"001A{rng.getrandbits(40):012X}",
            switchboard=f"{city.area_code}-{rng.randrange(55_000_000, 89_999_999)}",
            email_pattern=rng.randrange(5),
        )
        if domain and contacts >= 3 and rng.random() < 0.12:
            company.shared_mailbox = f"{rng.choice(('info', 'market', 'it', 'admin'))}@{domain}"
        if contacts >= 3 and rng.random() < 0.08:
            company.shared_device = uuid4(rng)
        return company

    def _name(
        self, rng: random.Random, industry: Industry, city: City
    ) -> tuple[str, str, str, str]:
        for attempt in range(50):
            suffix = rng.choice(industry.suffixes)
            if industry.key == "government":
                district = rng.choice(DISTRICTS) + "区" if rng.random() < 0.6 else ""
                trade, pinyin = city.name + district, city.pinyin
                legal = f"{city.name}市{district}{suffix[1:]}"
            else:
                chars = rng.sample(BRAND_CHARS, 3 if rng.random() < 0.12 or attempt > 20 else 2)
                trade = "".join(c for c, _ in chars)
                pinyin = "".join(p for _, p in chars)
                legal = f"{city.name}{trade}{suffix}" if rng.random() < 0.7 else trade + suffix
            if legal not in self._legal_names:
                self._legal_names.add(legal)
                return legal, trade, pinyin, suffix
        legal = f"{legal}{len(self._legal_names)}"
        self._legal_names.add(legal)
        return legal, trade, pinyin, suffix

    def _domain(
        self, rng: random.Random, industry: Industry, city: City, pinyin: str, band: int
    ) -> str | None:
        if industry.key == "government":
            # Many agencies of one city share the city's mail domain: a trap for account matching.
            return f"{city.pinyin}.gov.cn"
        if band == 0 and rng.random() < 0.4:
            return None
        stems = (pinyin, pinyin + industry.key[:4], city.pinyin[:2] + pinyin, pinyin + "group")
        for stem in stems:
            for tld in (rng.choice((".com", ".com.cn", ".cn")), ".net", ".com.cn"):
                domain = stem + tld
                if domain not in self._domains:
                    self._domains.add(domain)
                    return domain
        domain = f"{pinyin}{len(self._domains)}.cn"
        self._domains.add(domain)
        return domain


def _english(city: City, pinyin: str, industry: Industry, suffix: str) -> str:
    word = _ENGLISH_WORDS[industry.key]
    if industry.key == "government":
        # What kind of agency it is, as its own English name says: 大数据管理局 is an
        # administration, 政务服务中心 a center, 税务局 (and its 科技信息化处) a bureau.
        word = next(w for ending, w in _AGENCY_ENGLISH if suffix.endswith(ending))
        return f"{city.pinyin.title()} Municipal {word}"
    return f"{city.pinyin.title()} {pinyin.title()} {word} Co., Ltd."
