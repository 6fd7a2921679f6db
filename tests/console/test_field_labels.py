"""Every field a console form submits through its schema has a label in both catalogs, so a
refusal names the input as the form does ("开始时间：必填"), never the schema's name."""

from typing import Any, get_args

import pytest
from pydantic import BaseModel, ValidationError

from leadpond.acquisition.codes_schemas import ContactWayCreate, QrCodeCreate
from leadpond.acquisition.schemas import LinksCreate
from leadpond.channels.schemas import TemplateBody, TemplateCreate
from leadpond.console.i18n import translator
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
