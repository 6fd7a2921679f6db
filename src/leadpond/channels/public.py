"""The public routes a message's reader reaches (contract §6): no login, a signed token each.

``/t/o/{token}.gif`` open pixel (always a GIF, even for a bad token: it tells nothing),
``/t/c/{token}`` click redirect (302 to the URL signed in the token, 404 otherwise),
``/u/{token}`` unsubscribe page (GET shows a button, never unsubscribes: link scanners
prefetch) and RFC 8058 one-click (POST: 200, no redirect, no cookie needed), and the
preference centre ``/u/{token}/preferences``. They sit outside ``/api/`` and the console's
cross-origin guard: they act on the token, never on a session.
"""

import base64
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape

from leadpond.channels import tracking
from leadpond.db.engine import unit_of_work
from leadpond.kit.clock import utcnow
from leadpond.kit.http import WriteSession
from leadpond.kit.names import accepted_language
from leadpond.workspaces.signing import BadToken

router = APIRouter(tags=["public links"], include_in_schema=False)

PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
NO_STORE = {"Cache-Control": "no-store, max-age=0"}
_pages = Environment(
    loader=PackageLoader("leadpond.channels", "templates"),
    autoescape=select_autoescape(("html",)),
)

# The pages' words, by language: Chinese first (the default), English on request.
WORDS: dict[str, dict[str, str]] = {
    "zh": {
        "title": "退订",
        "ask": "不想再收到这类邮件？",
        "button": "退订",
        "done_title": "已退订",
        "done": "您已退订，不会再收到这类消息。",
        "preferences": "管理订阅偏好",
        "preferences_title": "订阅偏好",
        "save": "保存",
        "saved": "已保存。",
        "invalid": "此链接无效或已过期。",
        "email": "电子邮件",
        "sms": "短信",
        "wecom": "企业微信",
        "wechat": "微信公众号",
        "webhook": "Webhook",
        "subscribed": "已订阅",
        "unsubscribed": "已退订",
        "bounced": "地址无法送达",
        "complained": "已投诉",
    },
    "en": {
        "title": "Unsubscribe",
        "ask": "Don't want these messages any more?",
        "button": "Unsubscribe",
        "done_title": "Unsubscribed",
        "done": "You are unsubscribed and will not receive these messages again.",
        "preferences": "Manage preferences",
        "preferences_title": "Your preferences",
        "save": "Save",
        "saved": "Saved.",
        "invalid": "This link is not valid or has expired.",
        "email": "Email",
        "sms": "SMS",
        "wecom": "WeCom",
        "wechat": "WeChat",
        "webhook": "Webhook",
        "subscribed": "Subscribed",
        "unsubscribed": "Unsubscribed",
        "bounced": "Address undeliverable",
        "complained": "Complained",
    },
}


def language(request: Request) -> str:
    """``?lang=`` if given, else the first of Accept-Language we speak; Chinese by default."""
    asked = request.query_params.get("lang", "")
    if asked in WORDS:
        return asked
    return accepted_language(request.headers.get("accept-language"))


def _page(request: Request, template: str, status_code: int = 200, **values: object) -> Response:
    lang = language(request)
    text = _pages.get_template(template).render(lang=lang, t=WORDS[lang], **values)
    return HTMLResponse(text, status_code=status_code, headers=NO_STORE)


def _visit(request: Request) -> tracking.Visit:
    client = request.client.host if request.client else None
    return tracking.Visit(request.headers.get("user-agent", ""), client, utcnow())


@router.get("/t/o/{token}.gif")
def open_pixel(token: str, request: Request) -> Response:
    """A 1×1 GIF; records the message's open when the token is good."""
    try:
        with unit_of_work() as session:
            tracking.record_open(session, token, _visit(request))
    except BadToken:
        pass  # the same GIF: a pixel never says whether a token was good
    return Response(PIXEL, media_type="image/gif", headers=NO_STORE)


@router.get("/t/c/{token}")
def click(token: str, request: Request, session: WriteSession) -> Response:
    """302 to the URL signed in the token, recording the click; 404 ``link_not_found``."""
    url = tracking.record_click(session, token, _visit(request))
    return RedirectResponse(url, status_code=302, headers=NO_STORE)


@router.get("/u/{token}")
def unsubscribe_page(token: str, request: Request, session: WriteSession) -> Response:
    """The page with the unsubscribe button (a GET never unsubscribes)."""
    try:
        tracking.unsubscribe_link(session, token)
    except BadToken:
        return _page(request, "invalid.html", 404)
    return _page(request, "unsubscribe.html", token=token)


@router.post("/u/{token}")
async def one_click_unsubscribe(token: str, request: Request) -> Response:
    """RFC 8058 one-click (``List-Unsubscribe=One-Click``, urlencoded or multipart) and the
    page's button: unsubscribes, answers 200, never redirects."""
    body = await request.body()
    source = "one_click" if b"One-Click" in body else "unsubscribe_page"
    try:
        with unit_of_work() as session:
            link = tracking.unsubscribe_link(session, token)
            tracking.unsubscribe(session, link, source, utcnow())
    except BadToken:
        return _page(request, "invalid.html", 404)
    return _page(request, "unsubscribed.html", token=token)


@router.get("/u/{token}/preferences")
def preferences_page(token: str, request: Request, session: WriteSession) -> Response:
    """The preference centre: the person's channels and their status."""
    try:
        link = tracking.unsubscribe_link(session, token)
    except BadToken:
        return _page(request, "invalid.html", 404)
    statuses = tracking.channel_statuses(session, link)
    return _page(request, "preferences.html", token=token, statuses=statuses, saved=False)


@router.post("/u/{token}/preferences")
def save_preferences(
    token: str,
    request: Request,
    session: WriteSession,
    channel: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """Keep the ticked channels, opt out of the others."""
    try:
        link = tracking.unsubscribe_link(session, token)
    except BadToken:
        return _page(request, "invalid.html", 404)
    statuses = tracking.set_preferences(session, link, set(channel or ()), "preference_centre")
    return _page(request, "preferences.html", token=token, statuses=statuses, saved=True)
