"""The profile screens' words: values, reasons and schema errors as a marketer reads them."""

import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, Field, ValidationError

from leadpond.console.i18n import translator
from leadpond.console.pages.dashboard import bucket_size, bucketed
from leadpond.console.pages.words import (
    EVENT_NAMES,
    actor_words,
    event_words,
    in_language,
    plain,
    property_words,
    reason_words,
    schema_error_words,
    validation_problem,
)
from leadpond.rules.vocabulary import Labels

ZH, EN = translator("zh_CN"), translator("en")
LABELS = Labels(
    stages={"visit": "访问"},
    scores={"engagement": "活跃度"},
    categories={"product_pref": "产品偏好"},
    values={"product_pref": {"graph_database": "图数据库"}},
)


class Draft(BaseModel):
    key: str = Field(max_length=5)
    subject: str


def _errors(**data: object) -> list[dict[str, object]]:
    with pytest.raises(ValidationError) as raised:
        Draft.model_validate(data)
    return [dict(e) for e in raised.value.errors()]


def test_schema_errors_are_said_in_the_users_language_with_their_limits() -> None:
    missing, too_long = sorted(_errors(key="toolongkey"), key=lambda e: str(e["type"]))
    assert schema_error_words(ZH, missing) == "必填"
    assert schema_error_words(EN, missing) == "Required"
    assert schema_error_words(ZH, too_long) == "太长（最多 5 个字符）"
    unknown = {"type": "some_newer_type", "msg": "pydantic's words"}
    assert schema_error_words(ZH, unknown) == "pydantic's words"


def test_a_forms_first_error_names_the_field_as_the_form_labels_it() -> None:
    with pytest.raises(ValidationError) as raised:
        Draft.model_validate({"key": "ok"})
    assert validation_problem(ZH, raised.value) == ("subject", "主题：必填")
    assert validation_problem(EN, raised.value) == ("subject", "Subject: Required")


def test_tags_scores_stages_and_reasons_by_their_names() -> None:
    assert LABELS.tag("product_pref:graph_database") == "产品偏好: 图数据库"
    assert LABELS.tag("product_pref:ai") == "产品偏好: ai"  # a value without a name
    assert LABELS.tag("need:evaluation") == "need: evaluation"  # no such category
    assert LABELS.tag("vip") == "vip"
    assert (LABELS.score("engagement"), LABELS.score("fit")) == ("活跃度", "fit")
    assert (LABELS.stage("visit"), LABELS.stage(None)) == ("访问", "–")
    assert reason_words(ZH, "rule stage:visit:1 on Article Read", LABELS) == (
        "因「阅读文章」（进入「访问」的第 2 条规则）"
    )
    assert reason_words(EN, "rule stage:visit:1 on Identify", LABELS) == (
        "On “Profile updated” (rule 2 into “访问”)"
    )
    assert reason_words(ZH, "rule stage:dormant:9: no activity for 90d", LABELS) == (
        "90d 无活动（进入「dormant」的第 10 条规则）"
    )
    assert reason_words(ZH, "certification (Certification Earned)", LABELS) == (
        "因「获得认证」（规则 certification）"
    )
    assert reason_words(ZH, "set by admin@acme.cn", LABELS) == "set by admin@acme.cn"


def test_values_and_events_read_as_words() -> None:
    assert plain(["company", "title"]) == "company, title"
    assert plain({"a": "中"}) == '{"a": "中"}'
    assert (plain(3.0), plain(2.5), plain(None), plain(True)) == ("3", "2.5", "–", "✓")
    assert event_words(ZH, "track", "Booth Checked In") == "展台签到"
    assert event_words(ZH, "track", "Custom Thing") == "Custom Thing"
    assert event_words(ZH, "identify", None) == "资料更新"
    assert event_words(ZH, "track", "SMS Delivered") == "短信：已送达"
    assert event_words(EN, "track", "WeChat Message Failed") == "WeChat: Failed"


def test_event_properties_read_as_words_and_ids_stay_ids() -> None:
    properties = {
        "form_id": "trial",
        "fields": ["company", "title"],
        "topic": "graph_database",
        "method": "badge_qr",
        "stage": "closed_won",
        "deal_id": "006D01",
        "products": {"product_id": "sku-1", "quantity": 2},
        "custom_thing": "x",
    }
    said = property_words(ZH, properties, LABELS, {"trial": "申请试用"})
    assert said == [
        ("表单", "申请试用", False),
        ("填写的字段", "公司, 职位", False),
        ("主题", "图数据库", False),
        ("签到方式", "扫描胸牌二维码", False),
        ("阶段", "赢单", False),
        ("商机ID", "006D01", True),
        ("产品", "商品ID: sku-1, 数量: 2", False),
        ("custom_thing", "x", False),  # a custom property as it is sent
    ]
    unknown_form = property_words(EN, {"form_id": "register_salon"}, LABELS, {})
    assert unknown_form == [("Form", "register_salon", True)]  # a key without a form: an id


def test_names_by_language_and_who_did_it() -> None:
    name = {"zh": "等一天", "en": "One day later"}
    assert (in_language(name, "zh_CN"), in_language(name, "en")) == ("等一天", "One day later")
    assert (in_language({"zh": "只有中文"}, "en"), in_language("一个名字", "en")) == (
        "只有中文",
        "一个名字",
    )
    assert actor_words(ZH, "session:li@acme.cn") == "li@acme.cn"
    assert actor_words(ZH, "leadpond:default") == "leadpond（默认剧本）"
    assert actor_words(EN, "pipeline") == "Automatically, on an event"


@given(
    start=st.dates(min_value=date(2025, 1, 1), max_value=date(2026, 12, 31)),
    span=st.integers(min_value=0, max_value=365),
    counts=st.dictionaries(
        st.sampled_from(["wechat", "search", "direct"]),
        st.dictionaries(st.integers(min_value=0, max_value=400), st.integers(1, 50), max_size=30),
        max_size=3,
    ),
)
def test_the_channel_chart_buckets_keep_every_person_and_stay_readable(
    start: date, span: int, counts: dict[str, dict[int, int]]
) -> None:
    end = start + timedelta(days=span)
    per_day = {
        group: {(start + timedelta(days=d)).isoformat(): n for d, n in days.items() if d <= span}
        for group, days in counts.items()
    }
    buckets, series = bucketed(per_day, start, end)
    assert len(buckets) <= 62 and len(buckets) == len(set(buckets))
    for group, days in per_day.items():
        assert sum(series[group]) == sum(days.values())  # nobody lost or counted twice
        assert len(series[group]) == len(buckets)
    assert bucket_size(start, end) == ("day" if span < 62 else "week" if span < 183 else "month")


def test_every_event_of_docs_events_md_has_console_words_listed_in_both_languages() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "events.md").read_text()
    named = set(re.findall(r"\*\*([A-Z][A-Za-z ]+)\*\*", doc))
    assert len(named) > 20
    assert sorted(named - set(EVENT_NAMES)) == []
    listed = dict(re.findall(r"^\| `([A-Za-z ]+)` \| [^|]+ \| ([^|]+) \|$", doc, re.M))
    for event, words in EVENT_NAMES.items():
        assert listed.get(event, "").strip() == ZH(words) != words, event
