"""Channels' services: templates (with a preview of a draft), sends into the outbox, a person's
messages and a message's history. Sends only write the outbox row, in the caller's transaction;
everything that depends on send time (consent, address, caps, quiet hours) is decided by the
deliverer."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Select, String, Table, func, insert, literal, select, true
from sqlalchemy.orm import Session

from leadpond.channels import outbox
from leadpond.channels.models import (
    Channel,
    Message,
    MessageEvent,
    MessageStatus,
    MessageTemplate,
    Purpose,
)
from leadpond.channels.registry import NO_SENDER, SENDERS
from leadpond.channels.render import (
    Rendered,
    check_template,
    message_context,
    render_preview,
    render_template,
)
from leadpond.channels.schemas import TemplateBody, TemplateCreate
from leadpond.channels.senders.base import Outcome, Outgoing, Result
from leadpond.channels.settings import get_channel
from leadpond.db.among import among
from leadpond.db.engine import dialect_insert, is_postgres
from leadpond.db.wakeup import OUTBOX, ring_after_commit
from leadpond.kit.clock import utcnow
from leadpond.kit.errors import Conflict, InvalidInput, NotFound, RefusedValue
from leadpond.kit.pagination import PageQuery, count
from leadpond.kit.scope import in_workspace, owned
from leadpond.profiles.models import Person
from leadpond.profiles.scope import people


class TemplateNotFound(NotFound):
    code = "template_not_found"


class MessageNotFound(NotFound):
    code = "message_not_found"


class TemplateInUse(Conflict):
    code = "template_in_use"


def templates(workspace_id: uuid.UUID) -> Select[MessageTemplate]:
    """Every template of the workspace: the start of every read of templates."""
    return in_workspace(MessageTemplate, workspace_id)


def get_template(session: Session, workspace_id: uuid.UUID, key: str) -> MessageTemplate:
    """A template by its key, or 404."""
    found = session.scalar(templates(workspace_id).where(MessageTemplate.key == key))
    if found is None:
        raise TemplateNotFound(f"no template {key!r}")
    return found


def _check(body: TemplateBody) -> None:
    channel, purpose = Channel(body.channel), Purpose(body.purpose)
    if channel == Channel.WECHAT and purpose == Purpose.MARKETING:
        raise InvalidInput(
            "WeChat template messages are service notices: purpose must be transactional",
            field="purpose",
        )
    if channel == Channel.EMAIL and not body.subject:
        raise InvalidInput("an email needs a subject", field="subject")
    check_template(body.channel, body.subject, body.body, body.text_body)


def create_template(
    session: Session, workspace_id: uuid.UUID, body: TemplateCreate
) -> MessageTemplate:
    """Save a new template after compiling every part (400 names the field and line)."""
    _check(body)
    if session.scalar(templates(workspace_id).where(MessageTemplate.key == body.key)):
        raise Conflict(RefusedValue("a template {key!r} exists already", key=body.key), field="key")
    template = MessageTemplate(workspace_id=workspace_id, **body.model_dump())
    session.add(template)
    session.flush()
    return template


def update_template(
    session: Session, workspace_id: uuid.UUID, key: str, body: TemplateBody
) -> MessageTemplate:
    """Replace a template's parts; messages not yet sent use the new text."""
    _check(body)
    template = get_template(session, workspace_id, key)
    for name, value in body.model_dump().items():
        setattr(template, name, value)
    session.flush()
    return template


def delete_template(session: Session, workspace_id: uuid.UUID, key: str) -> None:
    """Delete a template no message was ever written with; one that was stays (409), so the
    history of every message sent with it still names it."""
    template = get_template(session, workspace_id, key)
    used = session.scalar(
        select(func.count())
        .select_from(Message)
        .where(owned(Message, workspace_id), Message.template_id == template.id)
    )
    if used:
        refused = RefusedValue(
            "{messages} messages were written with template {key!r}: it stays, so their history "
            "keeps it",
            messages=used,
            key=key,
        )
        raise TemplateInUse(refused, field="key", messages=used)
    session.delete(template)
    session.flush()


def preview_draft(
    session: Session,
    workspace_id: uuid.UUID,
    body: TemplateBody,
    person_id: int,
    variables: dict[str, Any] | None = None,
) -> Rendered:
    """A template being edited (not saved) as this person would get it: checked as a save
    checks it (400 names the field and line), then rendered as the saved template's preview."""
    _check(body)
    draft = MessageTemplate(workspace_id=workspace_id, **body.model_dump(exclude={"key"}))
    return render_preview(session, workspace_id, draft, person_id, variables)


def list_templates(
    session: Session, workspace_id: uuid.UUID, page: PageQuery
) -> tuple[int, list[MessageTemplate]]:
    """A page of templates by key, and how many there are."""
    stmt = templates(workspace_id).order_by(MessageTemplate.key)
    return count(session, stmt), list(session.scalars(page.apply(stmt)))


def send(
    session: Session,
    workspace_id: uuid.UUID,
    channel: str,
    template_key: str,
    person_id: int,
    idempotency_key: str | None = None,
    variables: dict[str, Any] | None = None,
    origin: str = "api",
) -> Message:
    """Queue a message for a person (in the caller's transaction); the same idempotency key
    again returns the first message and sends nothing more."""
    template = get_template(session, workspace_id, template_key)
    if template.channel != channel:
        raise _wrong_channel(template_key, template.channel, channel)
    if session.scalar(people(workspace_id).where(Person.id == person_id)) is None:
        raise NotFound(f"no person {person_id}", field="person_id")
    return outbox.enqueue(
        session,
        workspace_id,
        {
            "person_id": person_id,
            "channel": channel,
            "purpose": template.purpose,
            "template_id": template.id,
            "idempotency_key": idempotency_key or f"auto:{uuid.uuid4().hex}",
            "origin": origin[:128],
            "variables": variables or {},
        },
    )


@dataclass(frozen=True)
class QueuedSend:
    """One message for :func:`enqueue_many`: what :func:`send` takes, for one person."""

    person_id: int
    channel: str
    template_key: str
    idempotency_key: str
    origin: str
    variables: dict[str, Any] = field(default_factory=dict)


ENQUEUE_CHUNK = 500
_messages = cast(Table, Message.__table__)


def enqueue_many(
    session: Session, workspace_id: uuid.UUID, sends: Sequence[QueuedSend]
) -> dict[str, int]:
    """Queue many messages in the caller's transaction, one INSERT per chunk: what
    :func:`send` does, set-wise (journeys advance thousands of people in one step).

    Checked as ``send`` checks one: every template exists and is for the message's channel, every
    person is a live person of the workspace. An idempotency key already in the outbox keeps its
    first message and writes nothing. Returns the message id of every key (new or not).
    """
    if not sends:
        return {}
    keys = {s.template_key for s in sends}
    found = {
        t.key: t
        for t in session.scalars(templates(workspace_id).where(MessageTemplate.key.in_(keys)))
    }
    for one in sends:
        _check_channel(found.get(one.template_key), one.template_key, one.channel)
    wanted = {s.person_id for s in sends}
    live: set[int] = set()
    ids = sorted(wanted)
    for start in range(0, len(ids), ENQUEUE_CHUNK):
        # By primary key, the workspace checked on the rows found: a workspace filter in the
        # query lets the planner walk the workspace's index instead.
        live.update(
            pid
            for pid, ws in session.execute(
                select(Person.id, Person.workspace_id).where(
                    Person.id.in_(ids[start : start + ENQUEUE_CHUNK]),
                    Person.merged_into_id.is_(None),
                )
            )
            if ws == workspace_id
        )
    missing = wanted - live
    if missing:
        raise NotFound(f"no person {min(missing)}", field="person_id")
    created: list[tuple[int, str]] = []
    for start in range(0, len(sends), ENQUEUE_CHUNK):
        rows = [
            {
                "workspace_id": workspace_id,
                "status": MessageStatus.QUEUED.value,
                "person_id": one.person_id,
                "channel": one.channel,
                "purpose": found[one.template_key].purpose,
                "template_id": found[one.template_key].id,
                "idempotency_key": one.idempotency_key,
                "origin": one.origin[:128],
                "variables": one.variables,
            }
            for one in sends[start : start + ENQUEUE_CHUNK]
        ]
        # An executemany (SQLAlchemy's "insertmanyvalues"): compiled once, not per row.
        created += [
            (row.id, row.idempotency_key)
            for row in session.execute(
                dialect_insert(session, _messages)
                .on_conflict_do_nothing(index_elements=["workspace_id", "idempotency_key"])
                .returning(_messages.c.id, _messages.c.idempotency_key),
                rows,
            )
        ]
    if created:
        ring_after_commit(session, OUTBOX)  # the deliverer claims them once committed
        origins = {s.idempotency_key: s.origin[:128] for s in sends}
        history = cast(Table, MessageEvent.__table__)
        # RETURNING makes it an "insertmanyvalues" executemany (multi-row INSERTs on PostgreSQL).
        session.execute(
            insert(history).returning(history.c.id),
            [
                {
                    "workspace_id": workspace_id,
                    "message_id": message_id,
                    "kind": MessageStatus.QUEUED.value,
                    "at": utcnow(),
                    "detail": {"origin": origins[key]},
                }
                for message_id, key in created
            ],
        )
    answer = {key: message_id for message_id, key in created}
    rest = sorted({s.idempotency_key for s in sends} - set(answer))
    for start in range(0, len(rest), ENQUEUE_CHUNK):
        answer.update(
            (key, message_id)
            for message_id, key in session.execute(
                select(Message.id, Message.idempotency_key).where(
                    owned(Message, workspace_id),
                    Message.idempotency_key.in_(rest[start : start + ENQUEUE_CHUNK]),
                )
            )
        )
    return answer


def template_for(
    session: Session, workspace_id: uuid.UUID, key: str, channel: str
) -> MessageTemplate:
    """The template a message on ``channel`` uses, checked as :func:`enqueue_many` checks."""
    found = session.scalar(templates(workspace_id).where(MessageTemplate.key == key))
    return _check_channel(found, key, channel)


def _check_channel(template: MessageTemplate | None, key: str, channel: str) -> MessageTemplate:
    """The template a message uses: it exists and is for the message's channel."""
    if template is None:
        raise TemplateNotFound(f"no template {key!r}", field="template")
    if template.channel != channel:
        raise _wrong_channel(key, template.channel, channel)
    return template


def _wrong_channel(key: str, template_channel: str, channel: str) -> InvalidInput:
    refused = RefusedValue(
        "template {key!r} is for {template_channel}, not {channel}",
        key=key,
        template_channel=template_channel,
        channel=channel,
    )
    return InvalidInput(refused, field="channel")


def enqueue_select(
    session: Session, workspace_id: uuid.UUID, channel: str, template_key: str, rows: Select[Any]
) -> int:
    """:func:`enqueue_many` for one template and the rows of a query — columns ``person_id``,
    ``idempotency_key``, ``origin``, ``variables``, of live people of the workspace — in one
    ``INSERT … SELECT`` and one of the messages' history (a journey step over a batch of a
    million-person schedule). Checked as ``enqueue_many`` checks (the template exists and is
    for the channel) before anything is written; a key already in the outbox keeps its first
    message. Returns how many messages it queued."""
    template = template_for(session, workspace_id, template_key, channel)
    m, given = _messages.c, rows.subquery()
    now = utcnow()
    created = list(
        session.scalars(
            dialect_insert(session, _messages)
            .from_select(
                [
                    "workspace_id",
                    "status",
                    "person_id",
                    "channel",
                    "purpose",
                    "template_id",
                    "idempotency_key",
                    "origin",
                    "variables",
                    "attempts",
                    "max_attempts",
                    "due_at",
                    "created_at",
                    "updated_at",
                ],
                select(
                    literal(workspace_id, m.workspace_id.type),
                    literal(MessageStatus.QUEUED.value, m.status.type),
                    given.c.person_id,
                    literal(channel, m.channel.type),
                    literal(template.purpose, m.purpose.type),
                    literal(template.id, m.template_id.type),
                    given.c.idempotency_key,
                    func.substr(given.c.origin, 1, 128),
                    given.c.variables,
                    literal(m.attempts.default.arg, m.attempts.type),  # type: ignore[union-attr]
                    literal(m.max_attempts.default.arg, m.max_attempts.type),  # type: ignore[union-attr]
                    literal(now, m.due_at.type),
                    literal(now, m.created_at.type),
                    literal(now, m.updated_at.type),
                )
                # SQLite reads ON CONFLICT after a bare SELECT as a join's: a WHERE ends it.
                .where(true()),
            )
            .on_conflict_do_nothing(index_elements=["workspace_id", "idempotency_key"])
            .returning(m.id)
        )
    )
    if created:
        history = cast(Table, MessageEvent.__table__)
        h = history.c
        session.execute(
            history.insert().from_select(
                ["workspace_id", "message_id", "kind", "at", "detail"],
                select(
                    m.workspace_id,
                    m.id,
                    literal(MessageStatus.QUEUED.value, h.kind.type),
                    literal(now, h.at.type),
                    _origin_detail(session, m.origin),
                )
                .where(among(session, m.id, created))
                .order_by(m.id),
            )
        )
    return len(created)


def _origin_detail(session: Session, origin: Any) -> Any:
    """``{"origin": <origin>}`` built in SQL: a queued message's history detail."""
    if is_postgres(session):
        return func.jsonb_build_object(literal("origin", String), origin)
    return func.json_object(literal("origin", String), origin)


def messages_of_person(
    session: Session, workspace_id: uuid.UUID, person_id: int, page: PageQuery
) -> tuple[int, list[tuple[Message, str | None]]]:
    """A page of the person's messages, newest first, with their template keys."""
    mine = in_workspace(Message, workspace_id).where(Message.person_id == person_id)
    stmt = (
        select(Message, MessageTemplate.key)
        .outerjoin(MessageTemplate, MessageTemplate.id == Message.template_id)
        .where(owned(Message, workspace_id), Message.person_id == person_id)
        .order_by(Message.id.desc())
        .limit(page.limit)
        .offset(page.offset)
    )
    return count(session, mine), [(message, key) for message, key in session.execute(stmt)]


def message_history(
    session: Session, workspace_id: uuid.UUID, message_id: int
) -> tuple[Message, str | None, list[MessageEvent]]:
    """A message, its template key and every status it went through, oldest first."""
    message = session.scalar(in_workspace(Message, workspace_id).where(Message.id == message_id))
    if message is None:
        raise MessageNotFound(f"no message {message_id}")
    template = session.get(MessageTemplate, message.template_id) if message.template_id else None
    history = session.scalars(
        select(MessageEvent)
        .where(owned(MessageEvent, workspace_id), MessageEvent.message_id == message.id)
        .order_by(MessageEvent.id)
    )
    return message, template.key if template is not None else None, list(history)


TEST_NOTE = "leadpond test message: this channel is configured."


def test_send(
    session: Session,
    workspace_id: uuid.UUID,
    channel: str,
    address: str,
    template_key: str | None = None,
    person_id: int | None = None,
) -> Outcome:
    """Send one message now, past the outbox, to check a channel's settings (the provider's
    answer is returned as is); a template is rendered for ``person_id`` when given."""
    row = get_channel(session, workspace_id, channel)
    if row is None:
        refused = RefusedValue("channel {channel} is not configured", channel=channel)
        raise InvalidInput(refused, field="channel")
    factory = SENDERS.get((row.channel, row.provider))
    if factory is None:
        refused = RefusedValue(NO_SENDER, channel=row.channel, provider=row.provider)
        raise InvalidInput(refused, field="provider")
    subject: str | None = "leadpond test"
    text_body: str | None = TEST_NOTE
    body, provider_template = TEST_NOTE, None
    document: dict[str, Any] = {"text": TEST_NOTE}
    if template_key is not None:
        template = get_template(session, workspace_id, template_key)
        rendered = (
            render_preview(session, workspace_id, template, person_id)
            if person_id is not None
            else render_template(template, message_context({}, {}, "#unsubscribe-test"))
        )
        subject, body, text_body = rendered.subject, rendered.body, rendered.text_body
        document, provider_template = rendered.document or {}, template.provider_template
    key = f"test:{uuid.uuid4().hex}"
    extra = test_extra(channel, key, document)
    sender = factory(dict(row.settings))
    try:
        outcome = sender.send(
            [
                Outgoing(
                    0,
                    workspace_id,
                    key,
                    address,
                    subject,
                    body,
                    text_body,
                    provider_template,
                    extra,
                )
            ]
        )
    finally:
        sender.close()
    return outcome[0] if outcome else Outcome(0, Result.TEMPORARY, detail="no answer")


def test_extra(channel: str, key: str, document: dict[str, Any]) -> dict[str, Any]:
    """The channel-specific parts of a test message."""
    if channel == Channel.SMS:
        return {"params": {k: str(v) for k, v in document.items()}, "out_id": key}
    if channel == Channel.WECHAT:
        return {**document, "client_msg_id": key}
    if channel == Channel.WECOM:
        return {"msgtype": "text", "content": TEST_NOTE, **document}
    if channel == Channel.WEBHOOK:
        return {"document": document}
    return {"headers": {}, "marketing": False, "unsubscribe_url": None, "return_path": None}
