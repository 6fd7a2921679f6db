"""Opens, clicks and unsubscribes arriving through the signed links of a message.

Every link carries a token of ``workspaces.signing`` naming its message (contract §6): the
workspace comes from the token, never from the request. Opens and clicks are weak signals —
mail scanners fetch every image and follow every link, Apple Mail Privacy Protection loads
every pixel when the message arrives — so each one is recorded with a ``bot`` flag: too soon
after the send, or from a known scanner or proxy.
"""

import ipaddress
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadpond.channels import consent, events, outbox
from leadpond.channels.models import (
    ChannelSettings,
    Message,
    MessageEvent,
    Subscription,
    SubscriptionStatus,
)
from leadpond.kit.scope import in_workspace, owned
from leadpond.workspaces.signing import BadToken, unsign

# A human does not open or click within seconds of the send; a gateway scanning mail does.
BOT_WINDOW = timedelta(seconds=10)
# Security gateways and image proxies that fetch links and pixels themselves.
SCANNER_AGENTS = re.compile(
    r"barracuda|proofpoint|mimecast|safelinks|microsoft defender|msoffice|"
    r"googleimageproxy|ggpht\.com|yahoomailproxy|symantec|messagelabs|trendmicro|"
    r"forcepoint|sophos|fortiguard|cisco|ironport|zscaler|bot\b|spider|crawler|"
    r"headless|python-requests|curl/|wget/|go-http-client|java/",
    re.IGNORECASE,
)
# Apple's proxy (Mail Privacy Protection) says only this, from Apple's 17.0.0.0/8.
APPLE_PROXY_AGENT = "Mozilla/5.0"
APPLE_NETWORK = ipaddress.ip_network("17.0.0.0/8")


@dataclass(frozen=True)
class Visit:
    """Who followed a link: what the request said about itself."""

    user_agent: str
    ip: str | None
    at: datetime


def bot_reason(visit: Visit, sent_at: datetime | None) -> str | None:
    """Why this open or click is likely a machine's, or None for a person's."""
    agent = visit.user_agent.strip()
    if agent == APPLE_PROXY_AGENT or _in_apple_network(visit.ip):
        return "apple_privacy_proxy"
    if not agent:
        return "no_user_agent"
    if SCANNER_AGENTS.search(agent):
        return "scanner_agent"
    if sent_at is not None and visit.at - sent_at < BOT_WINDOW:
        return "too_soon_after_send"
    return None


def _in_apple_network(ip: str | None) -> bool:
    try:
        return ip is not None and ipaddress.ip_address(ip) in APPLE_NETWORK
    except ValueError:
        return False


def _message(session: Session, token: str, purpose: str) -> tuple[Message, dict[str, Any]]:
    workspace_id, data = unsign(session, token, purpose)
    if not isinstance(data, dict) or not isinstance(data.get("m"), int):
        raise BadToken("this link is not valid")
    message = session.scalar(in_workspace(Message, workspace_id).where(Message.id == data["m"]))
    if message is None:
        raise BadToken("this link is not valid")
    return message, data


def _visit_detail(visit: Visit, bot: str | None) -> dict[str, Any]:
    return {"user_agent": visit.user_agent[:512], "ip": visit.ip, "bot": bot is not None} | (
        {"bot_reason": bot} if bot else {}
    )


def record_open(session: Session, token: str, visit: Visit) -> bool:
    """Record the first open of a message (and the first human one after a bot's); False when
    nothing was recorded. A bad token raises :class:`BadToken`."""
    message, _ = _message(session, token, "open")
    bot = bot_reason(visit, message.sent_at)
    earlier = session.scalars(
        select(MessageEvent.detail).where(
            owned(MessageEvent, message.workspace_id),
            MessageEvent.message_id == message.id,
            MessageEvent.kind == "opened",
        )
    ).all()
    if any(not detail.get("bot") for detail in earlier) or (bot and earlier):
        return False
    detail = _visit_detail(visit, bot)
    outbox.record_event(session, message, "opened", detail)
    events.record(session, message, "Email Opened", {"bot": bot is not None}, visit.at)
    return True


def record_click(session: Session, token: str, visit: Visit) -> str:
    """Record a click and answer the URL signed inside the token (never one from the
    request: no open redirect). A bad token raises :class:`BadToken`."""
    message, data = _message(session, token, "click")
    url = data.get("u")
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        raise BadToken("this link is not valid")
    bot = bot_reason(visit, message.sent_at)
    outbox.record_event(session, message, "clicked", _visit_detail(visit, bot) | {"url": url})
    events.record(session, message, "Email Clicked", {"url": url, "bot": bot is not None}, visit.at)
    return url


@dataclass(frozen=True)
class UnsubscribeLink:
    """What an unsubscribe token names: the message it came in, the person, the channel."""

    workspace_id: uuid.UUID
    message_id: int
    person_id: int
    channel: str


def unsubscribe_link(session: Session, token: str) -> UnsubscribeLink:
    """The person and channel of an unsubscribe token, or :class:`BadToken`."""
    workspace_id, data = unsign(session, token, "unsubscribe")
    if not isinstance(data, dict) or not all(isinstance(data.get(k), int) for k in ("m", "p")):
        raise BadToken("this link is not valid")
    return UnsubscribeLink(workspace_id, data["m"], data["p"], str(data.get("c") or "email"))


def unsubscribe(session: Session, link: UnsubscribeLink, source: str, at: datetime) -> None:
    """Opt the person out of the link's channel (consent), on the message's history."""
    detail = {"message_id": link.message_id}
    consent.unsubscribe(session, link.workspace_id, link.person_id, link.channel, source, detail)
    message = session.scalar(
        in_workspace(Message, link.workspace_id).where(Message.id == link.message_id)
    )
    if message is None:
        return
    outbox.record_event(session, message, "unsubscribed", {"source": source})
    if link.channel == "email":
        events.record(session, message, "Email Unsubscribed", {"source": source}, at)


def channel_statuses(session: Session, link: UnsubscribeLink) -> dict[str, str]:
    """Every channel the workspace sends on (and any the person has a say on), with the
    person's status: subscribed unless they opted out, bounced or complained."""
    configured = session.scalars(
        select(ChannelSettings.channel).where(
            owned(ChannelSettings, link.workspace_id), ChannelSettings.enabled.is_(True)
        )
    ).all()
    statuses = {channel: SubscriptionStatus.SUBSCRIBED.value for channel in configured}
    statuses.setdefault(link.channel, SubscriptionStatus.SUBSCRIBED.value)
    rows = session.execute(
        select(Subscription.channel, Subscription.status).where(
            owned(Subscription, link.workspace_id), Subscription.person_id == link.person_id
        )
    ).all()
    statuses.update({channel: status for channel, status in rows})
    return dict(sorted(statuses.items()))


def set_preferences(
    session: Session, link: UnsubscribeLink, wanted: set[str], source: str
) -> dict[str, str]:
    """Subscribe the person to the ``wanted`` channels and out of the others they could
    change (a bounced or complained channel is not theirs to turn back on here)."""
    detail = {"message_id": link.message_id}
    subscribed, unsubscribed = SubscriptionStatus.SUBSCRIBED, SubscriptionStatus.UNSUBSCRIBED
    for channel, status in channel_statuses(session, link).items():
        if status == subscribed and channel not in wanted:
            consent.unsubscribe(session, link.workspace_id, link.person_id, channel, source, detail)
        elif status == unsubscribed and channel in wanted:
            consent.subscribe(session, link.workspace_id, link.person_id, channel, source, detail)
    return channel_statuses(session, link)
