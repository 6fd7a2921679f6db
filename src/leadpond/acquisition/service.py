"""Tracking links and their QR codes: made per channel (one per community group for S2), each
click or scan a ``Link Clicked`` / ``QR Scanned`` event through the ingest path, carrying the
channel and campaign as UTM context — so the person's first channel is the channel, not the
ingestion path — and flagged when a link scanner made it.

No open redirect: the public URL carries only a random code; the destination is stored when
the link is made and a click can go nowhere else.
"""

import io
import secrets
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import segno
from sqlalchemy import select
from sqlalchemy.orm import Session

from leadpond.acquisition.models import TrackingLink
from leadpond.channels.tracking import Visit, bot_reason
from leadpond.config import get_settings
from leadpond.ingest.service import append_events
from leadpond.ingest.spec import normalise
from leadpond.kit.clock import isoformat
from leadpond.kit.errors import InvalidInput, NotFound
from leadpond.kit.pagination import PageQuery
from leadpond.kit.scope import owned

LINKS_SOURCE = "links"  # the event log's source of clicks and scans
CLICKED, SCANNED = "Link Clicked", "QR Scanned"
CODE_BYTES = 6  # 8 URL-safe characters: 2^48 codes, never guessed
MAX_TARGET = 2048


class LinkNotFound(NotFound):
    code = "link_not_found"


# Links to a content item are made by the content pool (it sits above this package: wiring.py
# installs its maker here): (session, workspace, item id, channels, UTM parts, actor) → links.
ContentLinks = Callable[
    [Session, uuid.UUID, int, Sequence[str], dict[str, str | None], str], list[TrackingLink]
]
_content_links: list[ContentLinks] = []


def install_content_links(maker: ContentLinks) -> None:
    """Where ``content_id`` links are made (``content.service.make_links``), once."""
    _content_links[:] = [maker]


def links_to_content(
    session: Session,
    workspace_id: uuid.UUID,
    content_id: int,
    channels: Sequence[str],
    parts: dict[str, str | None],
    actor: str,
) -> list[TrackingLink]:
    """One link per channel to a content item's viewer, made by the content pool."""
    if not _content_links:
        raise InvalidInput("links to content need the content pool", field="content_id")
    return _content_links[0](session, workspace_id, content_id, channels, parts, actor)


@dataclass(frozen=True)
class NewLink:
    """What a link is made of: the destination and where its clicks come from."""

    url: str
    channel: str
    source: str | None = None
    medium: str | None = None
    campaign: str | None = None
    content: str | None = None


def short_url(code: str) -> str:
    """The public URL of a link."""
    return f"{get_settings().public_url.rstrip('/')}/l/{code}"


def qr_url(code: str) -> str:
    """What a link's QR code encodes: the short URL, marked as scanned."""
    return f"{short_url(code)}?s=qr"


def with_utm(url: str, link: NewLink) -> str:
    """``url`` with the link's UTM parameters (they replace any already there)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidInput("the destination must be an http(s) URL", field="url")
    utm = {
        "utm_source": link.source or link.channel,
        "utm_medium": link.medium or "link",
        **({"utm_campaign": link.campaign} if link.campaign else {}),
        **({"utm_content": link.content} if link.content else {}),
    }
    kept = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in utm]
    target = urlunsplit(parts._replace(query=urlencode([*kept, *utm.items()])))
    if len(target) > MAX_TARGET:
        raise InvalidInput(f"the destination is over {MAX_TARGET} characters", field="url")
    return target


def create_links(
    session: Session,
    workspace_id: uuid.UUID,
    links: Sequence[NewLink],
    actor: str,
    codes: Sequence[str] | None = None,
) -> list[TrackingLink]:
    """Make the links (all or none: a bad one names its field). ``codes``: the links' codes,
    one per link, when the caller derives them (unguessable, and the same on a retry: a
    journey's link per person and item), else random ones."""
    if codes is not None and len(codes) != len(links):
        raise ValueError("one code per link")
    made = [
        TrackingLink(
            workspace_id=workspace_id,
            code=codes[i] if codes is not None else secrets.token_urlsafe(CODE_BYTES),
            target=with_utm(link.url, link),
            channel=link.channel,
            source=link.source or link.channel,
            medium=link.medium or "link",
            campaign=link.campaign,
            content=link.content,
            created_by=actor[:128],
        )
        for i, link in enumerate(links)
    ]
    session.add_all(made)
    session.flush()
    return made


def list_links(
    session: Session, workspace_id: uuid.UUID, page: PageQuery, campaign: str | None = None
) -> list[TrackingLink]:
    """The workspace's links, newest first (of one campaign, when given)."""
    stmt = select(TrackingLink).where(owned(TrackingLink, workspace_id))
    if campaign is not None:
        stmt = stmt.where(TrackingLink.campaign == campaign)
    stmt = stmt.order_by(TrackingLink.id.desc()).offset(page.offset).limit(page.limit)
    return list(session.scalars(stmt))


def find_link(session: Session, code: str, workspace_id: uuid.UUID | None = None) -> TrackingLink:
    """The link of a code (of this workspace, when given), or :class:`LinkNotFound`."""
    stmt = select(TrackingLink).where(TrackingLink.code == code)
    if workspace_id is not None:
        stmt = stmt.where(owned(TrackingLink, workspace_id))
    found = session.scalar(stmt)
    if found is None:
        raise LinkNotFound("this link does not exist")
    return found


def follow(
    session: Session,
    code: str,
    visit: Visit,
    anonymous_id: str,
    scanned: bool,
    now: datetime,
) -> str:
    """Record the click (or the scan) as an event of the visitor and return where to send
    them: the destination, with ``ajs_aid`` so the website's Segment SDK keeps this visitor's
    anonymous id (and the visit joins the same person)."""
    link = find_link(session, code)
    bot = bot_reason(visit, None)
    properties: dict[str, Any] = {
        "link": link.code,
        "url": link.target,
        "channel": link.channel,
        "campaign": link.campaign,
        "content": link.content,
        "bot": bot is not None,
        **({"bot_reason": bot} if bot else {}),
    }
    raw = {
        "type": "track",
        "event": SCANNED if scanned else CLICKED,
        "anonymousId": anonymous_id,
        "messageId": f"link-{uuid.uuid4().hex}",
        "timestamp": isoformat(now),
        "properties": properties,
        "context": {
            "campaign": {
                "source": link.source,
                "medium": link.medium,
                **({"name": link.campaign} if link.campaign else {}),
                **({"content": link.content} if link.content else {}),
            },
            "page": {"url": link.target},
            "userAgent": visit.user_agent[:512],
            **({"ip": visit.ip} if visit.ip else {}),
        },
    }
    append_events(
        session, link.workspace_id, [normalise(raw, received_at=now)], now, source=LINKS_SOURCE
    )
    parts = urlsplit(link.target)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "ajs_aid"]
    return urlunsplit(parts._replace(query=urlencode([*query, ("ajs_aid", anonymous_id)])))


def qr_code(code: str, kind: str) -> bytes:
    """The link's QR code as PNG or SVG (segno), for print and posters: error correction M,
    big enough modules to scan from a phone at arm's length."""
    qr = segno.make(qr_url(code), error="m")
    buffer = io.BytesIO()
    if kind == "png":
        qr.save(buffer, kind="png", scale=10, border=2)
    else:
        qr.save(buffer, kind="svg", scale=10, border=2, xmldecl=False)
    return buffer.getvalue()
