"""Registering through a form of the form builder: an event whose ``registration_form`` names
a published form renders it on the registration page (progressive profiling, consents, hidden
UTM fields) and posts through :func:`forms_submit.submit_form` (anti-spam, dedupe, ``Form
Submitted`` with the event's id); the accepted traits then register the attendee."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from markupsafe import Markup
from sqlalchemy.orm import Session

from leadpond.engage import forms
from leadpond.engage.events_models import MarketingEvent
from leadpond.engage.events_registration import Attendee, attendee_from
from leadpond.engage.forms_public import CAPTCHA_FIELDS, visitor_id
from leadpond.engage.forms_render import new_context, render_form
from leadpond.engage.forms_submit import HONEYPOT, SubmissionMeta, submit_form, verify_captcha
from leadpond.engage.models import Form
from leadpond.kit.errors import InvalidInput, LeadpondError


def form_of(session: Session, event: MarketingEvent) -> Form | None:
    """The published form that registers for the event (None: the event's own fields)."""
    if not event.registration_form:
        return None
    try:
        form = forms.get_form(session, event.workspace_id, event.registration_form)
    except LeadpondError:
        return None
    return form if form.status == forms.PUBLISHED else None


def _action(event: MarketingEvent, request: Request) -> str:
    query = request.url.query
    return f"/e/{event.key}/register" + (f"?{query}" if query else "")


def form_html(
    session: Session,
    event: MarketingEvent,
    form: Form,
    request: Request,
    lang: str,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
) -> Markup:
    """The form (only its ``<form>``) for this visitor, posting to the registration page."""
    visitor = visitor_id(request, (values or {}).get("_aid"))
    traits = forms.known_traits(
        session, event.workspace_id, visitor, request.query_params.get("pt")
    )
    context = new_context(
        session,
        form,
        traits,
        anonymous_id=visitor,
        hidden=dict(values or request.query_params),
        action=_action(event, request),
        values=values,
        errors=errors,
        fragment=True,
    )
    return Markup(render_form(form, lang=lang, known_traits=traits, context=context))


def captcha_passed(form: Form, request: Request, posted: Mapping[str, str]) -> bool | None:
    """Asked of the captcha provider before any transaction (a network call)."""
    if not form.captcha:
        return None
    ip = request.client.host if request.client else None
    return verify_captcha(next((posted[f] for f in CAPTCHA_FIELDS if posted.get(f)), ""), ip)


@dataclass(frozen=True)
class Posted:
    """What a post through the form became: the attendee and their browser's id, what to fix,
    or blocked (a bot: answered as received, nothing created)."""

    attendee: Attendee | None = None
    anonymous_id: str | None = None
    errors: Mapping[str, str] | None = None
    blocked: bool = False


def submit(
    session: Session,
    event: MarketingEvent,
    form: Form,
    request: Request,
    posted: Mapping[str, str],
    lang: str,
    captcha: bool | None,
) -> Posted:
    """Post through the form builder; an accepted post's traits (with what is known of the
    visitor already: progressive profiling skipped those fields) make the attendee."""
    meta = SubmissionMeta(
        anonymous_id=visitor_id(request, posted.get("_aid")),
        render_token=posted.get("_t", ""),
        honeypot=posted.get(HONEYPOT, ""),
        ip=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent", ""),
        captcha_passed=captcha,
        lang=lang,
        page_url=request.headers.get("referer"),
        extra_properties={"event_id": event.key},
    )
    result = submit_form(session, event.workspace_id, form, posted, meta)
    if result.errors:
        return Posted(errors=result.errors)
    if result.blocked:
        return Posted(blocked=True)
    known = forms.known_traits(session, event.workspace_id, result.anonymous_id, None)
    values: dict[str, Any] = {**known, **result.traits}
    try:
        attendee = attendee_from(values, required=())
    except InvalidInput as exc:
        return Posted(errors={"_form": exc.message})
    attendee.answers = dict(result.traits)
    return Posted(attendee=attendee, anonymous_id=result.anonymous_id)
