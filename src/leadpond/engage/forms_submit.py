"""A form post: anti-spam, validation, dedupe, then the submission and its events.

Reusable by other public pages (event registration posts through it)::

    meta = SubmissionMeta(anonymous_id=aid, render_token=posted["_t"], ip=ip,
                          extra_properties={"event_id": "expo-2026"})
    result = submit_form(session, workspace_id, form, posted, meta)
    if result.errors: re-render with them; else show the success (also when result.blocked)

An accepted post writes a ``form_submission`` row and, through ``ingest.append_events``, an
``identify`` (the traits typed, under the browser's anonymous id, so the cookie's history joins
the person) and ``Form Submitted`` (``form_id``, ``fields``, hidden fields, consents), then the
form's ``conversion_event`` if it has one. The pipeline makes the person; its consent stage
records the consents shown (``engage.forms_consent``).

Blocked (``result.blocked`` says why) — the caller answers as if it were accepted, so a bot
learns nothing — and nothing is created: a filled honeypot, a post sooner than the form's
``min_fill_seconds`` after its page was rendered, a missing, forged or already used render
token, no captcha pass when the form asks for one, or more than ``posts_per_minute`` posts
from one address (counted in the database: every API process sees the same count).
"""

import hashlib
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
import orjson
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from leadpond.config import get_settings
from leadpond.db.engine import dialect_insert
from leadpond.engage.forms import PUBLISHED
from leadpond.engage.forms_render import (
    HIDDEN_PARAMS,
    RENDER_TOKEN,
    form_consents,
    form_fields,
    words,
)
from leadpond.engage.forms_schemas import FormField
from leadpond.engage.models import Form, FormPostWindow, FormSubmission
from leadpond.identity.models import Identifier
from leadpond.ingest.service import append_events
from leadpond.ingest.spec import normalise
from leadpond.kit.clock import isoformat, utcnow
from leadpond.kit.scope import owned
from leadpond.normalise.company import normalise_company_name
from leadpond.normalise.contact import normalise_email, normalise_phone
from leadpond.workspaces.signing import BadToken, unsign

FORMS_SOURCE = "forms"  # the event log's source of form posts
SUBMITTED = "Form Submitted"
HONEYPOT = "website"
TOKEN_MAX_AGE_S = 24 * 3600
MAX_VALUE = 500
MAX_TEXTAREA = 4000


@dataclass
class SubmissionMeta:
    """Where a post came from: the browser's anonymous id, the render token it posts back,
    the honeypot's value, the client address and agent, whether a captcha passed (checked by
    :func:`verify_captcha` before the caller's transaction), the page's language and URL, and
    properties the caller adds to ``Form Submitted`` (``event_id``…)."""

    anonymous_id: str
    render_token: str
    honeypot: str = ""
    ip: str | None = None
    user_agent: str = ""
    captcha_passed: bool | None = None
    lang: str = "zh"
    page_url: str | None = None
    extra_properties: dict[str, Any] = field(default_factory=dict)
    now: datetime | None = None


@dataclass
class SubmissionResult:
    """What became of a post: ``errors`` (field key → message) to show again, ``blocked``
    (why, answered like a success), else the submission (``duplicate``: the same post seen
    within the form's dedupe window, nothing new written) and who made it."""

    anonymous_id: str
    submission_id: int | None = None
    person_id: int | None = None
    duplicate: bool = False
    blocked: str | None = None
    errors: dict[str, str] = field(default_factory=dict)
    traits: dict[str, Any] = field(default_factory=dict)

    @property
    def accepted(self) -> bool:
        return self.submission_id is not None


def verify_captcha(token: str, ip: str | None) -> bool:
    """Ask the configured verify URL about a captcha widget's token (the siteverify protocol
    reCAPTCHA, hCaptcha and Turnstile share). Call it outside a transaction: it is a network
    call. No answer in 5 s, or any error, is a fail."""
    settings = get_settings()
    if not settings.forms_captcha_verify_url or not token:
        return False
    data = {"secret": settings.forms_captcha_secret, "response": token[:4096]}
    if ip:
        data["remoteip"] = ip
    try:
        answer = httpx.post(settings.forms_captcha_verify_url, data=data, timeout=5.0)
        return answer.status_code == 200 and answer.json().get("success") is True
    except (httpx.HTTPError, ValueError, AttributeError):
        return False


def _client_key(ip: str | None) -> str:
    return hashlib.sha256((ip or "unknown").encode()).hexdigest()


def count_post(session: Session, target: str, ip: str | None, now: datetime) -> int:
    """Count a post to ``target`` (``form:<id>``, ``event:<id>``) in its client's minute and
    answer the count so far (an upsert: two processes' posts of the same minute add up on one
    row). Every public post path counts here: the one per-address rate limit."""
    minute = now.replace(second=0, microsecond=0)
    client = _client_key(ip)
    statement = dialect_insert(session, FormPostWindow).values(
        target=target, client=client, minute=minute, posts=1
    )
    counted = session.scalar(
        statement.on_conflict_do_update(
            index_elements=["target", "client", "minute"],
            set_={"posts": FormPostWindow.posts + 1},
        ).returning(FormPostWindow.posts)
    )
    # Old minutes of this client are of no use any more.
    session.execute(
        delete(FormPostWindow).where(
            FormPostWindow.target == target,
            FormPostWindow.client == client,
            FormPostWindow.minute < minute - timedelta(minutes=5),
        )
    )
    return int(counted or 0)


def form_target(form: Form) -> str:
    """The rate limit's target of a form's posts."""
    return f"form:{form.id}"


def _token_problem(
    session: Session, form: Form, meta: SubmissionMeta, now_ms: int
) -> tuple[str | None, list[str], str]:
    """(why the post is blocked or None, the field keys the page asked, the nonce)."""
    try:
        workspace_id, data = unsign(session, meta.render_token, RENDER_TOKEN, TOKEN_MAX_AGE_S)
    except BadToken as exc:
        return ("expired" if "expired" in exc.message else "bad_token"), [], ""
    if workspace_id != form.workspace_id or not isinstance(data, dict) or data.get("f") != form.id:
        return "bad_token", [], ""
    keys, nonce, rendered = data.get("k"), str(data.get("n", "")), data.get("t")
    if not isinstance(keys, list) or not isinstance(rendered, int) or not nonce:
        return "bad_token", [], ""
    if now_ms - rendered < form.min_fill_seconds * 1000:
        return "too_fast", [], nonce
    used = session.scalar(select(FormSubmission.id).where(FormSubmission.render_nonce == nonce))
    if used is not None:
        return "token_used", [], nonce
    return None, [str(k) for k in keys], nonce


def _clean(f: FormField, raw: str, lang: str) -> tuple[Any, str | None]:
    """The field's stored value and an error message (or None)."""
    t = words(lang)
    text = raw.strip()
    if f.type == "checkbox":
        return text in ("1", "on", "true", "yes"), None
    if len(text) > (MAX_TEXTAREA if f.type == "textarea" else MAX_VALUE):
        return text, t["too_long"]
    if not text:
        return None, None
    if f.type == "mobile":
        phone = normalise_phone(text)
        return (phone, None) if phone else (text, t["mobile"])
    if f.type == "email":
        email = normalise_email(text)
        return (email, None) if email else (text, t["email"])
    if f.type == "company":
        return (text, None) if normalise_company_name(text) else (text, t["company"])
    if f.type == "select" and text not in {o.value for o in f.options}:
        return text, t["option"]
    return text, None


def _validate(
    form: Form, asked: list[str], values: Mapping[str, str], lang: str
) -> tuple[dict[str, Any], dict[str, str]]:
    cleaned: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for f in form_fields(form):
        if f.key not in asked or f.type == "hidden":
            continue
        value, error = _clean(f, str(values.get(f.key, "")), lang)
        if error is None and f.required and value in (None, False):
            error = words(lang)["required"]
        if error is not None:
            errors[f.key] = error
        elif value is not None:
            cleaned[f.key] = value
    for consent in form_consents(form):
        if consent.required and str(values.get(f"consent_{consent.key}", "")) not in ("1", "on"):
            errors[f"consent_{consent.key}"] = words(lang)["consent"]
    return cleaned, errors


def _dedupe_key(form: Form, traits: dict[str, Any], cleaned: dict[str, Any], aid: str) -> str:
    who = traits.get("email") or traits.get("phone") or aid
    document = orjson.dumps([form.id, who, cleaned], option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(document).hexdigest()


def _known_person(session: Session, workspace_id: uuid.UUID, traits: dict[str, Any]) -> int | None:
    for id_type in ("email", "phone"):
        if traits.get(id_type):
            found = session.scalar(
                select(Identifier.person_id).where(
                    owned(Identifier, workspace_id),
                    Identifier.type == id_type,
                    Identifier.value == traits[id_type],
                )
            )
            if found is not None:
                return int(found)
    return None


def submit_form(
    session: Session,
    workspace_id: uuid.UUID,
    form: Form,
    values: Mapping[str, str],
    meta: SubmissionMeta,
) -> SubmissionResult:
    """Check, dedupe and accept one post of ``form`` (see the module docstring)."""
    now = meta.now or utcnow()
    aid = meta.anonymous_id[:255]
    result = SubmissionResult(anonymous_id=aid)
    if form.workspace_id != workspace_id or form.status != PUBLISHED:
        result.blocked = "not_published"
        return result
    posts = count_post(session, form_target(form), meta.ip, now)
    problem, asked, nonce = _token_problem(session, form, meta, int(time.time() * 1000))
    if meta.honeypot.strip():
        problem = "honeypot"
    elif posts > form.posts_per_minute:
        problem = "rate_limited"
    elif problem is None and form.captcha and not meta.captcha_passed:
        result.errors = {"captcha": words(meta.lang)["captcha"]}
        return result
    if problem == "expired":
        result.errors = {"_form": words(meta.lang)["expired"]}
        return result
    if problem is not None:
        result.blocked = problem
        return result
    cleaned, errors = _validate(form, asked, values, meta.lang)
    if errors:
        result.errors = errors
        return result
    fields = {f.key: f for f in form_fields(form)}
    traits: dict[str, Any] = {}
    for name, value in cleaned.items():
        trait = fields[name].trait()
        if trait is not None:
            traits[trait] = value
    result.traits = traits
    hidden = {
        k: str(values.get(k, ""))[:MAX_VALUE]
        for k in [f.key for f in fields.values() if f.type == "hidden"] + list(HIDDEN_PARAMS)
        if str(values.get(k, "")).strip()
    }
    key = _dedupe_key(form, traits, cleaned, aid)
    earlier = session.scalar(
        select(FormSubmission)
        .where(
            FormSubmission.form_id == form.id,
            FormSubmission.dedupe_key == key,
            FormSubmission.created_at >= now - timedelta(hours=form.dedupe_hours),
        )
        .order_by(FormSubmission.id.desc())
        .limit(1)
    )
    if earlier is not None:
        session.execute(
            update(FormSubmission)
            .where(FormSubmission.id == earlier.id)
            .values(repeats=FormSubmission.repeats + 1)
        )
        result.submission_id, result.duplicate = earlier.id, True
        result.anonymous_id = earlier.anonymous_id
        result.person_id = earlier.person_id or _known_person(session, workspace_id, traits)
        return result
    consents = [
        {
            "key": c.key,
            "channel": c.channel,
            "wording": c.wording_en if meta.lang == "en" and c.wording_en else c.wording_zh,
            "lang": meta.lang,
        }
        for c in form_consents(form)
        if str(values.get(f"consent_{c.key}", "")) in ("1", "on")
    ]
    submission = FormSubmission(
        workspace_id=workspace_id,
        form_id=form.id,
        anonymous_id=aid,
        values=cleaned,
        traits=traits,
        consents=consents,
        context={**hidden, **({"page_url": meta.page_url[:2048]} if meta.page_url else {})},
        lang="en" if meta.lang == "en" else "zh",
        dedupe_key=key,
        render_nonce=nonce,
        created_at=now,
    )
    session.add(submission)
    session.flush()
    _append(session, form, submission, hidden, meta, now)
    result.submission_id = submission.id
    result.person_id = _known_person(session, workspace_id, traits)
    return result


def _append(
    session: Session,
    form: Form,
    submission: FormSubmission,
    hidden: dict[str, str],
    meta: SubmissionMeta,
    now: datetime,
) -> None:
    """The identify, Form Submitted and the conversion event, through the ingest path."""
    campaign = {
        name: hidden[f"utm_{part}"]
        for part, name in (
            ("source", "source"),
            ("medium", "medium"),
            ("campaign", "name"),
            ("term", "term"),
            ("content", "content"),
        )
        if hidden.get(f"utm_{part}")
    }
    context: dict[str, Any] = {
        "userAgent": meta.user_agent[:512],
        "locale": "en-US" if meta.lang == "en" else "zh-CN",
        **({"ip": meta.ip} if meta.ip else {}),
        **({"campaign": campaign} if campaign else {}),
        **({"page": {"url": meta.page_url[:2048]}} if meta.page_url else {}),
    }
    stamp = isoformat(now)
    base = {"anonymousId": submission.anonymous_id, "timestamp": stamp, "context": context}
    properties: dict[str, Any] = {
        **{k: v for k, v in hidden.items() if not k.startswith("utm_")},
        **{k: v for k, v in submission.values.items() if not _is_trait(form, k)},
        "form_id": form.key,
        "fields": sorted(submission.values),
        "submission_id": submission.id,
        **({"consents": submission.consents} if submission.consents else {}),
        **meta.extra_properties,
    }
    raws = [
        {**base, "type": "identify", "messageId": f"form-{submission.id}-identify"},
        {**base, "type": "track", "event": SUBMITTED, "messageId": f"form-{submission.id}"},
    ]
    raws[0]["traits"] = submission.traits
    raws[1]["properties"] = properties
    if form.conversion_event:
        conversion = {k: v for k, v in properties.items() if k not in ("fields", "consents")}
        raws.append(
            {
                **base,
                "type": "track",
                "event": form.conversion_event,
                "messageId": f"form-{submission.id}-conversion",
                "properties": conversion,
            }
        )
    messages = [normalise(raw, received_at=now) for raw in raws]
    append_events(session, form.workspace_id, messages, now, source=FORMS_SOURCE)


def _is_trait(form: Form, key: str) -> bool:
    return any(f.key == key and f.trait() for f in form_fields(form))
