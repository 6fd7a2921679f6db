"""What the forms API reads and answers: a form's fields, consents and behaviour."""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from leadpond.engage.models import Form, FormSubmission
from leadpond.kit.schemas import UtcDatetime

FieldType = Literal[
    "text",
    "mobile",
    "email",
    "company",
    "title",
    "industry",
    "select",
    "checkbox",
    "textarea",
    "hidden",
]
# The trait a field of each type fills when its maps_to is left out.
DEFAULT_TRAIT: dict[str, str] = {
    "mobile": "phone",
    "email": "email",
    "company": "company",
    "title": "title",
    "industry": "industry",
}
KEY_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"
TRAIT_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"
CONSENT_CHANNELS = ("email", "sms", "wechat", "wecom")
DEFAULT_POSTS_PER_MINUTE = 5  # a form's per-address limit unless it says otherwise


class Option(BaseModel):
    """One choice of a select field: the value stored and its labels."""

    model_config = ConfigDict(extra="forbid")

    value: str = Field(min_length=1, max_length=128)
    label_zh: str = Field(min_length=1, max_length=200)
    label_en: str = Field(default="", max_length=200)


class FormField(BaseModel):
    """A field: what it asks, in both languages, and the trait its answer becomes.

    ``maps_to``: a trait (``name``, ``phone`` — ``mobile`` is taken as ``phone`` —, ``email``,
    ``company``, ``title``, ``industry`` or a custom key); left out, a typed field fills its own
    trait and a text field is kept as an event property only. A hidden field takes its value from
    the page URL's parameter of the same key (``utm_source``, ``channel``, ``content``…)."""

    model_config = ConfigDict(extra="forbid")

    key: str = Field(pattern=KEY_PATTERN, description="lower_snake_case, unique in the form")
    type: FieldType = "text"
    label_zh: str = Field(default="", max_length=200)
    label_en: str = Field(default="", max_length=200)
    maps_to: str | None = Field(default=None, pattern=TRAIT_PATTERN)
    required: bool = False
    options: list[Option] = Field(default_factory=list, max_length=100)

    def trait(self) -> str | None:
        """The trait this field fills (None: an event property only)."""
        if self.type == "hidden":
            return None
        mapped = self.maps_to or DEFAULT_TRAIT.get(self.type)
        return "phone" if mapped == "mobile" else mapped


class Consent(BaseModel):
    """A consent checkbox: the channel it opts into and the exact words shown."""

    model_config = ConfigDict(extra="forbid")

    key: str = Field(pattern=KEY_PATTERN)
    channel: Literal["email", "sms", "wechat", "wecom"]
    wording_zh: str = Field(min_length=1, max_length=1000)
    wording_en: str = Field(default="", max_length=1000)
    required: bool = False


class FormWrite(BaseModel):
    """A form as written by PUT (all of it) and, with its key, by POST."""

    model_config = ConfigDict(extra="forbid")

    name_zh: str = Field(min_length=1, max_length=200)
    name_en: str = Field(default="", max_length=200)
    status: Literal["draft", "published"] = "draft"
    fields: list[FormField] = Field(min_length=1, max_length=50)
    consents: list[Consent] = Field(default_factory=list, max_length=5)
    intro_zh: str = Field(default="", max_length=2000)
    intro_en: str = Field(default="", max_length=2000)
    submit_zh: str = Field(default="", max_length=64)
    submit_en: str = Field(default="", max_length=64)
    success_zh: str = Field(default="", max_length=2000)
    success_en: str = Field(default="", max_length=2000)
    redirect_url: str | None = Field(
        default=None, max_length=2048, description="http(s) only; else the success message shows"
    )
    progressive_max: int | None = Field(
        default=None,
        ge=1,
        le=50,
        description="progressive profiling: ask at most this many fields, skipping the ones "
        "whose trait a known visitor already has (None: ask every field)",
    )
    conversion_event: str | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        description="a second event after Form Submitted (e.g. Trial Requested)",
    )
    min_fill_seconds: int = Field(default=3, ge=0, le=600)
    posts_per_minute: int = Field(
        default=DEFAULT_POSTS_PER_MINUTE, ge=1, le=1000, description="per client address"
    )
    captcha: bool = False
    dedupe_hours: int = Field(default=24, ge=0, le=720)


class FormCreate(FormWrite):
    key: str = Field(pattern=KEY_PATTERN, description="the form_id of its Form Submitted events")


class FormRead(FormCreate):
    model_config = ConfigDict(extra="ignore")

    url: str = Field(description="the hosted H5 page")
    embed_script: str = Field(description="a <script> tag that embeds the form in a web page")
    created_at: UtcDatetime
    updated_at: UtcDatetime


class SubmissionRead(BaseModel):
    id: int
    form_key: str
    anonymous_id: str
    person_id: int | None
    values: dict[str, Any]
    traits: dict[str, Any]
    consents: list[dict[str, Any]]
    context: dict[str, Any]
    lang: str
    repeats: int
    created_at: UtcDatetime

    @classmethod
    def build(cls, row: FormSubmission, form_key: str) -> "SubmissionRead":
        return cls(
            id=row.id,
            form_key=form_key,
            anonymous_id=row.anonymous_id,
            person_id=row.person_id,
            values=row.values,
            traits=row.traits,
            consents=row.consents,
            context=row.context,
            lang=row.lang,
            repeats=row.repeats,
            created_at=row.created_at,
        )


def form_document(form: Form) -> dict[str, Any]:
    """The form's stored columns as a FormCreate body."""
    names = FormCreate.model_fields
    return {name: getattr(form, name) for name in names}


def read_form(form: Form, url: str, embed_script: str) -> FormRead:
    """The API's view of a form."""
    created: datetime = form.created_at
    return FormRead(
        **form_document(form),
        url=url,
        embed_script=embed_script,
        created_at=created,
        updated_at=form.updated_at,
    )
