"""Messages on the person's timeline: ``Email Sent``, ``Email Opened``… enter the event log as
pending events of the person, so rules and segments read them like any other event.

They are written with ``person_id`` set and source ``channels`` (``ingest.models.MESSAGE_SOURCE``):
the identity stage keeps that person (following merges) instead of resolving identifiers, and
profiles do not count them as the person's activity.
"""

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol, cast

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from leadpond.channels.models import Channel, Message, MessageTemplate
from leadpond.db.engine import dialect_insert
from leadpond.ingest.models import MESSAGE_SOURCE, Event
from leadpond.kit.clock import utcnow

_event_table = cast(Table, Event.__table__)

# How a channel's messages are named on the timeline: "Email Sent", "WeChat Message Sent"…
LABELS = {
    Channel.EMAIL.value: "Email",
    Channel.SMS.value: "SMS",
    Channel.WECHAT.value: "WeChat Message",
    Channel.WECOM.value: "WeCom Message",
    Channel.WEBHOOK.value: "Webhook",
}


def event_name(channel: str, what: str) -> str:
    """The timeline event for ``what`` happened to a message on ``channel`` (``Email Sent``)."""
    return f"{LABELS.get(channel, channel.title())} {what}"


def record(
    session: Session,
    message: Message,
    name: str,
    properties: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    """Write ``name`` (``Email Opened``…) as an event of the message's person; the same name at
    the same instant for the same message is written once."""
    record_many(session, [(message, name, properties, at)])


class Sent(Protocol):
    """What the timeline needs of a message (a :class:`Message`, or a row of its columns)."""

    @property
    def id(self) -> int: ...
    @property
    def workspace_id(self) -> uuid.UUID: ...
    @property
    def person_id(self) -> int | None: ...
    @property
    def channel(self) -> str: ...
    @property
    def template_id(self) -> int | None: ...


# One timeline event: the message, its name, properties and when (None: now).
Happened = tuple[Sent, str, dict[str, Any] | None, datetime | None]


def record_many(session: Session, happened: Sequence[Happened]) -> None:
    """:func:`record` for many messages, in one statement."""
    mine = [one for one in happened if one[0].person_id is not None]
    if not mine:
        return
    template_ids = {m.template_id for m, *_ in mine if m.template_id is not None}
    found = session.execute(
        select(MessageTemplate.id, MessageTemplate.key).where(MessageTemplate.id.in_(template_ids))
    )
    keys = {template_id: key for template_id, key in found}
    rows = [_row(keys, *one) for one in mine]
    session.execute(
        dialect_insert(session, _event_table).on_conflict_do_nothing(
            index_elements=["workspace_id", "message_id"]
        ),
        rows,
    )


def _row(
    template_keys: dict[int, str],
    message: Sent,
    name: str,
    properties: dict[str, Any] | None,
    at: datetime | None,
) -> dict[str, Any]:
    moment = at or utcnow()
    message_key = f"message:{message.id}:{name}:{moment.isoformat()}"
    props = {
        "message_id": message.id,
        "channel": message.channel,
        "template": template_keys.get(message.template_id) if message.template_id else None,
        **(properties or {}),
    }
    payload = {
        "type": "track",
        "event": name,
        "properties": props,
        "messageId": message_key,
        "timestamp": moment.isoformat() + "Z",
    }
    return {
        "workspace_id": message.workspace_id,
        "message_id": message_key,
        "type": "track",
        "event": name,
        "timestamp": moment,
        "received_at": utcnow(),
        "source": MESSAGE_SOURCE,
        "payload": payload,
        "person_id": message.person_id,
        "origin_person_id": message.person_id,
    }
