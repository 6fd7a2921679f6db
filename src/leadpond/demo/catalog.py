"""What the demo vendor runs over the year: pages, content, campaigns, events, newsletters, mall."""

import random
from bisect import bisect_right
from dataclasses import dataclass, field

from leadpond.demo.draw import cumulative, uuid4
from leadpond.demo.people import PRODUCT_LINES
from leadpond.demo.vocab import INDUSTRIES

SITE = "https://www.turingdata.cn"
DAY = 86_400.0
LINE_LABELS = {
    "graph_database": "图数据库",
    "realtime_warehouse": "实时数仓",
    "data_platform": "数据中台",
    "ai_assistant": "AI知识助手",
}


@dataclass(frozen=True, slots=True)
class Campaign:
    name: str
    source: str
    medium: str
    weight: float
    content: str | None = None


@dataclass(frozen=True, slots=True)
class WebPage:
    name: str  # the page call's name (Segment's "page name"), e.g. "Pricing"
    path: str
    title: str
    category: str
    product_line: str | None = None
    industry: str | None = None  # case studies: the customer's industry


@dataclass(frozen=True, slots=True)
class ContentItem:
    id: str
    type: str  # whitepaper, case, video, tutorial, comparison, article
    category: str  # brand, opinion, product, business, service
    title: str
    topic: str
    stage: str  # the customer stage it serves: awareness, consideration, decision, retention
    published_at: float
    author: str
    industry: str | None = None


@dataclass(frozen=True, slots=True)
class Booth:
    id: str
    name: str
    product_line: str
    points: int


@dataclass(frozen=True, slots=True)
class MarketingEvent:
    id: str
    kind: str  # conference, salon, webinar
    name: str
    city: str
    starts_at: float
    topic: str
    booths: tuple[Booth, ...] = ()
    kiosk_cookies: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Newsletter:
    id: str
    subject: str
    sent_at: float
    topic: str


@dataclass
class Catalog:
    start: float
    end: float
    campaigns: list[Campaign]
    campaign_weights: list[float]
    pages: dict[str, list[WebPage]]
    content: dict[str, list[ContentItem]]
    events: dict[str, list[MarketingEvent]]
    newsletters: list[Newsletter]
    certifications: dict[str, list[tuple[str, str]]]
    mall_items: list[tuple[str, str, float]]
    _event_starts: dict[str, list[float]] = field(default_factory=dict)

    def next_event(self, kind: str, after: float, within_days: float) -> MarketingEvent | None:
        """The first ``kind`` event starting after ``after`` and within ``within_days``."""
        starts = self._event_starts.setdefault(kind, [e.starts_at for e in self.events[kind]])
        position = bisect_right(starts, after)
        if position == len(starts) or starts[position] > after + within_days * DAY:
            return None
        return self.events[kind][position]

    def published(self, kind: str, before: float) -> list[ContentItem]:
        """Content of one type that exists at ``before``."""
        return [item for item in self.content[kind] if item.published_at <= before]


_CAMPAIGNS = (
    Campaign("brand_search", "baidu", "cpc", 5),
    Campaign("graphdb_launch", "baidu", "cpc", 3, "graph_database"),
    Campaign("wechat_article", "wechat", "social", 6),
    Campaign("36kr_report", "36kr", "referral", 1.5),
    Campaign("csdn_blog", "csdn", "referral", 2.5),
    Campaign("zhihu_column", "zhihu", "social", 2),
    Campaign("linkedin_abm", "linkedin", "paid_social", 1),
    Campaign("infoq_sponsor", "infoq", "display", 1),
    Campaign("monthly_newsletter", "edm", "email", 1.5),
)
_AUTHORS = ("市场部 林晓", "产品部 陈立", "解决方案 王博", "首席科学家 周远", "客户成功 刘佳")


def build_catalog(seed: int, start: float, end: float) -> Catalog:
    """The vendor's marketing calendar between ``start`` and ``end`` (epoch seconds)."""
    rng = random.Random(f"{seed}/catalog")
    span = end - start
    content = _content(rng, start, span)
    pages = _pages(content)
    events = {
        "conference": _events(rng, "conference", start, span, 2),
        "salon": _events(rng, "salon", start, span, 14),
        "webinar": _events(rng, "webinar", start, span, 26),
    }
    newsletters = [
        Newsletter(
            id=f"nl-{month + 1:02d}",
            subject=f"图灵数智月刊 第{month + 1}期：{LINE_LABELS[PRODUCT_LINES[month % 4]]}专题",
            sent_at=start + (month + 0.3) * span / 12,
            topic=PRODUCT_LINES[month % 4],
        )
        for month in range(12)
    ]
    return Catalog(
        start=start,
        end=end,
        campaigns=list(_CAMPAIGNS),
        campaign_weights=cumulative(c.weight for c in _CAMPAIGNS),
        pages=pages,
        content=content,
        events=events,
        newsletters=newsletters,
        certifications={
            line: [
                (f"cert-{line}-1", f"{label}认证工程师（初级）"),
                (f"cert-{line}-2", f"{label}认证专家（高级）"),
            ]
            for line, label in LINE_LABELS.items()
        },
        mall_items=[
            ("sku-exam", "认证考试券", 999.0),
            ("sku-book", "《图数据库实战》", 89.0),
            ("sku-member", "开发者年度会员", 1999.0),
            ("sku-merch", "定制周边礼盒", 59.0),
            ("sku-course", "实时数仓训练营", 699.0),
        ],
    )


def _content(rng: random.Random, start: float, span: float) -> dict[str, list[ContentItem]]:
    made: dict[str, list[ContentItem]] = {}

    def _add(kind: str, category: str, stage: str, title: str, topic: str, **extra: str) -> None:
        items = made.setdefault(kind, [])
        items.append(
            ContentItem(
                id=f"{kind[:3]}-{len(items) + 1:03d}",
                type=kind,
                category=category,
                title=title,
                topic=topic,
                stage=stage,
                published_at=start + rng.random() * span * 0.9 - 60 * DAY,
                author=rng.choice(_AUTHORS),
                **extra,
            )
        )

    for line, label in LINE_LABELS.items():
        _add("whitepaper", "opinion", "awareness", f"{label}技术白皮书", line)
        _add("whitepaper", "opinion", "consideration", f"{label}选型指南", line)
        _add("video", "brand", "awareness", f"三分钟了解{label}", line)
        _add("tutorial", "product", "consideration", f"{label}快速上手教程", line)
        _add("comparison", "product", "decision", f"{label}与开源方案对比", line)
    for industry in INDUSTRIES:
        _add(
            "whitepaper",
            "opinion",
            "awareness",
            f"{industry.label}行业数据智能白皮书",
            "data_platform",
        )
        for number in range(2):
            line = PRODUCT_LINES[(len(made.get("case", [])) + number) % 4]
            title = f"{industry.label}客户案例：{LINE_LABELS[line]}助力业务增长（{number + 1}）"
            _add("case", "product", "decision", title, line, industry=industry.key)
    for week in range(52):
        line = PRODUCT_LINES[week % 4]
        title = f"第{week + 1}期 | {LINE_LABELS[line]}的{rng.choice(('十个', '三个', '五个'))}实践"
        _add("article", "opinion", "awareness", title, line)
    return made


def _pages(content: dict[str, list[ContentItem]]) -> dict[str, list[WebPage]]:
    return {
        "home": [WebPage("Home", "/", "图灵数智 - 企业级数据智能平台", "home")],
        "product": [
            WebPage(
                "Product",
                f"/products/{line.replace('_', '-')}",
                f"{label} | 图灵数智",
                "product",
                line,
            )
            for line, label in LINE_LABELS.items()
        ],
        "pricing": [WebPage("Pricing", "/pricing", "价格与版本 | 图灵数智", "pricing")],
        "case": [
            WebPage(
                "Case Study", f"/cases/{item.id}", item.title, "case", item.topic, item.industry
            )
            for item in content["case"]
        ],
        "docs": [
            WebPage("Docs", f"/docs/{line.replace('_', '-')}/{topic}", f"{label}文档", "docs", line)
            for line, label in LINE_LABELS.items()
            for topic in ("quick-start", "install", "sql-reference", "best-practices")
        ],
        "blog": [
            WebPage("Blog", f"/blog/{item.id}", item.title, "blog", item.topic)
            for item in content["article"]
        ],
        "about": [
            WebPage("About", "/about", "关于我们 | 图灵数智", "about"),
            WebPage("Events", "/events", "市场活动 | 图灵数智", "events"),
        ],
    }


def _events(
    rng: random.Random, kind: str, start: float, span: float, count: int
) -> list[MarketingEvent]:
    cities = ("北京", "上海", "深圳", "杭州", "成都", "广州", "南京", "武汉")
    made = []
    for number in range(count):
        line = PRODUCT_LINES[number % 4]
        at = start + (number + 0.5 + rng.uniform(-0.3, 0.3)) * span / count
        at = at - at % DAY + 1.5 * 3600  # 09:30 Beijing time
        event_id = f"{kind[:4]}-{number + 1:02d}"
        city = "线上" if kind == "webinar" else cities[rng.randrange(len(cities))]
        booths: tuple[Booth, ...] = ()
        if kind == "conference":
            booths = tuple(
                Booth(f"{event_id}-b{i + 1}", f"{label}展台", booth_line, 5 + 5 * (i % 2))
                for i, (booth_line, label) in enumerate(LINE_LABELS.items())
            )
        elif kind == "salon":
            booths = (Booth(f"{event_id}-b1", f"{LINE_LABELS[line]}体验区", line, 5),)
        names = {
            "conference": f"图灵数智{('春季用户大会', '秋季数智峰会')[number % 2]}",
            "salon": f"{city}{LINE_LABELS[line]}技术沙龙",
            "webinar": f"直播：{LINE_LABELS[line]}实战第{number + 1}讲",
        }
        kiosks = tuple(uuid4(rng) for _ in range(2 if kind == "conference" else 1))
        made.append(
            MarketingEvent(
                event_id, kind, names[kind], city, at, line, booths, kiosks if booths else ()
            )
        )
    return made
