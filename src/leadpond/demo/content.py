"""The demo vendor's content pool: the catalog's white papers, videos, tutorials, comparisons,
case studies and blog articles (the ids the demo world's ``Content Viewed`` and ``Whitepaper
Downloaded`` events name), plus the brand, opinion, business and service pieces that round out
seed 000's taxonomy — over every stage of the default playbook and every type, by several
authors. Some stage × type cells stay empty on purpose: the coverage matrix has gaps to show."""

import uuid
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadpond.content.models import ContentItem
from leadpond.content.schemas import ContentCreate
from leadpond.content.service import create
from leadpond.demo.catalog import LINE_LABELS, build_catalog
from leadpond.demo.world import WorldSpec
from leadpond.kit.scope import owned

# The catalog's kinds as the taxonomy's types, and its four stages as the playbook's.
TYPES = {
    "whitepaper": "whitepaper",
    "video": "video",
    "tutorial": "tutorial",
    "comparison": "comparison",
    "case": "case",
    "article": "product_tech",
}
STAGES = {
    "awareness": ["awareness", "visit"],
    "consideration": ["registered", "engaged"],
    "decision": ["opportunity"],
    "retention": ["customer", "advocate"],
}
# (key, type, stages, topic, title, author)
ROUNDING_OUT: tuple[tuple[str, str, tuple[str, ...], str, str, str], ...] = (
    ("brand-001", "company_intro", ("awareness",), "", "图灵数智公司介绍", "市场部 林晓"),
    (
        "brand-002",
        "business_intro",
        ("awareness", "visit"),
        "data_platform",
        "一张图看懂图灵数智的四条产品线",
        "市场部 林晓",
    ),
    (
        "brand-003",
        "media_interview",
        ("awareness",),
        "ai_assistant",
        "36氪专访：企业知识的下一站",
        "市场部 林晓",
    ),
    (
        "brand-004",
        "award",
        ("visit", "opportunity"),
        "graph_database",
        "图灵数智入选年度数据库创新榜",
        "市场部 林晓",
    ),
    (
        "opin-001",
        "executive_interview",
        ("registered", "engaged"),
        "data_platform",
        "CEO 谈数据中台的十年",
        "首席科学家 周远",
    ),
    (
        "opin-002",
        "third_party_view",
        ("awareness", "engaged"),
        "realtime_warehouse",
        "分析师报告：实时数仓市场格局",
        "解决方案 王博",
    ),
    (
        "opin-003",
        "training",
        ("engaged", "customer"),
        "graph_database",
        "图数据库在线训练营（第一课）",
        "产品部 陈立",
    ),
    (
        "opin-004",
        "training",
        ("engaged",),
        "realtime_warehouse",
        "实时数仓在线训练营（第一课）",
        "产品部 陈立",
    ),
    (
        "prod-001",
        "product_manual",
        ("opportunity", "customer"),
        "graph_database",
        "图数据库产品手册",
        "产品部 陈立",
    ),
    (
        "prod-002",
        "product_manual",
        ("opportunity", "customer"),
        "ai_assistant",
        "AI知识助手产品手册",
        "产品部 陈立",
    ),
    ("biz-001", "business_info", ("opportunity",), "", "价格与版本说明", "市场部 林晓"),
    (
        "biz-002",
        "business_info",
        ("opportunity", "customer"),
        "",
        "采购与合同流程指引",
        "客户成功 刘佳",
    ),
    (
        "svc-001",
        "tips",
        ("customer", "advocate"),
        "graph_database",
        "图数据库使用贴士：索引怎么建",
        "客户成功 刘佳",
    ),
    (
        "svc-002",
        "tips",
        ("customer",),
        "realtime_warehouse",
        "实时数仓使用贴士：分区与保留",
        "客户成功 刘佳",
    ),
    (
        "svc-003",
        "feature_guide",
        ("customer", "advocate"),
        "ai_assistant",
        "功能说明：知识库权限",
        "客户成功 刘佳",
    ),
    (
        "svc-004",
        "feature_guide",
        ("customer",),
        "data_platform",
        "功能说明：数据血缘",
        "客户成功 刘佳",
    ),
)


def _body(title: str, topic: str) -> str:
    label = LINE_LABELS.get(topic, "图灵数智")
    return (
        f"## {title}\n\n"
        f"本文介绍{label}在企业中的落地方式：从业务目标出发，梳理数据、流程与组织的准备，"
        f"再以一个真实项目为例说明上线步骤与效果。\n\n"
        f"- 适合谁读：关注{label}的业务与技术负责人\n"
        f"- 阅读时间：约 5 分钟\n\n"
        f"> 想了解更多？联系我们的解决方案团队，获取针对您行业的方案。\n"
    )


def _published(at: float) -> datetime:
    return datetime.fromtimestamp(at, UTC).replace(tzinfo=None)


def ensure_demo_content(session: Session, workspace_id: uuid.UUID, spec: WorldSpec) -> int:
    """The demo content pool in the workspace (once: nothing is made if it has items)."""
    if session.scalar(select(ContentItem.id).where(owned(ContentItem, workspace_id)).limit(1)):
        return 0
    catalog = build_catalog(spec.seed, spec.start_at.timestamp(), spec.end_at.timestamp())
    made = 0
    for kind, items in catalog.content.items():
        for entry in items:
            item = create(
                session,
                workspace_id,
                ContentCreate(
                    key=entry.id,
                    title=entry.title,
                    type=TYPES[kind],
                    summary=entry.title,
                    body=_body(entry.title, entry.topic),
                    author=entry.author,
                    status="published",
                    stages=STAGES[entry.stage],
                    topics=[entry.topic],
                    industries=[entry.industry] if entry.industry else [],
                    gate_form="whitepaper_gate" if kind == "whitepaper" else None,
                    format="article",
                ),
                "demo",
            )
            item.published_at = _published(entry.published_at)
            made += 1
    for key, kind, stages, topic, title, author in ROUNDING_OUT:
        create(
            session,
            workspace_id,
            ContentCreate(
                key=key,
                title=title,
                type=kind,
                summary=title,
                body=_body(title, topic),
                author=author,
                status="published",
                stages=list(stages),
                topics=[topic] if topic else [],
            ),
            "demo",
        )
        made += 1
    return made
