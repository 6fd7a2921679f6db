"""A form as a mobile-first H5 page (or a fragment for a page of the caller's own).

Reusable by other public pages (event registration builds on it)::

    traits = forms.known_traits(session, workspace_id, anonymous_id, person_token)
    context = new_context(session, form, traits, anonymous_id=aid, hidden=url_params,
                          action="/e/expo/register")
    html = render_form(form, lang="zh", known_traits=traits, context=context)

``render_form`` reads no database: the signed render token in ``context`` (its time, a
one-use nonce and the keys of the fields shown) is what the post is checked against.
"""

import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from sqlalchemy.orm import Session

from leadpond.config import get_settings
from leadpond.engage.forms_schemas import Consent, FormField
from leadpond.engage.models import Form
from leadpond.workspaces.signing import sign

RENDER_TOKEN = "form_render"  # the signing purpose of the token a page posts back
HIDDEN_PARAMS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")

_pages = Environment(
    loader=PackageLoader("leadpond.engage", "templates"),
    autoescape=select_autoescape(("html",)),
)

WORDS: dict[str, dict[str, str]] = {
    "zh": {
        "submit": "提交",
        "success": "提交成功，感谢您的关注！我们会尽快与您联系。",
        "choose": "请选择",
        "honeypot": "请勿填写",
        "required": "此项必填",
        "mobile": "请输入有效的手机号码",
        "email": "请输入有效的电子邮件地址",
        "company": "请输入完整的公司名称",
        "option": "请从列表中选择",
        "too_long": "内容过长",
        "consent": "请勾选同意后提交",
        "captcha": "请完成人机验证",
        "expired": "页面已过期，请重新提交。",
        "not_found": "此表单不存在或未发布。",
    },
    "en": {
        "submit": "Submit",
        "success": "Thank you! We will be in touch soon.",
        "choose": "Please choose",
        "honeypot": "Leave this empty",
        "required": "This field is required",
        "mobile": "Enter a valid mobile number",
        "email": "Enter a valid email address",
        "company": "Enter your company's full name",
        "option": "Choose one from the list",
        "too_long": "This is too long",
        "consent": "Please tick to agree",
        "captcha": "Please complete the check",
        "expired": "This page has expired; please submit again.",
        "not_found": "This form does not exist or is not published.",
    },
}
_INPUT = {
    "email": ("email", "email"),
    "mobile": ("tel", "tel"),
    "company": ("text", "organization"),
}
_INPUT |= {"title": ("text", "organization-title")}
_AUTOCOMPLETE = {"name": "name"}


def words(lang: str) -> dict[str, str]:
    """The page's words in ``lang`` (Chinese unless English is asked for)."""
    return WORDS["en" if lang == "en" else "zh"]


def form_fields(form: Form) -> list[FormField]:
    return [FormField.model_validate(f) for f in form.fields]


def form_consents(form: Form) -> list[Consent]:
    return [Consent.model_validate(c) for c in form.consents]


def shown_fields(form: Form, known_traits: Mapping[str, Any]) -> list[FormField]:
    """The fields the page asks. With progressive profiling (``progressive_max``) a field
    whose trait the visitor already has is skipped and at most that many of the next unknown
    ones are asked; hidden fields always go along."""
    fields = form_fields(form)
    if form.progressive_max is None:
        return fields
    asked: list[FormField] = []
    visible = 0
    for candidate in fields:
        if candidate.type == "hidden":
            asked.append(candidate)
            continue
        trait = candidate.trait()
        if trait is not None and known_traits.get(trait) not in (None, ""):
            continue
        if visible < form.progressive_max:
            asked.append(candidate)
            visible += 1
    return asked


@dataclass(frozen=True)
class RenderContext:
    """What a rendered page carries besides the form: where it posts, its signed token, the
    visitor's anonymous id, the URL's values for hidden fields, and — after a refused post —
    what was typed and what was wrong (field key → message)."""

    action: str
    token: str
    anonymous_id: str
    hidden: Mapping[str, str] = field(default_factory=dict)
    values: Mapping[str, str] = field(default_factory=dict)
    errors: Mapping[str, str] = field(default_factory=dict)
    fragment: bool = False  # only the <form> element, for a page of the caller's own
    embedded: bool = False  # inside an iframe: tells the parent page its height
    lang_query: str = ""  # the page's own query (ws=…&), kept by the language links


def issue_token(session: Session, form: Form, shown: list[FormField]) -> str:
    """A render token: the form, when it was rendered, a one-use nonce, the fields asked."""
    data = {
        "f": form.id,
        "n": secrets.token_hex(12),
        "k": [f.key for f in shown],
        "t": int(time.time() * 1000),
    }
    return sign(session, form.workspace_id, RENDER_TOKEN, data)


def new_context(
    session: Session,
    form: Form,
    known_traits: Mapping[str, Any],
    *,
    anonymous_id: str,
    hidden: Mapping[str, str],
    action: str,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    fragment: bool = False,
    embedded: bool = False,
    lang_query: str = "",
) -> RenderContext:
    """A context with a fresh render token for the fields this visitor is asked."""
    keys = {f.key for f in form_fields(form) if f.type == "hidden"} | set(HIDDEN_PARAMS)
    return RenderContext(
        action=action,
        token=issue_token(session, form, shown_fields(form, known_traits)),
        anonymous_id=anonymous_id,
        hidden={k: v[:500] for k, v in hidden.items() if k in keys and v},
        values=values or {},
        errors=errors or {},
        fragment=fragment,
        embedded=embedded,
        lang_query=lang_query,
    )


def _label(zh: str, en: str, lang: str) -> str:
    return en if lang == "en" and en else zh


def title(form: Form, lang: str) -> str:
    return _label(form.name_zh, form.name_en, lang)


def success_message(form: Form, lang: str) -> str:
    return _label(form.success_zh, form.success_en, lang) or words(lang)["success"]


def _field_view(f: FormField, lang: str) -> dict[str, Any]:
    input_type, autocomplete = _INPUT.get(f.type, ("text", _AUTOCOMPLETE.get(f.trait() or "")))
    return {
        "key": f.key,
        "type": f.type,
        "label": _label(f.label_zh, f.label_en, lang),
        "required": f.required,
        "input_type": input_type,
        "autocomplete": autocomplete,
        "options": [
            {"value": o.value, "label": _label(o.label_zh, o.label_en, lang)} for o in f.options
        ],
    }


def render_form(
    form: Form, *, lang: str, known_traits: Mapping[str, Any], context: RenderContext
) -> str:
    """The form's H5 page (``context.fragment``: only its ``<form>``) in ``lang``, asking the
    fields :func:`shown_fields` picks for a visitor with ``known_traits``."""
    lang = "en" if lang == "en" else "zh"
    t = words(lang)
    settings = get_settings()
    shown = [f for f in shown_fields(form, known_traits) if f.type != "hidden"]
    hidden = dict(context.hidden)
    for f in shown_fields(form, known_traits):
        if f.type == "hidden":
            hidden.setdefault(f.key, "")
    fields_html = _pages.get_template("form_fields.html").render(
        action=context.action,
        token=context.token,
        anonymous_id=context.anonymous_id,
        hidden=hidden,
        fields=[_field_view(f, lang) for f in shown],
        consents=[
            {
                "key": c.key,
                "wording": _label(c.wording_zh, c.wording_en, lang),
                "required": c.required,
            }
            for c in form_consents(form)
        ],
        values=context.values,
        errors=context.errors,
        captcha_site_key=settings.forms_captcha_site_key if form.captcha else "",
        submit=_label(form.submit_zh, form.submit_en, lang) or t["submit"],
        t=t,
    )
    if context.fragment:
        return fields_html
    return _pages.get_template("form_page.html").render(
        lang=lang,
        title=title(form, lang),
        intro=_label(form.intro_zh, form.intro_en, lang),
        form_html=Markup(fields_html),
        form_key=form.key,
        embedded=context.embedded,
        lang_query=context.lang_query,
        captcha_script=settings.forms_captcha_script_url if form.captcha else "",
    )


def render_done(form: Form, *, lang: str, embedded: bool = False, lang_query: str = "") -> str:
    """The page shown after a post: the form's success message."""
    lang = "en" if lang == "en" else "zh"
    return _pages.get_template("form_done.html").render(
        lang=lang,
        title=title(form, lang),
        message=success_message(form, lang),
        form_key=form.key,
        embedded=embedded,
        lang_query=lang_query,
        captcha_script="",
    )
