"""What the H5 viewer records, through the ingest path like any tracked event:

- ``Content Viewed`` when the page is served (content id, type, category, topic, stage,
  author, channel, campaign, link, view id), for the visitor's cookie id and, inside WeChat,
  their openid;
- ``Content Read`` when the reader leaves (read seconds, scroll depth), sent by the page's
  beacon with the view's signed token: once per view (its message id is the view's);
- ``Whitepaper Downloaded`` when the item's file is downloaded.
"""

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from leadpond.channels.tracking import Visit, bot_reason
from leadpond.content.models import ContentItem
from leadpond.content.service import facets_of
from leadpond.content.wechat_oauth import WeChatReader
from leadpond.engage.forms import has_submitted
from leadpond.ingest.service import append_events
from leadpond.ingest.spec import normalise
from leadpond.kit.clock import isoformat
from leadpond.kit.errors import InvalidInput
from leadpond.reports.content_tally import DOWNLOADED, READ, VIEWED
from leadpond.workspaces.signing import BadToken, sign, unsign

CONTENT_SOURCE = "content"  # the event log's source of the viewer's events
VIEW_PURPOSE, DOWNLOAD_PURPOSE = "content-view", "content-download"
MAX_READ_SECONDS = 6 * 3600


@dataclass(frozen=True)
class Arrival:
    """Where a reader came from: the link's channel (``ch`` or ``utm_source``), campaign,
    medium, and link code."""

    channel: str | None = None
    campaign: str | None = None
    medium: str | None = None
    link: str | None = None

    @classmethod
    def of(cls, query: dict[str, str]) -> "Arrival":
        def pick(*names: str) -> str | None:
            for name in names:
                value = (query.get(name) or "").strip()[:128]
                if value:
                    return value
            return None

        link = pick("lk")
        return cls(
            pick("ch", "utm_source"),
            pick("utm_campaign"),
            pick("utm_medium"),
            link[:16] if link else None,
        )


@dataclass(frozen=True)
class Reader:
    anonymous_id: str
    visit: Visit
    wechat: WeChatReader | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _properties(session: Session, item: ContentItem) -> dict[str, Any]:
    facets = facets_of(session, item.workspace_id, [item.id])[item.id]
    found = {
        "content_id": item.key,
        "title": item.title,
        "content_type": item.type,
        "content_category": item.category,
        "format": item.format,
        "topic": facets["topic"][0] if facets["topic"] else "",
        "topics": facets["topic"],
        "stage": facets["stage"][0] if facets["stage"] else "",
        "stages": facets["stage"],
        "products": facets["product"],
        "industry": facets["industry"][0] if facets["industry"] else "",
        "author": item.author,
        "language": item.language,
    }
    # Absent rather than empty: rules test `topic: {exists: true}`.
    return {k: v for k, v in found.items() if v != ""}


def _context(reader: Reader, arrival: Arrival | None, url: str) -> dict[str, Any]:
    context: dict[str, Any] = {"page": {"url": url}, "userAgent": reader.visit.user_agent[:512]}
    if reader.visit.ip:
        context["ip"] = reader.visit.ip
    if arrival and arrival.channel:
        context["campaign"] = {
            "source": arrival.channel,
            "medium": arrival.medium or "link",
            **({"name": arrival.campaign} if arrival.campaign else {}),
        }
    if reader.wechat:
        ids = [("wechat_openid", reader.wechat.openid)]
        if reader.wechat.unionid:
            ids.append(("wechat_unionid", reader.wechat.unionid))
        context["externalIds"] = [
            {"id": value, "type": kind, "collection": "users", "encoding": "none"}
            for kind, value in ids
        ]
    return context


def _append(
    session: Session, item: ContentItem, name: str, message_id: str, reader: Reader,
    properties: dict[str, Any], context: dict[str, Any], now: datetime,
) -> int:  # fmt: skip
    raw = {
        "type": "track",
        "event": name,
        "anonymousId": reader.anonymous_id,
        "messageId": message_id,
        "timestamp": isoformat(now),
        "properties": properties,
        "context": context,
    }
    return append_events(
        session, item.workspace_id, [normalise(raw, received_at=now)], now, source=CONTENT_SOURCE
    )


def record_view(
    session: Session, item: ContentItem, reader: Reader, arrival: Arrival, url: str, now: datetime
) -> str:
    """Record ``Content Viewed``; returns the signed token the page's beacon sends back."""
    view_id = uuid.uuid4().hex
    bot = bot_reason(reader.visit, None)
    properties = {
        **_properties(session, item),
        "view_id": view_id,
        "channel": arrival.channel,
        "campaign": arrival.campaign,
        "link": arrival.link,
        "bot": bot is not None,
        **({"bot_reason": bot} if bot else {}),
    }
    context = _context(reader, arrival, url)
    _append(session, item, VIEWED, f"content-view-{view_id}", reader, properties, context, now)
    payload = {"v": view_id, "i": item.id, "a": reader.anonymous_id, "c": arrival.channel}
    return sign(session, item.workspace_id, VIEW_PURPOSE, payload)


def record_read(
    session: Session, token: str, read_seconds: float, scroll_depth: float, visit: Visit
) -> bool:
    """Record ``Content Read`` for the view of the token; False if this view was told already."""
    workspace_id, data = unsign(session, token, VIEW_PURPOSE, max_age_s=7 * 24 * 3600)
    if not 0 <= read_seconds <= MAX_READ_SECONDS or not 0 <= scroll_depth <= 1:
        raise InvalidInput("read seconds or scroll depth out of range")
    item = session.get(ContentItem, int(data["i"]))
    if item is None or item.workspace_id != workspace_id:
        raise InvalidInput("this view's content is gone")
    reader = Reader(str(data["a"]), visit)
    properties = {
        "content_id": item.key,
        "content_type": item.type,
        "author": item.author,
        "view_id": data["v"],
        "channel": data.get("c"),
        "read_seconds": round(read_seconds, 1),
        "scroll_depth": round(scroll_depth, 3),
    }
    context = _context(reader, None, "")
    new = _append(
        session, item, READ, f"content-read-{data['v']}", reader, properties, context, visit.at
    )
    return new > 0


def download_token(session: Session, item: ContentItem, anonymous_id: str) -> str:
    """The signed permission to download the item's file (what a gate form hands on)."""
    return sign(session, item.workspace_id, DOWNLOAD_PURPOSE, {"i": item.id, "a": anonymous_id})


def download_allowed(
    session: Session, item: ContentItem, token: str | None, anonymous_id: str
) -> bool:
    """Whether the download may go ahead: ungated, or with a good token for this item, asked
    by the browser it was made for, which has posted the gate form (a copied link asks again)."""
    if not item.gate_form:
        return True
    if not token:
        return False
    try:
        workspace_id, data = unsign(session, token, DOWNLOAD_PURPOSE, max_age_s=24 * 3600)
    except BadToken:
        return False
    return (
        workspace_id == item.workspace_id
        and data.get("i") == item.id
        and data.get("a") == anonymous_id
        and has_submitted(session, item.workspace_id, item.gate_form, anonymous_id)
    )


def record_download(
    session: Session, item: ContentItem, reader: Reader, arrival: Arrival, now: datetime
) -> None:
    """Record ``Whitepaper Downloaded`` (the playbook scores it) for the reader."""
    properties = {
        **_properties(session, item),
        "file_name": item.file_name,
        "gated": bool(item.gate_form),
        "channel": arrival.channel,
    }
    context = _context(reader, arrival, "")
    message_id = f"content-download-{uuid.uuid4().hex}"
    _append(session, item, DOWNLOADED, message_id, reader, properties, context, now)
