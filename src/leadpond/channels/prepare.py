"""From a claimed outbox row to a message ready to leave, deciding at send time what only send
time knows: the channel's settings, the person (merged since?), consent, the address and its
suppression, quiet hours and caps, and the template rendered for them.

Each message ends as ready (an :class:`Outgoing`), skipped with its reason, or held (back in the
queue until a window opens).
"""

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadpond.channels import consent, limits, links
from leadpond.channels.models import (
    Channel,
    ChannelSettings,
    Message,
    MessageStatus,
    MessageTemplate,
    Purpose,
)
from leadpond.channels.outbox import hold, set_status
from leadpond.channels.render import (
    Rendered,
    RenderFailed,
    message_context,
    person_context,
    render_template,
)
from leadpond.channels.senders.base import Outgoing
from leadpond.channels.settings import parse_caps, parse_quiet_hours
from leadpond.identity.models import Identifier
from leadpond.kit.scope import owned
from leadpond.normalise.contact import normalise_email, normalise_phone
from leadpond.profiles.models import Person
from leadpond.workspaces.signing import signer

# Identifier types that hold a person's WeChat openid (the graph's type, and a custom one).
OPENID_TYPES = ("wechat_openid", "openid")


class Skip(Exception):
    """The message is not sent, for ``reason`` (one of ``models.SKIP_REASONS``)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.reason, self.detail = reason, detail


class Held(Exception):
    """Not now: back to the queue until ``until``."""

    def __init__(self, until: datetime, why: str) -> None:
        super().__init__(why)
        self.until, self.why = until, why


@dataclass
class Preparation:
    """One claimed batch's decisions, and what they remember across its messages."""

    session: Session
    now: datetime
    settings: dict[tuple[uuid.UUID, str], ChannelSettings | None] = field(default_factory=dict)
    # Marketing messages let through in this batch, per (person, channel): caps count them.
    passed: dict[tuple[int, str], list[datetime]] = field(default_factory=lambda: defaultdict(list))

    def channel_settings(self, message: Message) -> ChannelSettings | None:
        """The message's channel settings (read once per batch)."""
        key = (message.workspace_id, message.channel)
        if key not in self.settings:
            self.settings[key] = self.session.scalar(
                select(ChannelSettings).where(
                    owned(ChannelSettings, message.workspace_id),
                    ChannelSettings.channel == message.channel,
                )
            )
        return self.settings[key]


def prepare(batch: Preparation, message: Message) -> Outgoing | None:
    """The message ready to hand over, or None when it was skipped or held (recorded here)."""
    try:
        return _decide(batch, message)
    except Skip as skip:
        detail = {"detail": skip.detail} if skip.detail else None
        set_status(
            batch.session,
            message,
            MessageStatus.SKIPPED.value,
            reason=skip.reason,
            detail=detail,
            at=batch.now,
        )
    except Held as held:
        hold(batch.session, message, held.until, held.why)
    return None


def _decide(batch: Preparation, message: Message) -> Outgoing:
    session = batch.session
    settings = batch.channel_settings(message)
    if settings is None or not settings.enabled:
        raise Skip("not_configured")
    template = session.get(MessageTemplate, message.template_id) if message.template_id else None
    if template is None:
        raise Skip("invalid_template", "the template was deleted")
    person = _live_person(session, message)
    traits = dict(person.traits or {}) if person is not None else {}
    marketing = message.purpose == Purpose.MARKETING
    if marketing and message.channel == Channel.WECHAT:
        raise Skip("no_consent", "WeChat template messages are service notices only")
    if person is not None:
        reason = consent.consent_problem(
            session, message.workspace_id, person.id, traits, message.channel, message.purpose
        )
        if reason is not None:
            raise Skip(reason)
    address = _address(session, message, settings, traits, template)
    if address is None:
        raise Skip("no_address")
    if consent.is_suppressed(session, message.workspace_id, message.channel, address):
        raise Skip("suppressed")
    if marketing and person is not None:
        _check_limits(batch, message, settings, person.id)
    message.address = address
    rendered = _render(session, message, template, person)
    message.subject = rendered.subject[:255] if rendered.subject else None
    if marketing and person is not None:
        batch.passed[(person.id, message.channel)].append(batch.now)
    return _outgoing(session, message, settings, template, rendered)


def _live_person(session: Session, message: Message) -> Person | None:
    """The message's person as they are today (merged: the survivor); skip if gone."""
    if message.person_id is None:
        return None
    person = session.get(Person, message.person_id)
    seen = 0
    while person is not None and person.merged_into_id is not None and seen < 100:
        person, seen = session.get(Person, person.merged_into_id), seen + 1
    if person is None or person.workspace_id != message.workspace_id:
        raise Skip("person_gone")
    message.person_id = person.id
    return person


def _check_limits(
    batch: Preparation, message: Message, settings: ChannelSettings, pid: int
) -> None:
    quiet = parse_quiet_hours(settings.quiet_hours)
    until = limits.quiet_until(batch.now, quiet)
    if until is not None and quiet is not None:
        if quiet.on_quiet == "drop":
            raise Skip("quiet_hours")
        raise Held(until, "quiet_hours")
    caps = parse_caps(settings.caps)
    until = limits.cap_until(
        batch.session,
        message.workspace_id,
        pid,
        message.channel,
        caps,
        batch.now,
        batch.passed.get((pid, message.channel)),
    )
    if until is not None:
        if caps.on_cap == "drop":
            raise Skip("capped")
        raise Held(until, "capped")


def _identifier(session: Session, message: Message, types: tuple[str, ...]) -> str | None:
    return session.scalar(
        select(Identifier.value)
        .where(
            owned(Identifier, message.workspace_id),
            Identifier.person_id == message.person_id,
            Identifier.type.in_(types),
        )
        .order_by(Identifier.first_seen_at.desc(), Identifier.id.desc())
        .limit(1)
    )


def _address(
    session: Session,
    message: Message,
    settings: ChannelSettings,
    traits: dict[str, Any],
    template: MessageTemplate,
) -> str | None:
    """Where the message goes on its channel (docs/channels.md, "Addresses")."""
    channel, provider = message.channel, settings.provider
    if channel == Channel.WEBHOOK:
        return str(settings.settings.get("url") or "") or None
    if channel == Channel.WECOM:
        if provider == "robot":
            return "robot"
        found = message.variables.get("wecom_userid") or template.provider_template
        return str(found) if found else None
    if message.person_id is None:
        return None
    if channel == Channel.EMAIL:
        raw = traits.get("email")
        email = normalise_email(raw) if isinstance(raw, str) else None
        return email or _identifier(session, message, ("email",))
    if channel == Channel.SMS:
        phone = _identifier(session, message, ("phone",))
        raw = traits.get("phone") or traits.get("mobile")
        return phone or (normalise_phone(raw) if isinstance(raw, str) else None)
    if channel == Channel.WECHAT:
        return _identifier(session, message, OPENID_TYPES)
    return None


def _render(
    session: Session, message: Message, template: MessageTemplate, person: Person | None
) -> Rendered:
    base: dict[str, Any] = {"person": {}, "account": {}}
    if person is not None:
        base = person_context(session, message.workspace_id, person.id) or base
    unsubscribe = None
    if person is not None:
        unsubscribe = links.unsubscribe_url(
            session, message.workspace_id, message.id, person.id, message.channel
        )
    context = message_context(base, dict(message.variables or {}), unsubscribe)
    try:
        return render_template(template, context)
    except RenderFailed as exc:
        raise Skip("invalid_template", str(exc)) from exc


def _outgoing(
    session: Session,
    message: Message,
    settings: ChannelSettings,
    template: MessageTemplate,
    rendered: Rendered,
) -> Outgoing:
    subject = rendered.subject
    extra: dict[str, Any] = {}
    document = rendered.document or {}
    if message.channel == Channel.EMAIL:
        prefix = str(settings.settings.get("ad_prefix") or "")
        if (
            message.purpose == Purpose.MARKETING
            and prefix
            and not (subject or "").startswith(prefix)
        ):
            subject = f"{prefix} {subject or ''}".strip()
        extra = _email_extra(session, message, settings)
    elif message.channel == Channel.SMS:
        extra = {"params": {k: str(v) for k, v in document.items()}, "out_id": str(message.id)}
    elif message.channel == Channel.WECHAT:
        extra = {**document, "client_msg_id": message.idempotency_key}
    elif message.channel == Channel.WECOM:
        extra = {"msgtype": "text", **document}
    elif message.channel == Channel.WEBHOOK:
        extra = {"document": document}
    return Outgoing(
        message_id=message.id,
        workspace_id=message.workspace_id,
        idempotency_key=message.idempotency_key,
        address=message.address or "",
        subject=subject,
        body=rendered.body,
        text_body=rendered.text_body,
        provider_template=template.provider_template,
        extra=extra,
    )


def _email_extra(session: Session, message: Message, settings: ChannelSettings) -> dict[str, Any]:
    marketing = message.purpose == Purpose.MARKETING
    ws = message.workspace_id
    unsubscribe = None
    headers: dict[str, str] = {}
    if message.person_id is not None:
        unsubscribe = links.unsubscribe_url(session, ws, message.id, message.person_id, "email")
    if marketing and unsubscribe is not None:
        mailto = settings.settings.get("list_unsubscribe_mailto")
        targets = [f"<{unsubscribe}>"] + ([f"<mailto:{mailto}>"] if mailto else [])
        headers["List-Unsubscribe"] = ", ".join(targets)
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    domain = settings.settings.get("return_path_domain")
    return {
        "headers": headers,
        "unsubscribe_url": unsubscribe,
        "open_pixel_url": links.open_pixel_url(session, ws, message.id),
        "click_base_url": links.click_base_url(),
        # Signs each wrapped link while the email is composed (the key is read once, here).
        "click_signer": signer(session, ws, links.CLICK),
        "marketing": marketing,
        "return_path": f"bounces+{message.id}@{domain}" if domain else None,
    }
