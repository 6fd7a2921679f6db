"""Channels over HTTP: templates (with a preview for a person and the messages written with
them), sends into the outbox, a person's messages, a message's history, and each channel's
settings (secrets masked) with a test send."""

from typing import Annotated

from fastapi import APIRouter, Header, Response

from leadpond.channels import service
from leadpond.channels.reads import channel_read, messages_of_template
from leadpond.channels.render import render_preview
from leadpond.channels.schemas import (
    ChannelName,
    ChannelRead,
    ChannelWrite,
    MessageRead,
    PreviewRead,
    PreviewRequest,
    SendAccepted,
    SendRequest,
    TemplateBody,
    TemplateCreate,
    TemplateRead,
    TestSendRequest,
    TestSendResult,
)
from leadpond.channels.settings import set_channel
from leadpond.kit.http import ReadSession, RowId, WriteSession
from leadpond.kit.pagination import HistoryPaging, Page, Paging
from leadpond.users.permissions import ChannelsRead, ChannelsWrite, ProvidersWrite

router = APIRouter(prefix="/api/v1", tags=["channels"])


@router.post("/templates", status_code=201, response_model=TemplateRead)
def create_template(
    body: TemplateCreate, actor: ChannelsWrite, session: WriteSession
) -> TemplateRead:
    """Save a template; every part is compiled first (400 names the field and line)."""
    return TemplateRead.build(service.create_template(session, actor.workspace_id, body))


@router.get("/templates", response_model=Page[TemplateRead])
def list_templates(actor: ChannelsRead, session: ReadSession, paging: Paging) -> Page[TemplateRead]:
    """Templates by key."""
    total, found = service.list_templates(session, actor.workspace_id, paging)
    return Page[TemplateRead](total=total, items=[TemplateRead.build(t) for t in found])


@router.get("/templates/{key}", response_model=TemplateRead)
def read_template(key: str, actor: ChannelsRead, session: ReadSession) -> TemplateRead:
    """One template."""
    return TemplateRead.build(service.get_template(session, actor.workspace_id, key))


@router.put("/templates/{key}", response_model=TemplateRead)
def update_template(
    key: str, body: TemplateBody, actor: ChannelsWrite, session: WriteSession
) -> TemplateRead:
    """Replace a template's parts (messages not sent yet use the new text)."""
    return TemplateRead.build(service.update_template(session, actor.workspace_id, key, body))


@router.delete("/templates/{key}", status_code=204)
def delete_template(key: str, actor: ChannelsWrite, session: WriteSession) -> Response:
    """Delete a template no message was written with (409 ``template_in_use`` otherwise)."""
    service.delete_template(session, actor.workspace_id, key)
    return Response(status_code=204)


@router.get("/templates/{key}/messages", response_model=Page[MessageRead])
def template_messages(
    key: str, actor: ChannelsRead, session: ReadSession, paging: HistoryPaging
) -> Page[MessageRead]:
    """The messages written with the template, newest first, with status and reason."""
    total, found = messages_of_template(session, actor.workspace_id, key, paging)
    return Page[MessageRead](total=total, items=[MessageRead.build(m, key) for m in found])


@router.post("/templates/{key}:preview", response_model=PreviewRead)
def preview_template(
    key: str, body: PreviewRequest, actor: ChannelsRead, session: ReadSession
) -> PreviewRead:
    """The template rendered for a person, as they would get it."""
    template = service.get_template(session, actor.workspace_id, key)
    rendered = render_preview(session, actor.workspace_id, template, body.person_id, body.variables)
    return PreviewRead(subject=rendered.subject, body=rendered.body, text_body=rendered.text_body)


@router.post("/sends", status_code=202, response_model=SendAccepted)
def send(
    body: SendRequest,
    actor: ChannelsWrite,
    session: WriteSession,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> SendAccepted:
    """Queue a message; the same idempotency key (body or ``Idempotency-Key`` header) again
    answers the first message and sends nothing more."""
    key = body.idempotency_key or idempotency_key
    message = service.send(
        session,
        actor.workspace_id,
        body.channel,
        body.template,
        body.person_id,
        idempotency_key=f"api:{key}" if key else None,
        variables=body.variables,
        origin="api",
    )
    return SendAccepted(message_id=message.id, status=message.status)


@router.get("/people/{person_id}/messages", response_model=Page[MessageRead])
def person_messages(
    person_id: RowId, actor: ChannelsRead, session: ReadSession, paging: HistoryPaging
) -> Page[MessageRead]:
    """The person's messages, newest first, with status and reason."""
    total, rows = service.messages_of_person(session, actor.workspace_id, person_id, paging)
    return Page[MessageRead](total=total, items=[MessageRead.build(m, key) for m, key in rows])


@router.get("/messages/{message_id}", response_model=MessageRead)
def read_message(message_id: RowId, actor: ChannelsRead, session: ReadSession) -> MessageRead:
    """A message with its status history (queued, sending, sent, opened…)."""
    message, key, history = service.message_history(session, actor.workspace_id, message_id)
    return MessageRead.build(message, key, history)


@router.get("/channels/{channel}", response_model=ChannelRead)
def read_channel(channel: ChannelName, actor: ChannelsRead, session: ReadSession) -> ChannelRead:
    """A channel's provider, settings (secrets as ••••), caps and quiet hours."""
    return channel_read(session, actor.workspace_id, channel)


@router.put("/channels/{channel}", response_model=ChannelRead)
def write_channel(
    channel: ChannelName, body: ChannelWrite, actor: ProvidersWrite, session: WriteSession
) -> ChannelRead:
    """Set a channel's provider and settings (a secret sent back as •••• is kept)."""
    set_channel(
        session,
        actor.workspace_id,
        channel,
        body.provider,
        body.settings,
        body.caps,
        body.quiet_hours,
        body.enabled,
    )
    return read_channel(channel, actor, session)


@router.post("/channels/{channel}:test", response_model=TestSendResult)
def test_channel(
    channel: ChannelName, body: TestSendRequest, actor: ProvidersWrite, session: ReadSession
) -> TestSendResult:
    """Send one message now to ``address`` and answer what the provider said."""
    outcome = service.test_send(
        session, actor.workspace_id, channel, body.address, body.template, body.person_id
    )
    return TestSendResult(
        result=outcome.result.value, provider_id=outcome.provider_id, detail=outcome.detail
    )
