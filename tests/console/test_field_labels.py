"""Every field a console form submits through its schema has a label in both catalogs, so a
refusal names the input as the form does ("开始时间：必填"), never the schema's name nor, for a
field that takes one of several types, the type pydantic tried last ("str：应为文本")."""

from typing import Any, get_args

import pytest
from pydantic import BaseModel, ValidationError

from leadpond.acquisition.codes_schemas import ContactWayCreate, QrCodeCreate
from leadpond.acquisition.schemas import LinksCreate
from leadpond.channels.schemas import TemplateBody, TemplateCreate
from leadpond.console.i18n import translator
from leadpond.console.pages.segment_lists import segment_input_problem
from leadpond.console.pages.words import FIELD_LABELS, validation_problem
from leadpond.content.schemas import ContentCreate, ContentUpdate
from leadpond.engage.events_schemas import EventBody
from leadpond.segments.schemas import SegmentCreate, SegmentUpdate
from tests.console.catalogs import missing_words

# The schemas whose refusals the console says with ``validation_problem``.
FORM_SCHEMAS = [
    SegmentCreate,
    SegmentUpdate,
    LinksCreate,
    QrCodeCreate,
    ContactWayCreate,
    TemplateBody,
    TemplateCreate,
    EventBody,
    ContentCreate,
    ContentUpdate,
]


def _field_names(annotation: Any, seen: set[type[BaseModel]]) -> set[str]:
    """The field names of a schema and of every schema nested in it (lists, unions, mappings)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation in seen:
            return set()
        seen.add(annotation)
        names = set(annotation.model_fields)
        for field in annotation.model_fields.values():
            names |= _field_names(field.annotation, seen)
        return names
    return set().union(*(_field_names(arg, seen) for arg in get_args(annotation)))


def test_every_field_a_form_submits_has_a_label_in_both_catalogs() -> None:
    seen: set[type[BaseModel]] = set()
    names = set().union(*(_field_names(schema, seen) for schema in FORM_SCHEMAS))
    assert {"starts_at", "speaker_title", "confirm_sms"} <= names  # nested schemas are walked
    assert sorted(names - set(FIELD_LABELS)) == []
    assert missing_words(FIELD_LABELS[name] for name in names) == {"zh_CN": [], "en": []}


@pytest.mark.parametrize(
    ("locale", "said"),
    [("zh_CN", "开始时间：必填"), ("en", "Start time: Required")],
)
def test_a_refused_field_is_named_by_its_label_with_the_languages_colon(
    locale: str, said: str
) -> None:
    with pytest.raises(ValidationError) as raised:
        EventBody.model_validate({"key": "expo", "name_zh": "展会", "kind": "conference"})
    assert validation_problem(translator(locale), raised.value) == ("starts_at", said)


SEGMENT = {"key": "vip", "kind": "dynamic", "level": "person"}
TEMPLATE = {"key": "welcome", "channel": "email", "subject": "Hi", "body": "<p>Hi</p>"}


@pytest.mark.parametrize(
    ("schema", "document", "field", "said"),
    [
        # A condition is YAML text or a mapping: pydantic places the refusal on a member
        # (``('condition', 'str')``, ``('condition', 'dict[str,any]', 1, '[key]')``).
        (SegmentCreate, {**SEGMENT, "condition": 5}, "condition", "条件：应为文本"),
        (SegmentCreate, {**SEGMENT, "condition": {1: "x"}}, "condition", "条件：应为文本"),
        (SegmentUpdate, {"condition": ["tag: vip"]}, "condition", "条件：应为文本"),
        # A name is one text or one per language.
        (
            TemplateCreate,
            {**TEMPLATE, "name": 5},
            "name",
            "名称：名称应为文本，或 {zh: …, en: …} 这样的键值映射",
        ),
        (TemplateBody, {**TEMPLATE, "name": {"fr": "Bienvenue"}}, "name", None),
    ],
)
def test_a_union_fields_refusal_names_the_field_not_the_unions_member(
    schema: type[BaseModel], document: dict[str, Any], field: str, said: str | None
) -> None:
    with pytest.raises(ValidationError) as raised:
        schema.model_validate(document)
    assert raised.value.errors()[0]["loc"][0] == field
    named, sentence = validation_problem(translator("zh_CN"), raised.value)
    assert named == field
    assert sentence.startswith(f"{translator('zh_CN')(FIELD_LABELS[field])}：")
    if said is not None:
        assert sentence == said
    english = validation_problem(translator("en"), raised.value)[1]
    assert english.startswith(f"{FIELD_LABELS[field]}: ")
    if schema in (SegmentCreate, SegmentUpdate):  # what the segment forms show
        assert segment_input_problem(translator("zh_CN"), raised.value) == sentence
