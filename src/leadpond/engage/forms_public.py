"""The public form pages: ``GET/POST /f/{key}`` (the H5 page and its post) and
``GET /f/{key}/embed.js`` (a script that puts the form in an iframe sized to its content).

No login and no session: the page carries a signed render token, so these routes sit in the
cross-origin guard's public paths (a post acts on no one's session; SameSite=Lax keeps the
visitor cookie off cross-site posts). A blocked post answers exactly like an accepted one.
"""

import json
import uuid
from typing import Annotated
from urllib.parse import unquote, urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from leadpond.acquisition.api import VISITOR_COOKIE, VISITOR_MAX_AGE
from leadpond.config import get_settings
from leadpond.db.engine import read_only, unit_of_work
from leadpond.engage import forms
from leadpond.engage.events import survey_event
from leadpond.engage.forms_render import (
    new_context,
    render_done,
    render_form,
    words,
)
from leadpond.engage.forms_submit import HONEYPOT, SubmissionMeta, submit_form, verify_captcha
from leadpond.engage.models import Form
from leadpond.kit.errors import LeadpondError
from leadpond.kit.names import LANGUAGES, accepted_language

router = APIRouter(tags=["forms"], include_in_schema=False)
NO_STORE = {"Cache-Control": "no-store, max-age=0"}
SDK_COOKIE = "ajs_anonymous_id"  # the website's Segment / RudderStack browser SDK's
CAPTCHA_FIELDS = (
    "captcha_token",
    "cf-turnstile-response",
    "h-captcha-response",
    "g-recaptcha-response",
)
Workspace = Annotated[str | None, Query(max_length=36, description="the workspace id")]


def language(request: Request) -> str:
    """``?lang=``, else the first of Accept-Language we speak; Chinese by default."""
    asked = request.query_params.get("lang", "")
    if asked in LANGUAGES:
        return asked
    return accepted_language(request.headers.get("accept-language"))


def _clean_id(value: str | None) -> str | None:
    text = unquote(value or "").strip().strip('"')
    return text[:255] if text and text.isprintable() and len(text) <= 255 else None


def visitor_id(request: Request, posted: str | None = None) -> str:
    """The browser's anonymous id: the one the page posts back, the website SDK's (``?aid=``
    from embed.js, or its cookie on the same domain), this server's ``lp_aid``, or a new one."""
    for candidate in (
        posted,
        request.query_params.get("aid"),
        request.cookies.get(SDK_COOKIE),
        request.cookies.get(VISITOR_COOKIE),
    ):
        found = _clean_id(candidate)
        if found:
            return found
    return str(uuid.uuid4())


def _page(html: str, visitor: str, status_code: int = 200) -> Response:
    answer = HTMLResponse(html, status_code=status_code, headers=NO_STORE)
    answer.set_cookie(
        VISITOR_COOKIE, visitor, max_age=VISITOR_MAX_AGE, httponly=True, samesite="lax"
    )
    return answer


def _lang_query(request: Request) -> str:
    kept = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    return urlencode(kept) + "&" if kept else ""


def _missing(request: Request) -> Response:
    message = words(language(request))["not_found"]
    return HTMLResponse(f"<!doctype html><meta charset=utf-8><p>{message}</p>", 404)


@router.get("/f/{key}")
def form_page(
    key: str,
    request: Request,
    ws: Workspace = None,
    pt: Annotated[str | None, Query(max_length=512)] = None,
    embed: Annotated[int, Query(ge=0, le=1)] = 0,
) -> Response:
    """The form's H5 page, asking what the visitor (known by cookie or ``?pt=``) has not told."""
    lang, visitor = language(request), visitor_id(request)
    with unit_of_work() as session:
        try:
            form = forms.public_form(session, key, ws)
        except LeadpondError:
            return _missing(request)
        traits = forms.known_traits(session, form.workspace_id, visitor, pt)
        context = new_context(
            session,
            form,
            traits,
            anonymous_id=visitor,
            hidden=dict(request.query_params),
            action=f"/f/{form.key}?{request.url.query}",
            embedded=bool(embed),
            lang_query=_lang_query(request),
        )
        html = render_form(form, lang=lang, known_traits=traits, context=context)
    return _page(html, visitor)


def _done(form: Form, request: Request, visitor: str, embedded: bool) -> Response:
    lang = language(request)
    # A gate's link says where the post leads (a content download): a path here, never a site.
    after = forms.safe_next(request.query_params.get("next"))
    if after and not embedded:
        answer: Response = RedirectResponse(after, status_code=303, headers=NO_STORE)
        answer.set_cookie(
            VISITOR_COOKIE, visitor, max_age=VISITOR_MAX_AGE, httponly=True, samesite="lax"
        )
        return answer
    if form.redirect_url and not embedded:
        answer = RedirectResponse(form.redirect_url, status_code=303, headers=NO_STORE)
        answer.set_cookie(
            VISITOR_COOKIE, visitor, max_age=VISITOR_MAX_AGE, httponly=True, samesite="lax"
        )
        return answer
    html = render_done(form, lang=lang, embedded=embedded, lang_query=_lang_query(request))
    if form.redirect_url:  # in an iframe: embed.js takes the whole page there
        html = html.replace(
            "</body>",
            f"<script>parent.postMessage({{leadpondRedirect: {json.dumps(form.redirect_url)}}}"
            ', "*");</script></body>',
        )
    return _page(html, visitor)


@router.post("/f/{key}")
async def submit(key: str, request: Request, ws: Workspace = None) -> Response:
    """Accept a post: the success message (or 303 to the form's redirect), the page again with
    what to fix (422), or — for a bot — the same success, with nothing created."""
    posted = {k: str(v) for k, v in (await request.form()).items()}
    lang = language(request)
    embedded = request.query_params.get("embed") == "1"
    visitor = visitor_id(request, posted.get("_aid"))
    ip = request.client.host if request.client else None
    with read_only() as session:
        try:
            captcha = forms.public_form(session, key, ws).captcha
        except LeadpondError:
            return _missing(request)
    # The provider is asked before the transaction: a network call never holds the write lock.
    passed = None
    if captcha:
        passed = verify_captcha(next((posted[f] for f in CAPTCHA_FIELDS if posted.get(f)), ""), ip)
    meta = SubmissionMeta(
        anonymous_id=visitor,
        render_token=posted.get("_t", ""),
        honeypot=posted.get(HONEYPOT, ""),
        ip=ip,
        user_agent=request.headers.get("user-agent", ""),
        captcha_passed=passed,
        lang=lang,
        page_url=request.headers.get("referer"),
    )
    with unit_of_work() as session:
        form = forms.public_form(session, key, ws)
        # An on-site survey of an event (its microsite links ``?event=<key>``): the answer
        # carries the event's id.
        event = survey_event(session, form.workspace_id, request.query_params.get("event"), key)
        if event is not None:
            meta.extra_properties = {"event_id": event.key}
        result = submit_form(session, form.workspace_id, form, posted, meta)
        if result.errors:
            traits = forms.known_traits(session, form.workspace_id, visitor, None)
            context = new_context(
                session,
                form,
                traits,
                anonymous_id=visitor,
                hidden=posted,
                action=f"/f/{form.key}?{request.url.query}",
                values=posted,
                errors=result.errors,
                embedded=embedded,
                lang_query=_lang_query(request),
            )
            html = render_form(form, lang=lang, known_traits=traits, context=context)
            return _page(html, visitor, 422)
        return _done(form, request, visitor, embedded)


EMBED_JS = """(function () {
  var script = document.currentScript;
  if (!script) return;
  var src = new URL(script.src);
  function sdkId() {
    try {
      var stored = window.localStorage.getItem("ajs_anonymous_id");
      if (stored) return JSON.parse(stored);
    } catch (e) {}
    var found = document.cookie.match(/(?:^|; )ajs_anonymous_id=([^;]*)/);
    return found ? decodeURIComponent(found[1]).replace(/^"|"$/g, "") : "";
  }
  var target = new URL(%(page)s);
  src.searchParams.forEach(function (v, k) { target.searchParams.set(k, v); });
  new URLSearchParams(window.location.search).forEach(function (v, k) {
    if (/^utm_|^(channel|content)$/.test(k)) target.searchParams.set(k, v);
  });
  var aid = sdkId();
  if (aid) target.searchParams.set("aid", aid);
  var lang = (document.documentElement.lang || navigator.language || "").slice(0, 2);
  if (!target.searchParams.get("lang") && (lang === "en" || lang === "zh")) {
    target.searchParams.set("lang", lang);
  }
  target.searchParams.set("embed", "1");
  var frame = document.createElement("iframe");
  frame.src = target.toString();
  frame.title = %(key)s;
  frame.setAttribute("data-leadpond-form", %(key)s);
  frame.style.cssText = "width:100%%;border:0;min-height:320px;overflow:hidden;display:block";
  frame.setAttribute("scrolling", "no");
  script.parentNode.insertBefore(frame, script.nextSibling);
  window.addEventListener("message", function (event) {
    if (event.source !== frame.contentWindow || !event.data) return;
    if (event.data.height) frame.style.height = event.data.height + "px";
    var go = event.data.leadpondRedirect;
    if (go && /^https?:\\/\\//.test(go)) window.location.href = go;
  });
})();
"""


@router.get("/f/{key}/embed.js")
def embed_js(key: str, ws: Workspace = None) -> Response:
    """The script a website includes where the form should appear (see docs/forms.md)."""
    with read_only() as session:
        try:
            form = forms.public_form(session, key, ws)
        except LeadpondError:
            return Response("/* form not found */", 404, media_type="text/javascript")
        page = f"{get_settings().public_url.rstrip('/')}/f/{form.key}"
        script = EMBED_JS % {"page": json.dumps(page), "key": json.dumps(form.key)}
    return Response(
        script, media_type="text/javascript", headers={"Cache-Control": "public, max-age=300"}
    )
