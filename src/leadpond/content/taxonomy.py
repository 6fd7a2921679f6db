"""Content types by category, as seed 000 classifies the marketing content pool (品牌教育, 观点,
产品, 商务, 服务 and their sub-types); each workspace may edit its own copy."""

import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from leadpond.content.models import ContentItem, ContentTaxonomy
from leadpond.kit.errors import InvalidInput
from leadpond.kit.scope import owned

Key = Field(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$")


class ContentType(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Key
    name_zh: str = Field(min_length=1, max_length=64)
    name_en: str = Field(min_length=1, max_length=64)


class ContentCategory(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Key
    name_zh: str = Field(min_length=1, max_length=64)
    name_en: str = Field(min_length=1, max_length=64)
    types: list[ContentType] = Field(min_length=1, max_length=50)


class Taxonomy(BaseModel):
    """Categories and their types; a type key is unique across the workspace."""

    model_config = ConfigDict(extra="forbid")

    categories: list[ContentCategory] = Field(min_length=1, max_length=20)

    @model_validator(mode="after")
    def _unique(self) -> "Taxonomy":
        types = [t.key for c in self.categories for t in c.types]
        categories = [c.key for c in self.categories]
        if len(set(types)) != len(types) or len(set(categories)) != len(categories):
            raise ValueError("category and type keys must be unique")
        return self

    def category_of(self, type_key: str) -> str | None:
        """The category of a type (None: not a type of this taxonomy)."""
        for category in self.categories:
            if any(t.key == type_key for t in category.types):
                return category.key
        return None

    def type_keys(self) -> list[str]:
        return [t.key for c in self.categories for t in c.types]

    def type_name(self, type_key: str, lang: str) -> str:
        for category in self.categories:
            for kind in category.types:
                if kind.key == type_key:
                    return kind.name_zh if lang == "zh" else kind.name_en
        return type_key


def _category(key: str, zh: str, en: str, *types: tuple[str, str, str]) -> dict[str, Any]:
    return {
        "key": key,
        "name_zh": zh,
        "name_en": en,
        "types": [{"key": k, "name_zh": z, "name_en": e} for k, z, e in types],
    }


DEFAULT: dict[str, Any] = {
    "categories": [
        _category(
            "brand",
            "品牌教育",
            "Brand",
            ("company_intro", "公司介绍", "Company introduction"),
            ("business_intro", "业务介绍", "Business introduction"),
            ("video", "宣传视频", "Promotional video"),
            ("media_interview", "媒体访谈", "Media interview"),
            ("award", "荣誉与获奖", "Honours and awards"),
        ),
        _category(
            "opinion",
            "观点",
            "Opinion",
            ("whitepaper", "白皮书", "White paper"),
            ("executive_interview", "高层访谈", "Executive interview"),
            ("third_party_view", "第三方观点", "Third-party view"),
            ("training", "在线培训", "Online training"),
        ),
        _category(
            "product",
            "产品",
            "Product",
            ("product_manual", "产品手册", "Product manual"),
            ("product_tech", "产品技术", "Product technology"),
            ("case", "产品案例", "Case study"),
            ("comparison", "竞品比较", "Competitive comparison"),
            ("tutorial", "教学", "Tutorial"),
        ),
        _category(
            "business", "商务", "Business", ("business_info", "商务信息", "Business information")
        ),
        _category(
            "service",
            "服务",
            "Service",
            ("tips", "使用贴士", "Usage tips"),
            ("feature_guide", "功能说明", "Feature guide"),
        ),
    ]
}


def taxonomy(session: Session, workspace_id: uuid.UUID) -> Taxonomy:
    """The workspace's taxonomy (the default until it saves its own)."""
    row = session.get(ContentTaxonomy, workspace_id)
    return Taxonomy.model_validate(row.document if row is not None else DEFAULT)


def set_taxonomy(session: Session, workspace_id: uuid.UUID, new: Taxonomy) -> Taxonomy:
    """Save the workspace's taxonomy; a type that items still use cannot be removed."""
    used = set(
        session.scalars(select(ContentItem.type).where(owned(ContentItem, workspace_id)).distinct())
    )
    missing = sorted(used - set(new.type_keys()))
    if missing:
        raise InvalidInput(
            f"items still use the types {', '.join(missing)}: change them first", field="types"
        )
    row = session.get(ContentTaxonomy, workspace_id)
    if row is None:
        session.add(ContentTaxonomy(workspace_id=workspace_id, document=new.model_dump()))
    else:
        row.document = new.model_dump()
    session.flush()
    return new
