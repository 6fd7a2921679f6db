"""The public H5 viewer (no login): ``GET /c/<code>`` shows a published item and records
``Content Viewed``; ``POST /c/<code>/read`` is the page's beacon (read time, scroll depth);
``GET /c/<code>/download`` serves the file (through the gate form when the item has one).

Readers are known by the cookie ``lp_aid`` (the tracking links' own, so a click and the
view it leads to are one visitor), else the ``ajs_aid`` the link handed on, else the browser
SDK's ``ajs_anonymous_id``; inside WeChat, by their openid (silent web authorisation) when the
workspace has an official account configured.
"""

import secrets
import uuid
from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy.orm import Session

from leadpond.channels.public import language
from leadpond.channels.tracking import Visit
from leadpond.content import service, storage, viewing, wechat_oauth
from leadpond.content.models import ContentItem
from leadpond.content.render import to_html
from leadpond.content.taxonomy import taxonomy
from leadpond.content.viewing import Arrival, Reader
from leadpond.content.wechat_oauth import WeChatReader
from leadpond.kit.clock import utcnow
from leadpond.kit.errors import NotFound
from leadpond.kit.http import WriteSession
from leadpond.workspaces.signing import BadToken, sign, unsign

router = APIRouter(tags=["content viewer"], include_in_schema=False)

VISITOR_COOKIE, VISITOR_MAX_AGE = "lp_aid", 2 * 365 * 24 * 3600
WECHAT_COOKIE, WECHAT_STATE_COOKIE = "lp_wx", "lp_wxs"
WECHAT_PURPOSE = "wechat-reader"
NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer-when-downgrade"}
_pages = Environment(
    loader=PackageLoader("leadpond.content", "templates"), autoescape=select_autoescape(("html",))
)
WORDS = {
    "zh": {
        "missing": "内容不存在或已下线",
        "download": "下载文件",
        "download_gated": "填写信息后下载",
        "watch": "观看视频",
    },
    "en": {
        "missing": "This content does not exist or is no longer available",
        "download": "Download the file",
        "download_gated": "Fill in a short form to download",
        "watch": "Watch the video",
    },
}


def _visit(request: Request) -> Visit:
    client = request.client.host if request.client else None
    return Visit(request.headers.get("user-agent", ""), client, utcnow())


def _uuid(value: str | None) -> str | None:
    try:
        return str(uuid.UUID((value or "").strip('"')))
    except ValueError:
        return None


def visitor_of(request: Request) -> str:
    """The reader's anonymous id: our cookie, the link's ``ajs_aid``, the SDK's, or new."""
    return (
        _uuid(request.cookies.get(VISITOR_COOKIE))
        or _uuid(request.query_params.get("ajs_aid"))
        or _uuid(request.cookies.get("ajs_anonymous_id"))
        or str(uuid.uuid4())
    )


def _missing(request: Request) -> Response:
    lang = language(request)
    text = _pages.get_template("missing.html").render(lang=lang, t=WORDS[lang])
    return HTMLResponse(text, status_code=404, headers=NO_STORE)


def _published(session: Session, code: str) -> ContentItem | None:
    try:
        item = service.by_code(session, code)
    except NotFound:
        return None
    return item if item.status == "published" else None


def _wechat_reader(session: Session, item: ContentItem, request: Request) -> WeChatReader | None:
    token = request.cookies.get(WECHAT_COOKIE)
    if not token:
        return None
    try:
        workspace_id, data = unsign(session, token, WECHAT_PURPOSE)
    except BadToken:
        return None
    if workspace_id != item.workspace_id or not isinstance(data, dict):
        return None
    return WeChatReader(str(data.get("o")), data.get("u"))


def _remember(session: Session, item: ContentItem, reader: WeChatReader, answer: Response) -> None:
    token = sign(
        session, item.workspace_id, WECHAT_PURPOSE, {"o": reader.openid, "u": reader.unionid}
    )
    answer.set_cookie(WECHAT_COOKIE, token, max_age=VISITOR_MAX_AGE, httponly=True, samesite="lax")


def _own_query(request: Request) -> dict[str, str]:
    return {k: v for k, v in request.query_params.items() if k not in ("code", "state")}


@router.get("/c/{code}")
def view(code: str, request: Request, session: WriteSession) -> Response:
    """The item's H5 page; records ``Content Viewed`` with the channel of the link."""
    item = _published(session, code)
    if item is None:
        return _missing(request)
    visit = _visit(request)
    wechat = _wechat_reader(session, item, request)
    learned: WeChatReader | None = None
    if wechat is None and wechat_oauth.in_wechat(visit.user_agent):
        account = wechat_oauth.account_of(session, item.workspace_id)
        returned, state = request.query_params.get("code"), request.query_params.get("state")
        if account is not None and returned and state:
            if state == request.cookies.get(WECHAT_STATE_COOKIE):
                learned = wechat = wechat_oauth.exchange(account, returned)
        elif account is not None:
            state = secrets.token_urlsafe(12)
            back = service.viewer_url(item.public_code, **_own_query(request))
            redirect = RedirectResponse(
                wechat_oauth.authorize_url(account, back, state), status_code=302, headers=NO_STORE
            )
            redirect.set_cookie(
                WECHAT_STATE_COOKIE, state, max_age=600, httponly=True, samesite="lax"
            )
            return redirect
    visitor = visitor_of(request)
    reader = Reader(visitor, visit, wechat)
    query = _own_query(request)
    arrival = Arrival.of(query)
    url = service.viewer_url(item.public_code, **query)
    token = viewing.record_view(session, item, reader, arrival, url, visit.at)
    lang = language(request)
    kept = {k: v for k, v in query.items() if k != "lang"}
    download = None
    if item.file_ref:
        download = f"/c/{item.public_code}/download" + (f"?{urlencode(kept)}" if kept else "")
    text = _pages.get_template("viewer.html").render(
        lang=lang,
        t=WORDS[lang],
        title=item.title,
        author=item.author,
        type_name=taxonomy(session, item.workspace_id).type_name(item.type, lang),
        published=f"{item.published_at:%Y-%m-%d}" if item.published_at else "",
        summary=item.summary,
        body=to_html(item.body, item.body_format),
        video_url=item.video_url,
        download_url=download,
        gated=bool(item.gate_form),
        token=token,
        read_url=f"/c/{item.public_code}/read",
        lang_query=urlencode(kept) + "&" if kept else "",
    )
    answer = HTMLResponse(text, headers=NO_STORE)
    answer.set_cookie(
        VISITOR_COOKIE, visitor, max_age=VISITOR_MAX_AGE, httponly=True, samesite="lax"
    )
    if learned is not None:
        _remember(session, item, learned, answer)
    return answer


@router.post("/c/{code}/read", status_code=204)
def read(
    code: str,
    request: Request,
    session: WriteSession,
    t: Annotated[str, Form(max_length=2048)],
    s: Annotated[float, Form(ge=0, le=viewing.MAX_READ_SECONDS)],
    d: Annotated[float, Form(ge=0, le=1)],
) -> Response:
    """The page's beacon on leaving: ``Content Read`` once per view (the signed view token
    names the view, the item and the reader; a repeat is a no-op)."""
    viewing.record_read(session, t, s, d, _visit(request))
    return Response(status_code=204)


@router.get("/c/{code}/download")
def download(
    code: str,
    request: Request,
    session: WriteSession,
    t: Annotated[str | None, Query(max_length=2048)] = None,
) -> Response:
    """The item's file, recording ``Whitepaper Downloaded``. A gated item sends the reader to
    its form first (``/f/<form>?next=`` this URL with a signed permission)."""
    item = _published(session, code)
    if item is None or not item.file_ref:
        return _missing(request)
    visitor = visitor_of(request)
    query = {k: v for k, v in request.query_params.items() if k != "t"}
    if not viewing.download_allowed(session, item, t, visitor):
        permission = viewing.download_token(session, item, visitor)
        after = f"/c/{item.public_code}/download?{urlencode({**query, 't': permission})}"
        gate = f"/f/{item.gate_form}?{urlencode({'next': after})}"
        answer: Response = RedirectResponse(gate, status_code=302, headers=NO_STORE)
    else:
        stored = storage.open_file(item.file_ref)
        reader = Reader(visitor, _visit(request), _wechat_reader(session, item, request))
        viewing.record_download(session, item, reader, Arrival.of(query), utcnow())
        answer = StreamingResponse(
            stored.chunks,
            media_type=item.file_type or "application/octet-stream",
            headers={
                **NO_STORE,
                "Content-Length": str(stored.size),
                "Content-Disposition": _attachment(item.file_name or "file"),
            },
        )
    answer.set_cookie(
        VISITOR_COOKIE, visitor, max_age=VISITOR_MAX_AGE, httponly=True, samesite="lax"
    )
    return answer


def _attachment(file_name: str) -> str:
    """A Content-Disposition for a download under the item's file name (RFC 6266: an ASCII
    fallback and the UTF-8 name, so 白皮书.pdf keeps its name)."""
    fallback = file_name.encode("ascii", "replace").decode().replace('"', "_").replace("?", "_")
    return f"attachment; filename=\"{fallback}\"; filename*=utf-8''{quote(file_name, safe='')}"
