"""What the channels API takes and answers."""

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema, field_validator

from leadpond.channels.models import Channel, Message, MessageEvent, MessageTemplate, Purpose
from leadpond.kit.errors import RefusedValue
from leadpond.kit.names import LANGUAGES, Name
from leadpond.kit.schemas import UtcDatetime

_KEY = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
ChannelName = Literal["email", "sms", "wecom", "wechat", "webhook"]
NAME_LENGTH = 200


def _short_name(name: str | dict[str, str]) -> str | dict[str, str] | None:
    """A template's name within ``NAME_LENGTH`` per language; blank text is no name (the key
    shows)."""
    texts = [name] if isinstance(name, str) else list(name.values())
    if any(len(text) > NAME_LENGTH for text in texts):
        raise RefusedValue(
            "a name is at most {max_length} characters in each language", max_length=NAME_LENGTH
        )
    if isinstance(name, str):
        return name if name.strip() else None
    return name


_NAME_TEXT = {"type": "string", "minLength": 1, "maxLength": NAME_LENGTH, "pattern": r"\S"}
# A template's display name: one text for every language or per language, as playbook names.
TemplateName = Annotated[
    Name,
    AfterValidator(_short_name),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "maxLength": NAME_LENGTH},
                {
                    "type": "object",
                    "properties": {language: _NAME_TEXT for language in LANGUAGES},
                    "additionalProperties": False,
                    "minProperties": 1,
                },
            ],
            "description": "What marketers call the template: one text for every language, or "
            "per language ({zh: 欢迎邮件, en: Welcome email}); none or empty shows the key",
        }
    ),
]


class TemplateBody(BaseModel):
    """A template's parts (a PUT replaces them all)."""

    model_config = ConfigDict(extra="forbid")

    channel: ChannelName
    name: TemplateName | None = None
    subject: str | None = Field(default=None, max_length=255)
    body: str = Field(min_length=1, max_length=200_000)
    text_body: str | None = Field(default=None, max_length=200_000)
    purpose: Literal["marketing", "transactional"] = Purpose.MARKETING.value
    provider_template: str | None = Field(
        default=None, max_length=128, description="SMS TemplateCode, WeChat template_id…"
    )


class TemplateCreate(TemplateBody):
    key: str = Field(description="letters, digits, _ . - (at most 64)")

    @field_validator("key")
    @classmethod
    def _key(cls, value: str) -> str:
        if not _KEY.match(value):
            raise ValueError("letters, digits, _ . - only, at most 64")
        return value


class TemplateRead(TemplateCreate):
    id: int
    created_at: UtcDatetime
    updated_at: UtcDatetime

    @classmethod
    def build(cls, template: MessageTemplate) -> "TemplateRead":
        return cls(
            id=template.id,
            key=template.key,
            name=template.name,
            channel=Channel(template.channel).value,
            subject=template.subject,
            body=template.body,
            text_body=template.text_body,
            purpose=template.purpose,
            provider_template=template.provider_template,
            created_at=template.created_at,
            updated_at=template.updated_at,
        )


class PreviewRequest(BaseModel):
    person_id: int = Field(ge=1, le=2**63 - 1)
    variables: dict[str, Any] = Field(default_factory=dict)


class PreviewRead(BaseModel):
    subject: str | None
    body: str
    text_body: str | None


class SendRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: ChannelName
    template: str = Field(description="the template's key")
    person_id: int = Field(ge=1, le=2**63 - 1)
    idempotency_key: str | None = Field(
        default=None,
        max_length=200,
        description="the same key twice sends once (default: the Idempotency-Key header)",
    )
    variables: dict[str, Any] = Field(default_factory=dict)


class SendAccepted(BaseModel):
    message_id: int
    status: str


class MessageEventRead(BaseModel):
    kind: str
    at: UtcDatetime
    detail: dict[str, Any]

    @classmethod
    def build(cls, event: MessageEvent) -> "MessageEventRead":
        return cls(kind=event.kind, at=event.at, detail=dict(event.detail or {}))


class MessageRead(BaseModel):
    id: int
    person_id: int | None
    channel: str
    purpose: str
    template: str | None
    idempotency_key: str
    origin: str
    status: str
    reason: str | None
    address: str | None
    subject: str | None
    attempts: int
    due_at: UtcDatetime
    sent_at: UtcDatetime | None
    last_error: str | None
    created_at: UtcDatetime
    history: list[MessageEventRead] | None = None

    @classmethod
    def build(
        cls,
        message: Message,
        template_key: str | None,
        history: list[MessageEvent] | None = None,
    ) -> "MessageRead":
        return cls(
            id=message.id,
            person_id=message.person_id,
            channel=message.channel,
            purpose=message.purpose,
            template=template_key,
            idempotency_key=message.idempotency_key,
            origin=message.origin,
            status=message.status,
            reason=message.reason,
            address=message.address,
            subject=message.subject,
            attempts=message.attempts,
            due_at=message.due_at,
            sent_at=message.sent_at,
            last_error=message.last_error,
            created_at=message.created_at,
            history=None if history is None else [MessageEventRead.build(e) for e in history],
        )


class ChannelWrite(BaseModel):
    """A channel's provider and settings (secrets shown as ••••; sent back, they are kept)."""

    model_config = ConfigDict(extra="forbid")

    provider: str
    settings: dict[str, Any]
    caps: dict[str, Any] | None = None
    quiet_hours: dict[str, Any] | None = None
    enabled: bool = True


class ChannelRead(ChannelWrite):
    channel: str
    configured: bool
    updated_at: UtcDatetime | None = None


class TestSendRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    address: str = Field(min_length=1, max_length=320)
    template: str | None = Field(default=None, description="a template key (default: a note)")
    person_id: int | None = Field(default=None, ge=1, le=2**63 - 1)


class TestSendResult(BaseModel):
    result: str
    provider_id: str | None
    detail: str
