"""Acquisition codes: tracking links with their QR codes, the official account's parameterised
QR codes and WeCom contact-me codes, one per channel — make them, list them with the clicks,
scans, follows and adds each brought, and download the QR code to print."""

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import run, ui
from pydantic import ValidationError

from leadpond.acquisition import service, wechat_codes, wecom_ways
from leadpond.acquisition.codes_schemas import ContactWayCreate, QrCodeCreate
from leadpond.acquisition.models import TrackingLink, WeChatQrCode, WeComContactWay
from leadpond.acquisition.schemas import LinksCreate
from leadpond.console.pages.channels_words import local_when
from leadpond.console.pages.frame import Visit, header, linked_table, notify_error, visit
from leadpond.console.pages.words import validation_problem
from leadpond.db.engine import read_only, unit_of_work
from leadpond.kit.clock import utcnow
from leadpond.kit.errors import LeadpondError
from leadpond.kit.pagination import PageQuery
from leadpond.users.permissions import CHANNELS_WRITE

LIST_PAGE = 200
DAY_S = 24 * 3600


def acquisition_page(request: Request) -> RedirectResponse | None:
    """The workspace's WeChat QR codes and WeCom contact ways."""
    with read_only() as session:
        v = visit(request, session)
        if isinstance(v, RedirectResponse):
            return v
        _ = v._
        header(v, _("Acquisition codes"), session)
        ws, page = v.actor.workspace_id, PageQuery(limit=LIST_PAGE)
        codes = wechat_codes.list_qr_codes(session, ws, page)
        used = wechat_codes.permanent_used(session, ws)
        ways = wecom_ways.list_contact_ways(session, ws, page)
        links = service.list_links(session, ws, page)
        has_logo = service.logo_of(session, ws) is not None
    with ui.tabs().classes("w-full") as tabs:
        links_tab = ui.tab(_("Tracking links")).mark("tab-links").classes("lp-tab-links")
        qr_tab = ui.tab(_("WeChat QR codes")).mark("tab-qr").classes("lp-tab-qr")
        ways_tab = ui.tab(_("WeCom contact ways")).mark("tab-ways").classes("lp-tab-ways")
    opened = {"qr": qr_tab, "ways": ways_tab}.get(request.query_params.get("tab", ""), links_tab)
    with ui.tab_panels(tabs, value=opened).classes("w-full"):
        with ui.tab_panel(links_tab):
            _tracking_links(v, links, has_logo)
        with ui.tab_panel(qr_tab):
            _qr_codes(v, codes, used)
        with ui.tab_panel(ways_tab):
            _contact_ways(v, ways)
    return None


def _tracking_links(v: Visit, links: list[TrackingLink], has_logo: bool) -> None:
    """Make a link per channel for one destination (S2: one per community group) and list the
    links with what each brought; the QR code downloads with the workspace's logo if it has one."""
    _ = v._
    if v.may(CHANNELS_WRITE):
        with ui.row().classes("items-end gap-4 w-full").classes("lp-link-form"):
            url = ui.input(_("Destination URL")).classes("min-w-80 lp-link-url")
            channels = ui.input(_("Channels (comma-separated, one link each)")).classes(
                "min-w-80 lp-link-channels"
            )
            campaign = ui.input(_("Campaign")).classes("lp-link-campaign")
            content = ui.input(_("Content")).classes("lp-link-content")

            def make() -> None:
                try:
                    body = LinksCreate(
                        url=str(url.value or "").strip(),
                        channels=[
                            c.strip() for c in str(channels.value or "").split(",") if c.strip()
                        ],
                        campaign=str(campaign.value or "").strip() or None,
                        content=str(content.value or "").strip() or None,
                    )
                    with unit_of_work() as session:
                        actor = v.authorised(session, CHANNELS_WRITE)
                        service.create_links(
                            session, actor.workspace_id, body.new_links(), f"session:{actor.email}"
                        )
                except ValidationError as exc:
                    ui.notify(validation_problem(_, exc)[1], type="negative")
                    return
                except LeadpondError as exc:
                    notify_error(exc)
                    return
                ui.navigate.to("/acquisition")

            ui.button(_("Make links"), icon="link", on_click=make).classes("lp-link-make")
    if not links:
        ui.label(_("No tracking links yet")).classes("text-gray-600 lp-link-empty")
        return
    logo = "?logo=true" if has_logo else ""
    rows = [
        {
            "code": link.code,
            "channel": link.channel,
            "campaign": link.campaign or "–",
            "url": service.short_url(link.code),
            "clicks": link.clicks,
            "scans": link.scans,
            "visitors": link.visitors,
            "created": local_when(link.created_at, v.zone),
            "qr": _("QR code"),
            "href": f"/api/v1/links/{link.code}/qr.png{logo}",
        }
        for link in links
    ]
    columns = [
        ("channel", _("Channel")),
        ("campaign", _("Campaign")),
        ("url", _("Short link")),
        ("clicks", _("Clicks")),
        ("scans", _("Scans")),
        ("visitors", _("Visitors")),
        ("created", _("Created")),
        ("qr", _("QR code")),
    ]
    linked_table(columns, rows, link="qr", row_key="code").classes("lp-links-table")


def _qr_codes(v: Visit, codes: list[WeChatQrCode], used: int) -> None:
    _ = v._
    budget = _("Permanent codes: {used} of {limit}")
    ui.label(budget.format(used=used, limit=f"{wechat_codes.PERMANENT_LIMIT:,}")).mark(
        "qr-budget"
    ).classes("lp-qr-budget")
    if v.may(CHANNELS_WRITE):
        with ui.row().classes("items-end gap-4").mark("qr-form").classes("lp-qr-form"):
            channel = ui.input(_("Channel")).mark("qr-channel").classes("lp-qr-channel")
            campaign = ui.input(_("Campaign")).mark("qr-campaign").classes("lp-qr-campaign")
            permanent = ui.checkbox(_("Permanent")).mark("qr-permanent").classes("lp-qr-permanent")
            days = (
                ui.number(_("Days valid"), value=30, min=1, max=30)
                .mark("qr-days")
                .classes("lp-qr-days")
            )

            async def make() -> None:
                try:
                    body = QrCodeCreate(
                        channel=str(channel.value or "").strip(),
                        campaign=str(campaign.value or "").strip() or None,
                        permanent=bool(permanent.value),
                        expire_seconds=None if permanent.value else int(days.value or 30) * DAY_S,
                    )
                except ValidationError as exc:
                    ui.notify(validation_problem(_, exc)[1], type="negative")
                    return
                try:
                    await run.io_bound(_make_qr_code, v, body)
                except LeadpondError as exc:
                    notify_error(exc)
                    return
                ui.navigate.to("/acquisition?tab=qr")

            ui.button(_("Make QR code"), icon="qr_code", on_click=make).mark("qr-make").classes(
                "lp-qr-make"
            )
    if not codes:
        ui.label(_("No QR codes yet")).classes("text-gray-600").mark("qr-empty").classes(
            "lp-qr-empty"
        )
    for code in codes:
        with ui.card().classes("w-full").mark(f"qr-{code.scene}"), ui.row().classes("gap-6"):
            ui.label(code.channel).classes("font-medium").mark("qr-row-channel").classes(
                "lp-qr-row-channel"
            )
            ui.label(code.campaign or "–")
            kind = _("permanent") if code.permanent else _("until {when}")
            ui.label(kind.format(when=local_when(code.expires_at, v.zone)))
            ui.label(_("{n} scans").format(n=code.scans)).mark("qr-scans").classes("lp-qr-scans")
            ui.label(_("{n} follows").format(n=code.follows)).mark("qr-follows").classes(
                "lp-qr-follows"
            )
            ui.label(local_when(code.created_at, v.zone)).classes("text-gray-600")
            png = wechat_codes.qr_png(code)
            ui.button(
                _("Download QR"),
                icon="download",
                on_click=lambda png=png, scene=code.scene: ui.download.content(
                    png, f"wechat-{scene}.png", "image/png"
                ),
            ).props("flat dense").mark("qr-download").classes("lp-qr-download")


def _make_qr_code(v: Visit, body: QrCodeCreate) -> None:
    new = body.new_code()
    with read_only() as session:
        ws = v.authorised(session, CHANNELS_WRITE).workspace_id
        settings, request = wechat_codes.prepare_qr_code(session, ws, new)
    answer = wechat_codes.call_qrcode_create(settings, request)
    with unit_of_work() as session:
        actor = v.authorised(session, CHANNELS_WRITE)
        wechat_codes.store_qr_code(
            session, ws, new, request, answer, f"session:{actor.email}", utcnow()
        )


def _contact_ways(v: Visit, ways: list[WeComContactWay]) -> None:
    _ = v._
    if v.may(CHANNELS_WRITE):
        with ui.row().classes("items-end gap-4").mark("way-form").classes("lp-way-form"):
            channel = ui.input(_("Channel")).mark("way-channel").classes("lp-way-channel")
            users = (
                ui.input(_("Members (userids, comma-separated)"))
                .mark("way-users")
                .classes("lp-way-users")
            )
            state = (
                ui.input(_("State (up to 30 characters)")).mark("way-state").classes("lp-way-state")
            )
            campaign = ui.input(_("Campaign")).mark("way-campaign").classes("lp-way-campaign")

            async def make() -> None:
                try:
                    body = ContactWayCreate(
                        channel=str(channel.value or "").strip(),
                        user_ids=[
                            u.strip() for u in str(users.value or "").split(",") if u.strip()
                        ],
                        state=str(state.value or "").strip() or None,
                        campaign=str(campaign.value or "").strip() or None,
                    )
                except ValidationError as exc:
                    ui.notify(validation_problem(_, exc)[1], type="negative")
                    return
                try:
                    await run.io_bound(_make_contact_way, v, body)
                except LeadpondError as exc:
                    notify_error(exc)
                    return
                ui.navigate.to("/acquisition?tab=ways")

            ui.button(_("Make contact way"), icon="person_add", on_click=make).mark(
                "way-make"
            ).classes("lp-way-make")
    if not ways:
        ui.label(_("No contact ways yet")).classes("text-gray-600").mark("way-empty").classes(
            "lp-way-empty"
        )
    for way in ways:
        with ui.card().classes("w-full").mark(f"way-{way.state}"), ui.row().classes("gap-6"):
            ui.label(way.channel).classes("font-medium")
            ui.label(f"state: {way.state}")
            ui.label(", ".join(way.user_ids or []))
            ui.label(way.campaign or "–")
            ui.label(_("{n} customers added").format(n=way.adds)).mark("way-adds").classes(
                "lp-way-adds"
            )
            ui.label(local_when(way.created_at, v.zone)).classes("text-gray-600")
            if way.qr_code:
                ui.link(_("Download QR"), way.qr_code, new_tab=True).mark("way-download").classes(
                    "lp-way-download"
                )


def _make_contact_way(v: Visit, body: ContactWayCreate) -> None:
    new = body.new_way()
    with read_only() as session:
        ws = v.authorised(session, CHANNELS_WRITE).workspace_id
        settings, request = wecom_ways.prepare_contact_way(session, ws, new)
    answer = wecom_ways.call_add_contact_way(settings, request)
    with unit_of_work() as session:
        actor = v.authorised(session, CHANNELS_WRITE)
        wecom_ways.store_contact_way(
            session, ws, new, request, answer, f"session:{actor.email}", utcnow()
        )
