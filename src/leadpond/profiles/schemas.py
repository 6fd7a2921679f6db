"""What the people API answers."""

from typing import Any

from pydantic import BaseModel

from leadpond.identity.models import Identifier
from leadpond.ingest.models import Event
from leadpond.kit.schemas import UtcDatetime
from leadpond.profiles.models import Person


class IdentifierRead(BaseModel):
    type: str
    value: str
    first_seen_at: UtcDatetime


class TouchRead(BaseModel):
    """How an event reached the person: its channel group (``profiles/touches.py``), channel,
    UTM source / medium / campaign / content, and when."""

    group: str
    channel: str
    source: str
    medium: str | None = None
    campaign: str | None = None
    content: str | None = None
    at: str
    kind: str


class PersonRead(BaseModel):
    id: int
    traits: dict[str, Any]
    identifiers: list[IdentifierRead]
    first_seen_at: UtcDatetime | None
    # The channel group of the person's first touch (search, wechat, direct…).
    first_channel: str | None = None
    first_touch: TouchRead | None = None
    last_touch: TouchRead | None = None
    last_seen_at: UtcDatetime | None
    event_count: int
    created_at: UtcDatetime
    updated_at: UtcDatetime

    @classmethod
    def build(cls, person: Person, identifiers: list[Identifier]) -> "PersonRead":
        return cls(
            id=person.id,
            traits=person.traits or {},
            identifiers=[
                IdentifierRead(type=i.type, value=i.value, first_seen_at=i.first_seen_at)
                for i in identifiers
            ],
            first_seen_at=person.first_seen_at,
            first_channel=person.first_channel,
            first_touch=TouchRead.model_validate(person.first_touch)
            if person.first_touch
            else None,
            last_touch=TouchRead.model_validate(person.last_touch) if person.last_touch else None,
            last_seen_at=person.last_seen_at,
            event_count=person.event_count,
            created_at=person.created_at,
            updated_at=person.updated_at,
        )


class TimelineEntry(BaseModel):
    id: int
    type: str
    event: str | None
    timestamp: UtcDatetime
    received_at: UtcDatetime
    source: str
    message_id: str
    properties: dict[str, Any]
    traits: dict[str, Any]
    context: dict[str, Any]

    @classmethod
    def build(cls, event: Event) -> "TimelineEntry":
        payload = event.payload or {}
        return cls(
            id=event.id,
            type=event.type,
            event=event.event,
            timestamp=event.timestamp,
            received_at=event.received_at,
            source=event.source,
            message_id=event.message_id,
            properties=payload.get("properties") or {},
            traits=payload.get("traits") or {},
            context=payload.get("context") or {},
        )


class TraitValue(BaseModel):
    trait: str
    value: Any
    at: UtcDatetime
    event_id: int
    source: str
