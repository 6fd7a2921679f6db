"""The events' public H5 pages (``/e/<event key>``), mobile first, zh/en: the microsite, the
registration page and its confirmation with the badge QR, the badge page, the staff check-in
page (with its JSON endpoint), and the booth and session check-in points.

No login: the staff page and its endpoint act on a signed staff token, a check-in point on the
token its QR carries, the registration form on a signed form token issued with the page (so a
post needs a page fetched from here first). They sit outside the console's cross-origin guard.
"""

import io
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

import segno
from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from pydantic import ConfigDict, Field
from sqlalchemy.orm import Session

from leadpond.acquisition.api import VISITOR_COOKIE, VISITOR_MAX_AGE
from leadpond.channels.public import language
from leadpond.db.engine import read_only, unit_of_work
from leadpond.engage import events as ev
from leadpond.engage import events_checkin as checkins
from leadpond.engage import events_forms
from leadpond.engage import events_registration as registrations
from leadpond.engage.events_api import check_in
from leadpond.engage.events_models import EventRegistration, MarketingEvent, RegistrationStatus
from leadpond.engage.events_registration import Attendee
from leadpond.engage.events_schemas import CheckinBody, CheckinResult
from leadpond.engage.events_words import JS_WORDS, WORDS
from leadpond.engage.forms_schemas import DEFAULT_POSTS_PER_MINUTE
from leadpond.engage.forms_submit import count_post
from leadpond.kit.clock import utcnow
from leadpond.kit.errors import InvalidInput, LeadpondError
from leadpond.kit.http import WriteSession
from leadpond.workspaces.signing import BadToken, sign, unsign

router = APIRouter(tags=["event pages"], include_in_schema=False)
NO_STORE = {"Cache-Control": "no-store, max-age=0"}
FORM = "event-form"
FORM_MAX_AGE_S = 24 * 3600
BADGE_MAX_AGE = 120 * 24 * 3600
# The event's own fields are limited like a form left at its default.
OWN_FIELDS_POSTS_PER_MINUTE = DEFAULT_POSTS_PER_MINUTE
_pages = Environment(
    loader=PackageLoader("leadpond.engage", "templates"),
    autoescape=select_autoescape(("html",)),
)


def badge_cookie(event: MarketingEvent) -> str:
    return f"lp_badge_{event.id}"


def _when(event: MarketingEvent) -> str:
    start, end = ev.local(event, event.starts_at), ev.local(event, event.ends_at)
    same_day = start.date() == end.date()
    return f"{start:%Y-%m-%d %H:%M}–{end:%H:%M}" if same_day else f"{start:%Y-%m-%d}–{end:%m-%d}"


def _page(
    request: Request,
    template: str,
    event: MarketingEvent | None,
    status_code: int = 200,
    **values: Any,
) -> HTMLResponse:
    lang = language(request)
    kept = {k: v for k, v in request.query_params.items() if k != "lang"}
    context: dict[str, Any] = {
        "lang": lang,
        "t": WORDS[lang],
        "keep": urlencode(kept) + "&" if kept else "",
        "event": event,
        "base": f"/e/{event.key}" if event else "",
        "name": "",
    }
    if event is not None:
        context["name"] = event.name_en if lang == "en" and event.name_en else event.name_zh
        context["when"] = _when(event)
    text = _pages.get_template(f"events/{template}").render(**context, **values)
    return HTMLResponse(text, status_code=status_code, headers=NO_STORE)


def _message(
    request: Request, event: MarketingEvent | None, heading: str, text: str, status: int = 200
) -> HTMLResponse:
    return _page(
        request, "message.html", event, status, heading=heading, text=text, ok=status < 300
    )


def _invalid(request: Request, event: MarketingEvent | None = None) -> HTMLResponse:
    words = WORDS[language(request)]
    return _message(request, event, words["not_found"], words["invalid"], 404)


def _forums(event: MarketingEvent, lang: str) -> list[tuple[str, list[dict[str, str]]]]:
    forums: dict[str, list[dict[str, str]]] = {}
    for item in sorted(event.sessions, key=lambda s: str(s.get("starts_at", ""))):
        start = datetime.fromisoformat(str(item["starts_at"]))
        title = item.get("title_en") if lang == "en" and item.get("title_en") else item["title"]
        forums.setdefault(str(item.get("forum") or "main"), []).append(
            {
                "time": f"{start:%m-%d %H:%M}",
                "title": str(title),
                "room": str(item.get("room", "")),
                "speaker": str(item.get("speaker", "")),
                "speaker_title": str(item.get("speaker_title", "")),
            }
        )
    return sorted(forums.items(), key=lambda pair: pair[0] != "main")


@router.get("/e/{event_key}")
def microsite(event_key: str, request: Request, session: WriteSession) -> Response:
    """The event's H5 site, assembled from the modules configured in the event."""
    try:
        event = ev.event_by_key(session, event_key)
    except LeadpondError:
        return _invalid(request)
    lang, site = language(request), event.site or {}
    modules = list(site.get("modules") or ["agenda", "register"])
    surveys = [
        {
            "key": form.key,
            "name": form.name_en if lang == "en" and form.name_en else form.name_zh,
            "url": ev.survey_url(event, form.key, lang),
        }
        for form in ev.survey_forms(session, event)
    ]
    if surveys and "surveys" not in modules:
        modules.append("surveys")
    return _page(
        request,
        "site.html",
        event,
        modules=modules,
        surveys=surveys,
        intro=site.get("intro_en") if lang == "en" and site.get("intro_en") else site.get("intro"),
        forums=_forums(event, lang),
        speakers=site.get("speakers") or [],
        transport=site.get("transport") or "",
        downloads=site.get("downloads") or [],
    )


def _register_form(
    request: Request,
    session: Session,
    event: MarketingEvent,
    values: Mapping[str, str] | None = None,
    error: str | None = None,
    errors: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """The registration page: the event's form of the form builder when it has a published
    one, else its own fields (:func:`registrations.registration_fields`)."""
    form = events_forms.form_of(session, event)
    if form is not None:
        problems = dict(errors or {}) | ({"_form": error} if error else {})
        html = events_forms.form_html(
            session, event, form, request, language(request), values if problems else None, problems
        )
        return _page(request, "register.html", event, 422 if problems else 200, form_html=html)
    token = sign(session, event.workspace_id, FORM, {"e": event.id})
    return _page(
        request,
        "register.html",
        event,
        400 if error else 200,
        fields=registrations.registration_fields(event),
        values=dict(values or {}),
        form_token=token,
        error=error,
    )


@router.get("/e/{event_key}/register")
def register_page(event_key: str, request: Request, session: WriteSession) -> Response:
    """The registration form (the event's fields)."""
    try:
        event = ev.event_by_key(session, event_key)
    except LeadpondError:
        return _invalid(request)
    return _register_form(request, session, event)


def _visitor(request: Request) -> str:
    visitor = request.cookies.get(VISITOR_COOKIE) or ""
    try:
        uuid.UUID(visitor)
    except ValueError:
        visitor = str(uuid.uuid4())
    return visitor


def _with_cookies(
    answer: Response, event: MarketingEvent, registration: EventRegistration, token: str | None
) -> Response:
    answer.set_cookie(
        VISITOR_COOKIE,
        registration.anonymous_id,
        max_age=VISITOR_MAX_AGE,
        httponly=True,
        samesite="lax",
    )
    if token:
        answer.set_cookie(
            badge_cookie(event),
            token,
            max_age=BADGE_MAX_AGE,
            path=f"/e/{event.key}",
            httponly=True,
            samesite="lax",
        )
    return answer


def _badge_page(
    request: Request, session: Session, event: MarketingEvent, registration: EventRegistration
) -> tuple[HTMLResponse, str | None]:
    token = url = svg = None
    if registration.status == RegistrationStatus.APPROVED:
        token = ev.badge_token(session, registration)
        url = f"{ev.site_url(event)}/badge?t={token}"
        svg = segno.make(url, error="m").svg_inline(scale=6, border=2)
    page = _page(
        request, "registered.html", event, registration=registration, token=token, qr_svg=svg
    )
    return page, token


@router.post("/e/{event_key}/register")
async def register(event_key: str, request: Request) -> Response:
    """Register (the same person again gets their registration back) and show the badge."""
    async with request.form(max_files=0, max_fields=40) as form:
        values = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    # The database work off the event loop, in one transaction.
    return await run_in_threadpool(_register, event_key, request, values)


def _register(event_key: str, request: Request, values: dict[str, str]) -> Response:
    with read_only() as session:
        try:
            event = ev.event_by_key(session, event_key)
        except LeadpondError:
            return _invalid(request)
        form = events_forms.form_of(session, event)
        # A captcha provider is asked before the write transaction (a network call).
        captcha = events_forms.captcha_passed(form, request, values) if form else None
    words = WORDS[language(request)]
    with unit_of_work() as session:
        event = ev.event_by_key(session, event_key)
        form = events_forms.form_of(session, event)
        if form is not None:
            posted = events_forms.submit(
                session, event, form, request, values, language(request), captcha
            )
            if posted.errors:
                return _register_form(request, session, event, values, errors=posted.errors)
            if posted.blocked or posted.attendee is None:
                return _message(request, event, words["received"], "")
            attendee, visitor = posted.attendee, posted.anonymous_id
        else:
            found = _own_fields(request, session, event, values)
            if isinstance(found, Response):
                return found
            attendee, visitor = found, _visitor(request)
        registration, _ = registrations.register(
            session, event, attendee, source="web", anonymous_id=visitor, now=utcnow()
        )
        page, badge_token = _badge_page(request, session, event, registration)
        return _with_cookies(page, event, registration, badge_token)


def _own_fields(
    request: Request, session: Session, event: MarketingEvent, values: dict[str, str]
) -> Attendee | Response:
    """The attendee of a post of the event's own fields, or the page to answer instead."""
    words = WORDS[language(request)]
    # Every post counts against the address, as a form's do (one rate limit for both paths).
    ip = request.client.host if request.client else None
    if count_post(session, f"event:{event.id}", ip, utcnow()) > OWN_FIELDS_POSTS_PER_MINUTE:
        return _message(request, event, words["received"], "")
    try:
        workspace_id, data = unsign(session, values.get("form_token", ""), FORM, FORM_MAX_AGE_S)
        if workspace_id != event.workspace_id or data != {"e": event.id}:
            raise BadToken("not this event's form")
    except BadToken:
        return _register_form(request, session, event, values, words["form_expired"])
    if values.get("website"):  # the honeypot: only bots fill a field nobody sees
        return _message(request, event, words["received"], "")
    required = [f.name for f in registrations.registration_fields(event) if f.required]
    try:
        return registrations.attendee_from(values, required)
    except InvalidInput as exc:
        return _register_form(request, session, event, values, exc.message)


@router.get("/e/{event_key}/badge")
def badge(
    event_key: str, request: Request, session: WriteSession, t: str = "", format: str = "html"
) -> Response:
    """The badge (the QR the staff scan), as a page or, with ``format=png``, an image."""
    try:
        event = ev.event_by_key(session, event_key)
        registration = ev.registration_of_badge(session, event, t)
    except LeadpondError:
        return _invalid(request)
    if format == "png":
        buffer = io.BytesIO()
        url = f"{ev.site_url(event)}/badge?t={t}"
        segno.make(url, error="m").save(buffer, kind="png", scale=8, border=2)
        return Response(buffer.getvalue(), media_type="image/png", headers=NO_STORE)
    page, token = _badge_page(request, session, event, registration)
    return _with_cookies(page, event, registration, token)


@router.get("/e/{event_key}/staff")
def staff_page(event_key: str, request: Request, session: WriteSession, t: str = "") -> Response:
    """The staff check-in page: camera scanning where the browser has BarcodeDetector, a
    typed badge code or mobile otherwise; scans are queued in the browser and retried."""
    try:
        event = ev.event_by_key(session, event_key)
        ev.check_staff(session, event, t)
    except LeadpondError:
        return _invalid(request)
    lang = language(request)
    return _page(request, "staff.html", event, staff_token=t, js_words=JS_WORDS[lang])


class StaffCheckin(CheckinBody):
    """A check-in sent by the staff page: its staff token with the scan."""

    model_config = ConfigDict(extra="forbid")

    staff_token: str = Field(min_length=1, max_length=512)


@router.post("/e/{event_key}/staff/checkins", response_model=CheckinResult)
def staff_checkin(event_key: str, body: StaffCheckin, session: WriteSession) -> CheckinResult:
    """The staff page's check-in: as ``POST /api/v1/events/{id}/checkins``, with the staff
    token instead of a key (JSON errors with ``code`` and ``message``)."""
    event = ev.event_by_key(session, event_key)
    ev.check_staff(session, event, body.staff_token)
    return check_in(session, event, CheckinBody(**body.model_dump(exclude={"staff_token"})))


def _point(
    request: Request, session: Session, event_key: str, kind: str, key: str, token: str
) -> tuple[MarketingEvent, str, str] | HTMLResponse:
    try:
        event = ev.event_by_key(session, event_key)
        point = f"{kind}:{key}"
        ev.check_point(session, event, point, token)
        item = ev.booth(event, key) if kind == "booth" else ev.event_session(event, key)
    except LeadpondError:
        return _invalid(request)
    lang = language(request)
    name = item.get("name_en" if kind == "booth" else "title_en") if lang == "en" else None
    return event, point, str(name or item.get("name") or item.get("title") or key)


def _point_done(
    request: Request,
    session: Session,
    event: MarketingEvent,
    registration: EventRegistration,
    point: str,
    point_name: str,
) -> Response:
    words = WORDS[language(request)]
    try:
        new = checkins.check_in_point(session, event, registration, point, utcnow())
    except LeadpondError as exc:
        return _message(request, event, point_name, exc.message, exc.status_code)
    text = words["point_done"] if new else words["point_again"]
    return _message(request, event, point_name, text)


def _point_page(kind: str) -> Any:
    def scanned(
        event_key: str, key: str, request: Request, session: WriteSession, t: str = ""
    ) -> Response:
        """A booth's or session's QR was scanned: the badge cookie says who, else we ask."""
        found = _point(request, session, event_key, kind, key, t)
        if isinstance(found, HTMLResponse):
            return found
        event, point, point_name = found
        cookie = request.cookies.get(badge_cookie(event))
        if cookie:
            try:
                registration = ev.registration_of_badge(session, event, cookie)
            except LeadpondError:
                registration = None
            if registration is not None:
                return _point_done(request, session, event, registration, point, point_name)
        action = f"/e/{event.key}/{kind[0]}/{key}?lang={language(request)}"
        return _page(request, "point.html", event, point_name=point_name, token=t, action=action)

    def typed(
        event_key: str,
        key: str,
        request: Request,
        session: WriteSession,
        t: Annotated[str, Form(max_length=512)] = "",
        mobile: Annotated[str, Form(max_length=40)] = "",
    ) -> Response:
        """The mobile typed at a point: registered (as a walk-in if need be), then recorded."""
        found = _point(request, session, event_key, kind, key, t)
        if isinstance(found, HTMLResponse):
            return found
        event, point, point_name = found
        try:
            attendee = registrations.attendee_from({"mobile": mobile})
        except InvalidInput as exc:
            action = f"/e/{event.key}/{kind[0]}/{key}?lang={language(request)}"
            return _page(
                request,
                "point.html",
                event,
                400,
                point_name=point_name,
                token=t,
                action=action,
                error=exc.message,
            )
        registration, _ = registrations.register(
            session, event, attendee, source="walk_in", anonymous_id=None, now=utcnow(), admit=True
        )
        answer = _point_done(request, session, event, registration, point, point_name)
        return _with_cookies(answer, event, registration, ev.badge_token(session, registration))

    return scanned, typed


for _kind in ("booth", "session"):
    _scanned, _typed = _point_page(_kind)
    router.add_api_route(f"/e/{{event_key}}/{_kind[0]}/{{key}}", _scanned, methods=["GET"])
    router.add_api_route(f"/e/{{event_key}}/{_kind[0]}/{{key}}", _typed, methods=["POST"])
