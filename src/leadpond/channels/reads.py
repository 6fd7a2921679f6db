"""What the REST API and the console both show of channels: a channel's settings as a reader
may see them (secrets masked), the messages written with a template, and the names a list of
messages shows beside them."""

import uuid
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadpond.channels.models import Message, MessageTemplate
from leadpond.channels.schemas import ChannelRead
from leadpond.channels.service import get_template
from leadpond.channels.settings import get_channel, masked
from leadpond.kit.pagination import PageQuery, count
from leadpond.kit.scope import owned
from leadpond.profiles.models import Person


def channel_read(session: Session, workspace_id: uuid.UUID, channel: str) -> ChannelRead:
    """A channel's provider, settings (secrets as ••••), caps, quiet hours and whether it is
    configured and enabled."""
    row = get_channel(session, workspace_id, channel)
    if row is None:
        return ChannelRead(channel=channel, configured=False, provider="", settings={})
    return ChannelRead(
        channel=channel,
        configured=True,
        provider=row.provider,
        settings=masked(row),
        caps=row.caps or None,
        quiet_hours=row.quiet_hours or None,
        enabled=row.enabled,
        updated_at=row.updated_at,
    )


def messages_of_template(
    session: Session, workspace_id: uuid.UUID, key: str, page: PageQuery
) -> tuple[int, list[Message]]:
    """A page of the messages written with a template, newest first, and how many there are
    (404 for an unknown template)."""
    template = get_template(session, workspace_id, key)
    stmt = select(Message).where(owned(Message, workspace_id), Message.template_id == template.id)
    found = session.scalars(page.apply(stmt.order_by(Message.id.desc())))
    return count(session, stmt), list(found)


def template_names(
    session: Session, workspace_id: uuid.UUID, keys: Collection[str]
) -> dict[str, str | dict[str, str] | None]:
    """The display names (as stored: one text or by language) of the templates with these keys
    (none asked, none read)."""
    if not keys:
        return {}
    found = session.execute(
        select(MessageTemplate.key, MessageTemplate.name).where(
            owned(MessageTemplate, workspace_id), MessageTemplate.key.in_(list(keys))
        )
    )
    return {key: name for key, name in found}


@dataclass(frozen=True)
class MessageLine:
    """A message as a list shows it: with its template's key and display name (as stored: one
    text or by language, ``kit.names``) and its person's name."""

    message: Message
    template: str | None
    person_name: str | None
    template_name: str | dict[str, str] | None = None


def message_lines(
    session: Session, workspace_id: uuid.UUID, messages: list[Message]
) -> list[MessageLine]:
    """Template keys and names, and person names (the ``name`` trait, else ``email``) for a
    page of messages, in two reads whatever the page's size."""
    template_ids = {m.template_id for m in messages if m.template_id is not None}
    person_ids = {m.person_id for m in messages if m.person_id is not None}
    # No read for an empty set: SQLite answered ``id IN (<empty>)`` by walking the workspace.
    keys: dict[int | None, tuple[str | None, str | dict[str, str] | None]] = {
        template_id: (key, name)
        for template_id, key, name in (
            session.execute(
                select(MessageTemplate.id, MessageTemplate.key, MessageTemplate.name).where(
                    owned(MessageTemplate, workspace_id), MessageTemplate.id.in_(template_ids)
                )
            )
            if template_ids
            else ()
        )
    }
    names = {
        person_id: _name(traits)
        for person_id, traits in (
            session.execute(
                select(Person.id, Person.traits).where(
                    owned(Person, workspace_id), Person.id.in_(person_ids)
                )
            )
            if person_ids
            else ()
        )
    }
    lines = []
    for m in messages:
        key, template_name = keys.get(m.template_id, (None, None))
        person_name = names.get(m.person_id) if m.person_id else None
        lines.append(MessageLine(m, key, person_name, template_name))
    return lines


def _name(traits: dict[str, object] | None) -> str | None:
    found = (traits or {}).get("name") or (traits or {}).get("email")
    return str(found) if found else None
