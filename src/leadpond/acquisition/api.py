"""Tracking links over HTTP: make them (one, or one per channel), list them, their QR codes; and
``GET /l/<code>``, the public redirect that records the click or scan."""

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response, UploadFile
from fastapi.responses import RedirectResponse

from leadpond.acquisition import service, wechat_codes, wecom_ways
from leadpond.acquisition.codes_schemas import (
    ContactWayCreate,
    ContactWayList,
    ContactWayRead,
    QrCodeCreate,
    QrCodeList,
    QrCodeRead,
)
from leadpond.acquisition.schemas import LinkCreate, LinkList, LinkRead, LinksCreate
from leadpond.channels.tracking import Visit
from leadpond.db.engine import read_only, unit_of_work
from leadpond.kit.clock import utcnow
from leadpond.kit.errors import InvalidInput
from leadpond.kit.http import ReadSession, WriteSession
from leadpond.kit.pagination import Paging
from leadpond.users.permissions import ChannelsRead, ChannelsWrite

router = APIRouter(prefix="/api/v1", tags=["links"])
# The redirect is for readers, not API clients: outside the schema, as the message links are.
public_router = APIRouter(tags=["links"], include_in_schema=False)

# The visitor's anonymous id on this server, two years (the browser SDK's is per website).
VISITOR_COOKIE = "lp_aid"
VISITOR_MAX_AGE = 2 * 365 * 24 * 3600
NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer-when-downgrade"}


@router.post("/links", status_code=201, response_model=LinkRead)
def create_link(body: LinkCreate, actor: ChannelsWrite, session: WriteSession) -> LinkRead:
    """A short tracking link (and its QR code) to ``url``, or to the viewer of the content item
    ``content_id``, for one channel and campaign."""
    if body.content_id is not None:
        [link] = service.links_to_content(
            session, actor.workspace_id, body.content_id, [body.channel], body.parts(), actor.via
        )
    else:
        [link] = service.create_links(session, actor.workspace_id, [body.new_link()], actor.via)
    return LinkRead.build(link)


@router.post("/links:bulk", status_code=201, response_model=LinkList)
def create_links(body: LinksCreate, actor: ChannelsWrite, session: WriteSession) -> LinkList:
    """One link per channel to the same destination (a QR per community group, S2)."""
    if body.content_id is not None:
        made = service.links_to_content(
            session, actor.workspace_id, body.content_id, body.channels, body.parts(), actor.via
        )
    else:
        made = service.create_links(session, actor.workspace_id, body.new_links(), actor.via)
    return LinkList(items=[LinkRead.build(link) for link in made])


@router.get("/links", response_model=LinkList)
def list_links(
    actor: ChannelsRead,
    session: ReadSession,
    paging: Paging,
    campaign: Annotated[str | None, Query(max_length=128)] = None,
) -> LinkList:
    """The workspace's links, newest first."""
    found = service.list_links(session, actor.workspace_id, paging, campaign)
    return LinkList(items=[LinkRead.build(link) for link in found])


@router.get(
    "/links/{code}/qr.{kind}",
    responses={200: {"content": {"image/png": {}, "image/svg+xml": {}}}},
)
def qr(
    code: str,
    kind: Literal["png", "svg"],
    actor: ChannelsRead,
    session: ReadSession,
    logo: Annotated[
        bool, Query(description="the workspace's logo in the centre (PUT /links/logo)")
    ] = False,
) -> Response:
    """The link's QR code, PNG or SVG, optionally with the workspace's logo in its centre."""
    link = service.find_link(session, code, actor.workspace_id)
    media = "image/png" if kind == "png" else "image/svg+xml"
    mark = service.logo_of(session, actor.workspace_id) if logo else None
    if logo and mark is None:
        raise InvalidInput("the workspace has no QR logo: PUT /api/v1/links/logo", field="logo")
    return Response(service.qr_code(link.code, kind, mark), media_type=media)


@router.put("/links/logo", status_code=204)
def set_qr_logo(file: UploadFile, actor: ChannelsWrite, session: WriteSession) -> None:
    """The workspace's logo for the centre of its QR codes (PNG, JPEG or WebP, ≤ 512 KB)."""
    service.set_logo(
        session, actor.workspace_id, file.file.read(service.MAX_LOGO_BYTES + 1), actor.via
    )


@router.delete("/links/logo", status_code=204)
def remove_qr_logo(actor: ChannelsWrite, session: WriteSession) -> None:
    """Plain QR codes again."""
    service.remove_logo(session, actor.workspace_id)


@public_router.get("/l/{code}")
def follow(
    code: str,
    request: Request,
    session: WriteSession,
    s: Annotated[str | None, Query(max_length=8, description="qr: the QR code was scanned")] = None,
) -> Response:
    """302 to the link's destination, recording ``Link Clicked`` (``QR Scanned`` with
    ``?s=qr``) for the visitor; 404 ``link_not_found`` for a code nobody made."""
    visitor = request.cookies.get(VISITOR_COOKIE) or ""
    try:
        uuid.UUID(visitor)
    except ValueError:
        visitor = str(uuid.uuid4())
    client = request.client.host if request.client else None
    visit = Visit(request.headers.get("user-agent", ""), client, utcnow())
    target = service.follow(session, code, visit, visitor, s == "qr", visit.at)
    answer = RedirectResponse(target, status_code=302, headers=NO_STORE)
    answer.set_cookie(
        VISITOR_COOKIE, visitor, max_age=VISITOR_MAX_AGE, httponly=True, samesite="lax"
    )
    return answer


@router.post("/wechat/qrcodes", status_code=201, response_model=QrCodeRead, tags=["wechat"])
def create_qr_code(body: QrCodeCreate, actor: ChannelsWrite) -> QrCodeRead:
    """A parameterised QR code of the official account for a channel and campaign (WeChat's
    ``qrcode/create``): 502 ``provider_refused`` with WeChat's errcode, 409
    ``permanent_qr_budget_exhausted`` past 100,000 permanent codes."""
    new = body.new_code()
    # WeChat is called between two short transactions, never inside a write.
    with read_only() as session:
        settings, request = wechat_codes.prepare_qr_code(session, actor.workspace_id, new)
    answer = wechat_codes.call_qrcode_create(settings, request)
    with unit_of_work() as session:
        code = wechat_codes.store_qr_code(
            session, actor.workspace_id, new, request, answer, actor.via, utcnow()
        )
        return QrCodeRead.build(code)


@router.get("/wechat/qrcodes", response_model=QrCodeList, tags=["wechat"])
def list_qr_codes(actor: ChannelsRead, session: ReadSession, paging: Paging) -> QrCodeList:
    """The workspace's QR codes (newest first) with their scans and follows, and how much of
    the permanent budget is used."""
    found = wechat_codes.list_qr_codes(session, actor.workspace_id, paging)
    return QrCodeList(
        items=[QrCodeRead.build(code) for code in found],
        permanent_used=wechat_codes.permanent_used(session, actor.workspace_id),
        permanent_limit=wechat_codes.PERMANENT_LIMIT,
    )


@router.get(
    "/wechat/qrcodes/{code_id}/qr.png",
    responses={200: {"content": {"image/png": {}}}},
    tags=["wechat"],
)
def qr_code_png(code_id: int, actor: ChannelsRead, session: ReadSession) -> Response:
    """The QR code as a PNG (of the url WeChat gave it), for print."""
    code = wechat_codes.find_qr_code(session, actor.workspace_id, code_id)
    return Response(wechat_codes.qr_png(code), media_type="image/png")


@router.post("/wecom/contact-ways", status_code=201, response_model=ContactWayRead, tags=["wecom"])
def create_contact_way(body: ContactWayCreate, actor: ChannelsWrite) -> ContactWayRead:
    """A WeCom contact-me code for a channel (``externalcontact/add_contact_way``): 409
    ``state_taken`` for a state in use, 502 ``provider_refused`` with WeCom's errcode."""
    new = body.new_way()
    with read_only() as session:
        settings, request = wecom_ways.prepare_contact_way(session, actor.workspace_id, new)
    answer = wecom_ways.call_add_contact_way(settings, request)
    with unit_of_work() as session:
        way = wecom_ways.store_contact_way(
            session, actor.workspace_id, new, request, answer, actor.via, utcnow()
        )
        return ContactWayRead.build(way)


@router.get("/wecom/contact-ways", response_model=ContactWayList, tags=["wecom"])
def list_contact_ways(actor: ChannelsRead, session: ReadSession, paging: Paging) -> ContactWayList:
    """The workspace's contact ways (newest first) with the customers each brought."""
    found = wecom_ways.list_contact_ways(session, actor.workspace_id, paging)
    return ContactWayList(items=[ContactWayRead.build(way) for way in found])
