"""Tracking links and their QR codes: made per channel (one per community group for S2), each
click or scan a ``Link Clicked`` / ``QR Scanned`` event through the ingest path, carrying the
channel and campaign as UTM context — so the person's first channel is the channel, not the
ingestion path — and flagged when a link scanner made it.

No open redirect: the public URL carries only a random code; the destination is stored when
the link is made and a click can go nowhere else.
"""

import base64
import io
import re
import secrets
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import segno
from PIL import Image
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from leadpond.acquisition.models import QrLogo, TrackingLink, TrackingLinkVisitor
from leadpond.channels.tracking import Visit, bot_reason
from leadpond.config import get_settings
from leadpond.db.engine import dialect_insert
from leadpond.ingest.service import append_events
from leadpond.ingest.spec import normalise
from leadpond.kit.clock import isoformat, utcnow
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
    _count_follow(session, link, anonymous_id, bot=bot is not None, scanned=scanned, now=now)
    parts = urlsplit(link.target)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "ajs_aid"]
    return urlunsplit(parts._replace(query=urlencode([*query, ("ajs_aid", anonymous_id)])))


def _count_follow(
    session: Session,
    link: TrackingLink,
    anonymous_id: str,
    *,
    bot: bool,
    scanned: bool,
    now: datetime,
) -> None:
    """The link's counters, in the click's transaction: a bot's hit apart; a person's click or
    scan, and their browser once."""
    if bot:
        counts = {"bot_hits": TrackingLink.bot_hits + 1}
    else:
        new_visitor = session.execute(
            dialect_insert(session, TrackingLinkVisitor)
            .values(link_id=link.id, anonymous_id=anonymous_id[:128], first_at=now)
            .on_conflict_do_nothing(index_elements=["link_id", "anonymous_id"])
            .returning(TrackingLinkVisitor.link_id)
        ).first()
        kind = TrackingLink.scans if scanned else TrackingLink.clicks
        counts = {kind.key: kind + 1, "visitors": TrackingLink.visitors + int(bool(new_visitor))}
    session.execute(update(TrackingLink).where(TrackingLink.id == link.id).values(counts))


def qr_code(code: str, kind: str, logo: bytes | None = None) -> bytes:
    """The link's QR code as PNG or SVG (segno), for print and posters: error correction M,
    big enough modules to scan from a phone at arm's length. With a ``logo`` (PNG) it sits in
    the centre, on a white pad, over at most a sixteenth of the code's area, and the code uses
    error correction H (30% of it may be covered and still read)."""
    qr = segno.make(qr_url(code), error="h" if logo else "m", boost_error=not logo)
    buffer = io.BytesIO()
    if kind == "png":
        qr.save(buffer, kind="png", scale=10, border=2)
    else:
        qr.save(buffer, kind="svg", scale=10, border=2, xmldecl=False)
    if not logo:
        return buffer.getvalue()
    return _with_logo(buffer.getvalue(), kind, logo)


def _with_logo(image: bytes, kind: str, logo: bytes) -> bytes:
    with Image.open(io.BytesIO(logo)) as opened:
        mark = opened.convert("RGBA")
    if kind == "svg":
        size = _svg_size(image)
        side = size // 4
        mark.thumbnail((side, side))
        encoded = io.BytesIO()
        mark.save(encoded, format="PNG")
        data = base64.b64encode(encoded.getvalue()).decode()
        x, y = (size - mark.width) // 2, (size - mark.height) // 2
        pad = 6
        overlay = (
            f'<rect x="{x - pad}" y="{y - pad}" width="{mark.width + 2 * pad}" '
            f'height="{mark.height + 2 * pad}" fill="#fff"/>'
            f'<image x="{x}" y="{y}" width="{mark.width}" height="{mark.height}" '
            f'href="data:image/png;base64,{data}"/>'
        )
        return image.replace(b"</svg>", overlay.encode() + b"</svg>")
    with Image.open(io.BytesIO(image)) as opened:
        canvas = opened.convert("RGBA")
    side = canvas.width // 4
    mark.thumbnail((side, side))
    pad = 6
    x, y = (canvas.width - mark.width) // 2, (canvas.height - mark.height) // 2
    backing = Image.new("RGBA", (mark.width + 2 * pad, mark.height + 2 * pad), "white")
    canvas.paste(backing, (x - pad, y - pad))
    canvas.alpha_composite(mark, (x, y))
    out = io.BytesIO()
    canvas.convert("RGB").save(out, format="PNG", optimize=True)
    return out.getvalue()


def _svg_size(svg: bytes) -> int:
    found = re.search(rb'width="(\d+)"', svg)
    return int(found.group(1)) if found else 290


MAX_LOGO_BYTES = 512 * 1024
LOGO_SIDE = 256


def set_logo(session: Session, workspace_id: uuid.UUID, data: bytes, actor: str) -> QrLogo:
    """Keep the workspace's QR logo: a PNG, JPEG or WebP image up to 512 KB, stored as a PNG of
    at most 256 px a side; anything else is bad input and changes nothing."""
    if not data or len(data) > MAX_LOGO_BYTES:
        raise InvalidInput("the logo must be an image of at most 512 KB", field="file")
    try:
        with Image.open(io.BytesIO(data)) as opened:
            if opened.format not in ("PNG", "JPEG", "WEBP"):
                raise InvalidInput("the logo must be a PNG, JPEG or WebP image", field="file")
            opened.load()
            mark = opened.convert("RGBA")
    except (OSError, Image.DecompressionBombError, ValueError) as exc:
        raise InvalidInput("the logo is not an image that can be read", field="file") from exc
    mark.thumbnail((LOGO_SIDE, LOGO_SIDE))
    stored = io.BytesIO()
    mark.save(stored, format="PNG", optimize=True)
    found = session.get(QrLogo, workspace_id)
    if found is None:
        found = QrLogo(workspace_id=workspace_id, png=stored.getvalue(), updated_by=actor)
        session.add(found)
    else:
        found.png, found.updated_by, found.updated_at = stored.getvalue(), actor, utcnow()
    return found


def logo_of(session: Session, workspace_id: uuid.UUID) -> bytes | None:
    """The workspace's QR logo (PNG), if it has one."""
    found = session.get(QrLogo, workspace_id)
    return found.png if found else None


def remove_logo(session: Session, workspace_id: uuid.UUID) -> None:
    """Forget the workspace's QR logo (codes are plain again)."""
    found = session.get(QrLogo, workspace_id)
    if found is not None:
        session.delete(found)
