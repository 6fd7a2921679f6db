"""From a claimed outbox row to a message ready to leave, deciding at send time what only send
time knows: the channel's settings, the person (merged since?), consent, the address and its
suppression, quiet hours and caps, and the template rendered for them.

Each message ends as ready (an :class:`Outgoing`), skipped with its reason, or held (back in the
queue until a window opens).
"""

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session

from leadpond.channels import consent, limits
from leadpond.channels.links import CLICK, Links, click_base_url
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
    person_contexts,
    render_template,
)
from leadpond.channels.senders.base import Outgoing
from leadpond.channels.settings import Caps, QuietHours, parse_caps, parse_quiet_hours
from leadpond.identity.models import Identifier
from leadpond.kit.scope import owned
from leadpond.normalise.contact import normalise_email, normalise_phone
from leadpond.profiles.models import Person

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


# Identifier types that hold a channel's address, looked up when the traits have none.
ADDRESS_TYPES = {
    Channel.EMAIL.value: ("email",),
    Channel.SMS.value: ("phone",),
    Channel.WECHAT.value: OPENID_TYPES,
}
# How far a chain of merges is followed to the person a message goes to now.
MERGE_DEPTH = 100


class Recipient(NamedTuple):
    """The person a message goes to now: who, and their traits."""

    id: int
    traits: dict[str, Any]


@dataclass
class Preparation:
    """One claimed batch's decisions, and everything they read, read once for the batch
    (:meth:`load`): a batch of 500 costs a dozen queries, not a dozen per message."""

    session: Session
    now: datetime
    settings: dict[tuple[uuid.UUID, str], ChannelSettings | None] = field(default_factory=dict)
    templates: dict[int, MessageTemplate] = field(default_factory=dict)
    # A message's person id → the person it goes to now (merged: the survivor; gone: None).
    live: dict[int, Recipient | None] = field(default_factory=dict)
    contexts: dict[int, dict[str, Any]] = field(default_factory=dict)
    opted_out: set[tuple[int, str]] = field(default_factory=set)
    # (person, channel) → the newest identifier that addresses them there.
    identifiers: dict[tuple[int, str], str] = field(default_factory=dict)
    suppressed: set[tuple[uuid.UUID, str, str]] = field(default_factory=set)
    # A message's address, found while loading (None: it has none).
    addresses: dict[int, str | None] = field(default_factory=dict)
    # Marketing messages sent (recorded before the batch, and let through by it), per
    # (person, channel): caps count them.
    sent: dict[tuple[int, str], list[datetime]] = field(default_factory=lambda: defaultdict(list))
    # Marketing messages in flight per (person, channel): claimed by another batch (of this
    # deliverer or another) and not recorded yet, with when their lease ends.
    in_flight: dict[tuple[int, str], list[datetime]] = field(default_factory=dict)
    links: dict[uuid.UUID, Links] = field(default_factory=dict)
    limits: dict[tuple[uuid.UUID, str], tuple[Caps, QuietHours | None]] = field(
        default_factory=dict
    )

    def channel_settings(self, message: Message) -> ChannelSettings | None:
        """The message's channel settings."""
        return self.settings.get((message.workspace_id, message.channel))

    def limits_of(self, settings: ChannelSettings) -> tuple[Caps, QuietHours | None]:
        """The channel's caps and quiet hours (parsed once per batch)."""
        key = (settings.workspace_id, settings.channel)
        if key not in self.limits:
            self.limits[key] = (parse_caps(settings.caps), parse_quiet_hours(settings.quiet_hours))
        return self.limits[key]

    def links_of(self, workspace_id: uuid.UUID) -> Links:
        """The workspace's link signer (its key read once per batch)."""
        if workspace_id not in self.links:
            self.links[workspace_id] = Links(self.session, workspace_id)
        return self.links[workspace_id]

    def load(self, messages: Sequence[Message]) -> None:
        """Read what deciding these messages needs, a few queries per workspace."""
        by_workspace: dict[uuid.UUID, list[Message]] = defaultdict(list)
        for message in messages:
            by_workspace[message.workspace_id].append(message)
        template_ids = {m.template_id for m in messages if m.template_id is not None}
        if template_ids:
            found = self.session.scalars(
                select(MessageTemplate).where(MessageTemplate.id.in_(template_ids))
            )
            self.templates = {t.id: t for t in found}
        for workspace_id, mine in by_workspace.items():
            self._load_workspace(workspace_id, mine)

    def _load_workspace(self, workspace_id: uuid.UUID, messages: list[Message]) -> None:
        session = self.session
        channels = {m.channel for m in messages}
        for row in session.scalars(
            select(ChannelSettings).where(
                owned(ChannelSettings, workspace_id), ChannelSettings.channel.in_(channels)
            )
        ):
            self.settings[(workspace_id, row.channel)] = row
        for channel in channels:
            self.settings.setdefault((workspace_id, channel), None)
        asked = {m.person_id for m in messages if m.person_id is not None}
        self.live.update(_live_people(session, workspace_id, asked))
        persons = {p.id: p.traits for p in self.live.values() if p is not None}
        ids = list(persons)
        self.contexts.update(person_contexts(session, workspace_id, persons))
        self.opted_out |= consent.opted_out_on(session, workspace_id, ids, channels)
        self._load_identifiers(workspace_id, ids, channels)
        addresses = set()
        for message in messages:
            address = self.addresses[message.id] = self._address(message)
            if address is not None:
                addresses.add((message.channel, address))
        self.suppressed |= {
            (workspace_id, channel, address)
            for channel, address in consent.suppressed(session, workspace_id, addresses)
        }
        self._load_sent(workspace_id, messages)

    def _load_identifiers(
        self, workspace_id: uuid.UUID, ids: list[int], channels: set[str]
    ) -> None:
        types = {t: c for c in channels for t in ADDRESS_TYPES.get(c, ())}
        if not ids or not types:
            return
        found = self.session.execute(
            select(Identifier.person_id, Identifier.type, Identifier.value)
            .where(
                owned(Identifier, workspace_id),
                Identifier.person_id.in_(ids),
                Identifier.type.in_(types),
            )
            # The newest last: it overwrites the older ones.
            .order_by(Identifier.first_seen_at, Identifier.id)
        )
        for person_id, kind, value in found:
            self.identifiers[(person_id, types[kind])] = value

    def _load_sent(self, workspace_id: uuid.UUID, messages: list[Message]) -> None:
        for channel in {m.channel for m in messages}:
            settings = self.settings.get((workspace_id, channel))
            window = limits.longest_window(self.limits_of(settings)[0]) if settings else None
            if window is None:
                continue
            ids = {
                person.id
                for m in messages
                if m.channel == channel
                and m.purpose == Purpose.MARKETING
                and m.person_id is not None
                and (person := self.live.get(m.person_id)) is not None
            }
            if not ids:
                continue
            since = self.now - window
            for pid, times in limits.sent_times(
                self.session, workspace_id, ids, channel, since
            ).items():
                self.sent[(pid, channel)].extend(times)
            mine = [m.id for m in messages]
            for pid, leases in limits.in_flight(
                self.session, workspace_id, ids, channel, mine
            ).items():
                self.in_flight[(pid, channel)] = leases

    def person(self, message: Message) -> Recipient | None:
        """The person the message goes to now (merged: the survivor), or None for a message
        to nobody in particular; skips it when they are gone."""
        if message.person_id is None:
            return None
        person = self.live.get(message.person_id)
        if person is None:
            raise Skip("person_gone")
        return person

    def address(self, message: Message) -> str | None:
        """Where the message goes on its channel (docs/channels.md, "Addresses")."""
        return self.addresses.get(message.id)

    def _address(self, message: Message) -> str | None:
        settings = self.channel_settings(message)
        template = self.templates.get(message.template_id) if message.template_id else None
        if settings is None or template is None:
            return None
        channel, provider = message.channel, settings.provider
        if channel == Channel.WEBHOOK:
            return str(settings.settings.get("url") or "") or None
        if channel == Channel.WECOM:
            if provider == "robot":
                return "robot"
            found = message.variables.get("wecom_userid") or template.provider_template
            return str(found) if found else None
        if channel == Channel.EMAIL and message.variables.get("notify_email"):
            # A journey's note about the person to a workspace user (journeys.actions).
            return normalise_email(str(message.variables["notify_email"]))
        person = self.live.get(message.person_id) if message.person_id is not None else None
        if person is None:
            return None
        traits = person.traits or {}
        known = self.identifiers.get((person.id, channel))
        if channel == Channel.EMAIL:
            raw = traits.get("email")
            if not isinstance(raw, str):
                return known
            # The trait is the address the person gave last; most often it is the known one.
            return known if raw.strip().lower() == known else (normalise_email(raw) or known)
        if channel == Channel.SMS:
            raw = traits.get("phone") or traits.get("mobile")
            return known or (normalise_phone(raw) if isinstance(raw, str) else None)
        if channel == Channel.WECHAT:
            return known
        return None


def _live_people(
    session: Session, workspace_id: uuid.UUID, asked: set[int]
) -> dict[int, Recipient | None]:
    """Each asked person id → the person of the workspace it is now (following merges)."""
    current = {pid: pid for pid in asked}
    rows: dict[int, tuple[int | None, dict[str, Any]]] = {}
    for _ in range(MERGE_DEPTH):
        missing = set(current.values()) - rows.keys()
        if missing:
            found = session.execute(
                select(Person.id, Person.merged_into_id, Person.traits).where(
                    owned(Person, workspace_id), Person.id.in_(missing)
                )
            )
            rows.update((pid, (merged_into_id, traits)) for pid, merged_into_id, traits in found)
        moved = False
        for pid, now_id in current.items():
            row = rows.get(now_id)
            if row is not None and row[0] is not None:
                current[pid], moved = row[0], True
        if not moved:
            break
    live: dict[int, Recipient | None] = {}
    for pid, now_id in current.items():
        row = rows.get(now_id)
        alive = row is not None and row[0] is None
        live[pid] = Recipient(now_id, dict(row[1] or {})) if row is not None and alive else None
    return live


Decision = Outgoing | Skip | Held


def decide(batch: Preparation, message: Message) -> Decision:
    """The message ready to hand over, or why it is skipped or held; nothing is written
    (:func:`record` does, in a short write transaction). :meth:`Preparation.load` has read what
    it needs."""
    try:
        return _decide(batch, message)
    except (Skip, Held) as decided:
        return decided


def record(session: Session, decisions: Sequence[tuple[Message, Decision]], at: datetime) -> None:
    """Write what :func:`decide` found: the address, subject and live person of each ready
    message (one statement), and the status of each skipped or held one."""
    ready = [
        {"mid": m.id, "person_id": m.person_id, "address": m.address, "subject": m.subject}
        for m, decision in decisions
        if isinstance(decision, Outgoing)
    ]
    if ready:
        session.execute(_READY, ready)
    for message, decision in decisions:
        if isinstance(decision, Skip):
            session.add(message)
            detail = {"detail": decision.detail} if decision.detail else None
            set_status(
                session,
                message,
                MessageStatus.SKIPPED.value,
                reason=decision.reason,
                detail=detail,
                at=at,
            )
        elif isinstance(decision, Held):
            session.add(message)
            hold(session, message, decision.until, decision.why)


_messages = cast(Table, Message.__table__)
_READY = (
    update(_messages)
    .where(_messages.c.id == bindparam("mid"))
    .values(
        person_id=bindparam("person_id"),
        address=bindparam("address"),
        subject=bindparam("subject"),
    )
)


def _decide(batch: Preparation, message: Message) -> Outgoing:
    settings = batch.channel_settings(message)
    if settings is None or not settings.enabled:
        raise Skip("not_configured")
    template = batch.templates.get(message.template_id) if message.template_id else None
    if template is None:
        raise Skip("invalid_template", "the template was deleted")
    person = batch.person(message)
    if person is not None:
        message.person_id = person.id
    traits = person.traits if person is not None else {}
    marketing = message.purpose == Purpose.MARKETING
    if marketing and message.channel == Channel.WECHAT:
        raise Skip("no_consent", "WeChat template messages are service notices only")
    if person is not None:
        opted_out = (person.id, message.channel) in batch.opted_out
        reason = consent.consent_problem(traits, message.purpose, opted_out)
        if reason is not None:
            raise Skip(reason)
    address = batch.address(message)
    if address is None:
        raise Skip("no_address")
    if (message.workspace_id, message.channel, address) in batch.suppressed:
        raise Skip("suppressed")
    if marketing and person is not None:
        _check_limits(batch, message, settings, person.id)
    message.address = address
    links = batch.links_of(message.workspace_id)
    unsubscribe = None
    if person is not None:
        unsubscribe = links.unsubscribe_url(message.id, person.id, message.channel)
    rendered = _render(batch, message, template, person, unsubscribe)
    message.subject = rendered.subject[:255] if rendered.subject else None
    if marketing and person is not None:
        batch.sent[(person.id, message.channel)].append(batch.now)
    return _outgoing(message, settings, template, rendered, links, unsubscribe)


def _check_limits(
    batch: Preparation, message: Message, settings: ChannelSettings, pid: int
) -> None:
    caps, quiet = batch.limits_of(settings)
    until = limits.quiet_until(batch.now, quiet)
    if until is not None and quiet is not None:
        if quiet.on_quiet == "drop":
            raise Skip("quiet_hours")
        raise Held(until, "quiet_hours")
    sent = batch.sent.get((pid, message.channel), [])
    until = limits.cap_until(caps, batch.now, sent)
    if until is not None:
        if caps.on_cap == "drop":
            raise Skip("capped")
        raise Held(until, "capped")
    leases = batch.in_flight.get((pid, message.channel))
    if leases and limits.cap_until(caps, batch.now, sent + [batch.now] * len(leases)):
        # Over a cap if the messages in flight leave: wait until they have left or failed
        # (their lease ends), then decide again. Never dropped for messages that may fail.
        raise Held(min(leases), "capped")


def _render(
    batch: Preparation,
    message: Message,
    template: MessageTemplate,
    person: Recipient | None,
    unsubscribe: str | None,
) -> Rendered:
    base: dict[str, Any] = {"person": {}, "account": {}}
    if person is not None:
        base = batch.contexts.get(person.id, base)
    context = message_context(base, dict(message.variables or {}), unsubscribe)
    try:
        return render_template(template, context)
    except RenderFailed as exc:
        raise Skip("invalid_template", str(exc)) from exc


def _outgoing(
    message: Message,
    settings: ChannelSettings,
    template: MessageTemplate,
    rendered: Rendered,
    links: Links,
    unsubscribe: str | None,
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
        extra = _email_extra(message, settings, links, unsubscribe)
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


def _email_extra(
    message: Message, settings: ChannelSettings, links: Links, unsubscribe: str | None
) -> dict[str, Any]:
    marketing = message.purpose == Purpose.MARKETING
    headers: dict[str, str] = {}
    if marketing and unsubscribe is not None:
        mailto = settings.settings.get("list_unsubscribe_mailto")
        targets = [f"<{unsubscribe}>"] + ([f"<mailto:{mailto}>"] if mailto else [])
        headers["List-Unsubscribe"] = ", ".join(targets)
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    domain = settings.settings.get("return_path_domain")
    return {
        "headers": headers,
        "unsubscribe_url": unsubscribe,
        "open_pixel_url": links.open_pixel_url(message.id),
        "click_base_url": click_base_url(),
        # Signs each wrapped link while the email is composed (the key is read once, here).
        "click_signer": links.signer(CLICK),
        "marketing": marketing,
        "return_path": f"bounces+{message.id}@{domain}" if domain else None,
    }
