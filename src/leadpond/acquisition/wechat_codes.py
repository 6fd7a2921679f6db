"""The official account's parameterised QR codes, and what its callback tells about followers.

A code is made through ``qrcode/create`` (``QR_STR_SCENE`` temporary, at most 30 days;
``QR_LIMIT_STR_SCENE`` permanent, at most 100,000 per account — counted here and refused past
the budget). Its scene is a random string we store with the channel and campaign it stands for,
so the callback's ``SCAN`` / ``subscribe`` with ``qrscene_<scene>`` credits that channel.

Everything the callback reports becomes a standard event through the ingest path (source
``wechat``), the follower named by their openid (``context.externalIds``, scoped by the app id):
``WeChat Followed``, ``WeChat Unfollowed``, ``QR Scanned``, ``WeChat Menu Clicked``, ``WeChat
Message Received``. WeChat posts a message again when we are slow, so each event's messageId is
derived from what WeChat sent (``MsgId``, else the follower and ``CreateTime``): a retry is the
same event, which the event log skips.
"""

import io
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import segno
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from leadpond.acquisition import wechat_unionid, weixin
from leadpond.acquisition.models import WeChatQrCode
from leadpond.channels.models import Channel, ChannelSettings
from leadpond.channels.wechat_callback import Account, Handler
from leadpond.channels.wechat_callback_xml import Inbound
from leadpond.ingest.service import append_events
from leadpond.ingest.spec import normalise
from leadpond.kit.clock import isoformat, utcnow
from leadpond.kit.errors import Conflict, InvalidInput, NotFound
from leadpond.kit.pagination import PageQuery
from leadpond.kit.scope import owned

WECHAT_SOURCE = "wechat"  # the event log's source of what the callback reports
PERMANENT_LIMIT = 100_000  # permanent codes an account may have
MAX_EXPIRE_S = 30 * 24 * 3600  # temporary codes live at most 30 days
SHOW_QRCODE = "https://mp.weixin.qq.com/cgi-bin/showqrcode?ticket="
SCENE_PREFIX = "qrscene_"
FOLLOWED, UNFOLLOWED, SCANNED = "WeChat Followed", "WeChat Unfollowed", "QR Scanned"
MENU_CLICKED, MESSAGE_RECEIVED = "WeChat Menu Clicked", "WeChat Message Received"
CONTENT_MAX = 2000


class WeChatNotConfigured(InvalidInput):
    code = "wechat_not_configured"


class PermanentBudgetExhausted(Conflict):
    code = "permanent_qr_budget_exhausted"


class QrCodeNotFound(NotFound):
    code = "qr_code_not_found"


@dataclass(frozen=True)
class NewQrCode:
    channel: str
    campaign: str | None
    permanent: bool
    expire_seconds: int | None


def _settings(session: Session, workspace_id: uuid.UUID, lock: bool = False) -> dict[str, Any]:
    stmt = select(ChannelSettings).where(
        owned(ChannelSettings, workspace_id), ChannelSettings.channel == Channel.WECHAT
    )
    row = session.scalar(stmt.with_for_update() if lock else stmt)
    if row is None or not row.settings.get("app_id") or not row.settings.get("app_secret"):
        raise WeChatNotConfigured("set the wechat channel's app_id and app_secret first")
    return dict(row.settings)


def permanent_used(session: Session, workspace_id: uuid.UUID) -> int:
    """How many permanent codes the workspace's account has (of :data:`PERMANENT_LIMIT`)."""
    stmt = select(func.count()).where(owned(WeChatQrCode, workspace_id), WeChatQrCode.permanent)
    return int(session.scalar(stmt) or 0)


def _check_budget(session: Session, workspace_id: uuid.UUID) -> None:
    used = permanent_used(session, workspace_id)
    if used >= PERMANENT_LIMIT:
        raise PermanentBudgetExhausted(
            f"the account has {used} permanent QR codes, WeChat's limit is {PERMANENT_LIMIT}:"
            " make a temporary one (up to 30 days) instead"
        )


def prepare_qr_code(
    session: Session, workspace_id: uuid.UUID, new: NewQrCode
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The account's settings and the ``qrcode/create`` body (read before the call, which is
    made outside any write transaction); a permanent code past the budget is refused."""
    settings = _settings(session, workspace_id)
    scene = f"lp_{secrets.token_urlsafe(9)}"
    if new.permanent:
        _check_budget(session, workspace_id)
        body: dict[str, Any] = {"action_name": "QR_LIMIT_STR_SCENE"}
    else:
        expire = new.expire_seconds or MAX_EXPIRE_S
        body = {"action_name": "QR_STR_SCENE", "expire_seconds": expire}
    body["action_info"] = {"scene": {"scene_str": scene}}
    return settings, body


def call_qrcode_create(settings: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """Ask WeChat for the code (a 502 ``provider_refused`` names WeChat's errcode)."""
    answer = weixin.create_qrcode(settings, body)
    if not isinstance(answer.get("ticket"), str) or not isinstance(answer.get("url"), str):
        raise weixin.WeixinRefused("qrcode/create answered without a ticket and url")
    return answer


def store_qr_code(
    session: Session,
    workspace_id: uuid.UUID,
    new: NewQrCode,
    body: dict[str, Any],
    answer: dict[str, Any],
    actor: str,
    now: datetime,
) -> WeChatQrCode:
    """Keep the code WeChat made (the budget checked again, under the account's lock)."""
    _settings(session, workspace_id, lock=True)
    if new.permanent:
        _check_budget(session, workspace_id)
    expires = answer.get("expire_seconds") or body.get("expire_seconds")
    code = WeChatQrCode(
        workspace_id=workspace_id,
        scene=body["action_info"]["scene"]["scene_str"],
        channel=new.channel,
        campaign=new.campaign,
        permanent=new.permanent,
        ticket=str(answer["ticket"])[:512],
        url=str(answer["url"])[:512],
        expires_at=None if new.permanent else now + timedelta(seconds=int(expires or 0)),
        created_by=actor[:128],
        created_at=now,
    )
    session.add(code)
    session.flush()
    return code


def list_qr_codes(session: Session, workspace_id: uuid.UUID, page: PageQuery) -> list[WeChatQrCode]:
    """The workspace's codes, newest first."""
    stmt = (
        select(WeChatQrCode)
        .where(owned(WeChatQrCode, workspace_id))
        .order_by(WeChatQrCode.id.desc())
        .offset(page.offset)
        .limit(page.limit)
    )
    return list(session.scalars(stmt))


def find_qr_code(session: Session, workspace_id: uuid.UUID, code_id: int) -> WeChatQrCode:
    """One code of the workspace, or :class:`QrCodeNotFound`."""
    found = session.scalar(
        select(WeChatQrCode).where(owned(WeChatQrCode, workspace_id), WeChatQrCode.id == code_id)
    )
    if found is None:
        raise QrCodeNotFound("this QR code does not exist")
    return found


def image_url(ticket: str) -> str:
    """WeChat's own image of the code (no token needed)."""
    return SHOW_QRCODE + quote(ticket, safe="")


def qr_png(code: WeChatQrCode) -> bytes:
    """The code as a PNG for print: segno, of the ``url`` WeChat gave it."""
    buffer = io.BytesIO()
    segno.make(code.url, error="m").save(buffer, kind="png", scale=10, border=2)
    return buffer.getvalue()


# The callback: each handler records what the follower did.


def _at(message: Inbound) -> datetime:
    created = message.text("CreateTime")
    if created.isdigit():
        return datetime.fromtimestamp(int(created), UTC).replace(tzinfo=None)
    return utcnow()


def _record(
    session: Session,
    account: Account,
    message: Inbound,
    event: str,
    properties: dict[str, Any],
    campaign: dict[str, Any] | None = None,
) -> bool:
    """Append the event; False when WeChat had posted it before (nothing new)."""
    openid = message.text("FromUserName")
    if not openid:
        return False
    msg_id = message.text("MsgId")
    what = f"msg-{msg_id}" if msg_id else f"{openid}-{message.text('CreateTime')}-{event}"
    now = utcnow()
    raw: dict[str, Any] = {
        "type": "track",
        "event": event,
        "anonymousId": openid,
        "messageId": f"wechat-{account.app_id}-{what}"[:200],
        "timestamp": isoformat(_at(message)),
        "properties": {"account": message.text("ToUserName"), **properties},
        "context": {
            "wechat": {"appId": account.app_id},
            "externalIds": [
                {"id": openid, "type": "wechat_openid", "collection": "users", "encoding": "none"}
            ],
            **({"campaign": campaign} if campaign else {}),
        },
    }
    return (
        append_events(
            session,
            account.workspace_id,
            [normalise(raw, received_at=now)],
            now,
            source=WECHAT_SOURCE,
        )
        > 0
    )


def _scene_parts(
    session: Session, account: Account, scene: str
) -> tuple[WeChatQrCode | None, dict[str, Any], dict[str, Any]]:
    code = session.scalar(
        select(WeChatQrCode).where(
            owned(WeChatQrCode, account.workspace_id), WeChatQrCode.scene == scene
        )
    )
    channel = code.channel if code else WECHAT_SOURCE
    campaign_name = code.campaign if code else None
    properties = {"scene": scene, "channel": channel, "campaign": campaign_name}
    campaign = {
        "source": WECHAT_SOURCE,
        "medium": "qrcode",
        **({"name": campaign_name} if campaign_name else {}),
        "content": scene,
    }
    return code, properties, campaign


def _count(session: Session, code: WeChatQrCode | None, **more: int) -> None:
    if code is not None:
        session.execute(
            update(WeChatQrCode)
            .where(WeChatQrCode.id == code.id)
            .values({name: getattr(WeChatQrCode, name) + n for name, n in more.items()})
        )


def followed(session: Session, account: Account, message: Inbound) -> None:
    """``subscribe``: a new follower; from a parameterised code (``qrscene_<scene>``) also a
    scan of that code, crediting its channel and campaign."""
    key = message.text("EventKey")
    scene = key[len(SCENE_PREFIX) :] if key.startswith(SCENE_PREFIX) else ""
    if not scene:
        campaign = {"source": WECHAT_SOURCE, "medium": "follow"}
        _record(session, account, message, FOLLOWED, {"scene": None, "channel": "wechat"}, campaign)
        _ask_unionid(session, account, message)
        return
    code, properties, campaign = _scene_parts(session, account, scene)
    new = _record(session, account, message, FOLLOWED, properties, campaign)
    scanned = _record(
        session, account, message, SCANNED, {**properties, "followed": True}, campaign
    )
    _count(session, code, follows=int(new), scans=int(scanned))
    _ask_unionid(session, account, message)


def scanned(session: Session, account: Account, message: Inbound) -> None:
    """``SCAN``: a follower scanned a parameterised code (the scene without a prefix)."""
    scene = message.text("EventKey")
    if not scene:
        return
    code, properties, campaign = _scene_parts(session, account, scene)
    new = _record(session, account, message, SCANNED, {**properties, "followed": False}, campaign)
    _count(session, code, scans=int(new))
    openid = message.text("FromUserName")
    if openid and not wechat_unionid.has_unionid(session, account, openid):
        _ask_unionid(session, account, message)


def _ask_unionid(session: Session, account: Account, message: Inbound) -> None:
    """Queue the follower's unionid fetch, run once the callback's transaction commits."""
    openid = message.text("FromUserName")
    if openid and account.has_api:
        wechat_unionid.queue_fetch(session, account, openid, message.text("CreateTime"))


def unfollowed(session: Session, account: Account, message: Inbound) -> None:
    """``unsubscribe``."""
    _record(session, account, message, UNFOLLOWED, {})


def menu_clicked(session: Session, account: Account, message: Inbound) -> None:
    """``CLICK`` (the menu key) and ``VIEW`` (the URL it opened)."""
    key = message.text("EventKey")
    properties = {"menu_key": key} if message.event == "click" else {"url": key}
    _record(session, account, message, MENU_CLICKED, {"kind": message.event, **properties})


def message_received(session: Session, account: Account, message: Inbound) -> None:
    """A message the follower sent: text (its content), image, voice, video, location, link."""
    properties: dict[str, Any] = {"msg_type": message.msg_type, "msg_id": message.text("MsgId")}
    for field, name in (
        ("Content", "content"),
        ("Label", "label"),
        ("Title", "title"),
        ("Url", "url"),
        ("MediaId", "media_id"),
    ):
        if message.text(field):
            properties[name] = message.text(field)[:CONTENT_MAX]
    _record(session, account, message, MESSAGE_RECEIVED, properties)


# What the official account's callback hands to acquisition (installed by leadpond.wiring).
WECHAT_HANDLERS: dict[tuple[str, str], Handler] = {
    ("event", "subscribe"): followed,
    ("event", "scan"): scanned,
    ("event", "unsubscribe"): unfollowed,
    ("event", "click"): menu_clicked,
    ("event", "view"): menu_clicked,
    **{
        (kind, ""): message_received
        for kind in ("text", "image", "voice", "video", "shortvideo", "location", "link")
    },
}
