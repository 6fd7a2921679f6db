"""Forms: make, change and find them; their public URLs; who a visitor already is.

A form belongs to a workspace and its key is unique there. Its public page is
``/f/<key>?ws=<workspace id>``; without ``ws`` the key names the oldest workspace's published
form of that key (the embedded, one-workspace default), so ``/f/trial`` works on a fresh server.
Rendering is :mod:`leadpond.engage.forms_render`, posting :mod:`leadpond.engage.forms_submit`.
"""

import uuid
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from leadpond.config import get_settings
from leadpond.engage.forms_schemas import FormCreate, FormWrite
from leadpond.engage.models import Form, FormPostWindow, FormSubmission
from leadpond.identity.models import DeviceSession, Identifier
from leadpond.kit.errors import Conflict, LeadpondError, NotFound, RefusedValue
from leadpond.kit.pagination import PageQuery, count
from leadpond.kit.scope import owned
from leadpond.profiles.models import Person
from leadpond.workspaces.models import Workspace
from leadpond.workspaces.signing import BadToken, sign, unsign

PUBLISHED, DRAFT = "published", "draft"
PERSON_TOKEN = "form_person"  # the signed ?pt= of a link that says who the reader is


class FormNotFound(NotFound):
    code = "form_not_found"


class FormInvalid(LeadpondError):
    """A form that cannot be saved as written; ``field`` names the part at fault."""

    status_code, code = 422, "invalid_form"


class FormExists(Conflict):
    code = "form_exists"


def form_url(form: Form) -> str:
    """The hosted H5 page of a form (what the share link and its QR code carry)."""
    base = get_settings().public_url.rstrip("/")
    return f"{base}/f/{form.key}?ws={form.workspace_id.hex}"


def embed_script(form: Form) -> str:
    """The tag a website pastes where the form should appear."""
    base = get_settings().public_url.rstrip("/")
    return f'<script src="{base}/f/{form.key}/embed.js?ws={form.workspace_id.hex}" async></script>'


def check(body: FormWrite) -> None:
    """The rules a form's schema cannot say: raise :class:`FormInvalid` naming the field."""
    keys = [f.key for f in body.fields]
    for index, field in enumerate(body.fields):
        where = f"fields[{index}]"
        if field.key in keys[:index]:
            refused = RefusedValue("two fields have the key {key}", key=field.key)
            raise FormInvalid(refused, field=f"{where}.key")
        if field.type == "select" and not field.options:
            raise FormInvalid("a select field needs options", field=f"{where}.options")
        if field.type != "select" and field.options:
            raise FormInvalid("only a select field has options", field=f"{where}.options")
        if field.type != "hidden" and not field.label_zh:
            raise FormInvalid("a visible field needs a Chinese label", field=f"{where}.label_zh")
        values = [o.value for o in field.options]
        if len(set(values)) != len(values):
            raise FormInvalid("two options have the same value", field=f"{where}.options")
    traits = [f.trait() for f in body.fields]
    for index, field in enumerate(body.fields):
        if field.trait() and field.trait() in traits[:index]:
            refused = RefusedValue("two fields fill the trait {trait}", trait=field.trait())
            raise FormInvalid(refused, field=f"fields[{index}].maps_to")
    consent_keys = [c.key for c in body.consents]
    for index, consent in enumerate(body.consents):
        if consent.key in consent_keys[:index] or consent.key in keys:
            refused = RefusedValue("the key {key} is taken", key=consent.key)
            raise FormInvalid(refused, field=f"consents[{index}].key")
    if body.redirect_url is not None:
        parts = urlsplit(body.redirect_url.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise FormInvalid("the redirect must be an http(s) URL", field="redirect_url")
    if body.captcha and not get_settings().forms_captcha_verify_url:
        raise FormInvalid(
            "captcha needs LEADPOND_FORMS_CAPTCHA_VERIFY_URL on the server", field="captcha"
        )


def _apply(form: Form, body: FormWrite) -> None:
    document = body.model_dump(mode="json")
    for name, value in document.items():
        if name != "key":
            setattr(form, name, value)
    form.redirect_url = body.redirect_url.strip() if body.redirect_url else None


def create_form(session: Session, workspace_id: uuid.UUID, body: FormCreate, actor: str) -> Form:
    """A new form (409 ``form_exists`` when the key is taken in the workspace)."""
    check(body)
    if session.scalar(select(Form.id).where(owned(Form, workspace_id), Form.key == body.key)):
        raise FormExists(
            RefusedValue("a form with the key {key} exists", key=body.key), field="key"
        )
    form = Form(workspace_id=workspace_id, key=body.key, created_by=actor[:128])
    _apply(form, body)
    session.add(form)
    session.flush()
    return form


def update_form(session: Session, workspace_id: uuid.UUID, key: str, body: FormWrite) -> Form:
    """The form rewritten from ``body`` (its key and submissions stay)."""
    check(body)
    form = get_form(session, workspace_id, key)
    _apply(form, body)
    session.flush()
    return form


def delete_form(session: Session, workspace_id: uuid.UUID, key: str) -> None:
    """Delete the form and its submissions (their events stay in the event log)."""
    form = get_form(session, workspace_id, key)
    session.execute(delete(FormPostWindow).where(FormPostWindow.target == f"form:{form.id}"))
    session.execute(delete(FormSubmission).where(FormSubmission.form_id == form.id))
    session.delete(form)
    session.flush()


def get_form(session: Session, workspace_id: uuid.UUID, key: str) -> Form:
    """The workspace's form of this key, or :class:`FormNotFound`."""
    form = session.scalar(select(Form).where(owned(Form, workspace_id), Form.key == key))
    if form is None:
        raise FormNotFound(RefusedValue("no form has the key {key}", key=key))
    return form


def list_forms(
    session: Session, workspace_id: uuid.UUID, page: PageQuery
) -> tuple[int, list[Form]]:
    """The workspace's forms by key, and how many there are."""
    stmt = select(Form).where(owned(Form, workspace_id))
    found = session.scalars(page.apply(stmt.order_by(Form.key)))
    return count(session, stmt), list(found)


def public_form(session: Session, key: str, workspace: str | None) -> Form:
    """The published form a public URL names (``ws``: the workspace id, hex or dashed)."""
    stmt = select(Form).where(Form.key == key, Form.status == PUBLISHED)
    if workspace:
        try:
            stmt = stmt.where(Form.workspace_id == uuid.UUID(workspace))
        except ValueError as exc:
            raise FormNotFound("this form does not exist") from exc
    else:
        stmt = stmt.join(Workspace, Workspace.id == Form.workspace_id).order_by(
            Workspace.created_at, Workspace.id
        )
    form = session.scalars(stmt.limit(1)).first()
    if form is None:
        raise FormNotFound("this form does not exist")
    return form


def list_submissions(
    session: Session, workspace_id: uuid.UUID, key: str, page: PageQuery
) -> tuple[Form, int, list[FormSubmission]]:
    """A form's submissions, newest first."""
    form = get_form(session, workspace_id, key)
    stmt = select(FormSubmission).where(
        owned(FormSubmission, workspace_id), FormSubmission.form_id == form.id
    )
    ordered = stmt.order_by(FormSubmission.created_at.desc(), FormSubmission.id.desc())
    return form, count(session, stmt), list(session.scalars(page.apply(ordered)))


def person_token(session: Session, workspace_id: uuid.UUID, person_id: int) -> str:
    """A ``?pt=`` for links sent to a known person (an email's form link): their form skips
    what is known about them."""
    return sign(session, workspace_id, PERSON_TOKEN, {"p": person_id})


def known_person(
    session: Session, workspace_id: uuid.UUID, anonymous_id: str | None, token: str | None
) -> Person | None:
    """Who the visitor is, when known: by a signed person token, else by the browser's
    anonymous id (the website SDK's ``ajs_anonymous_id`` or this server's ``lp_aid``)."""
    person_id: int | None = None
    if token:
        try:
            token_workspace, data = unsign(session, token, PERSON_TOKEN)
        except BadToken:
            data, token_workspace = None, None
        if token_workspace == workspace_id and isinstance(data, dict):
            found = data.get("p")
            person_id = found if isinstance(found, int) else None
    if person_id is None and anonymous_id:
        # An anonymous id is weak (a shared device): whoever identified on it last.
        person_id = session.scalar(
            select(DeviceSession.person_id)
            .where(
                owned(DeviceSession, workspace_id),
                DeviceSession.type == "anonymous_id",
                DeviceSession.value == anonymous_id[:512],
            )
            .order_by(DeviceSession.at.desc())
            .limit(1)
        ) or session.scalar(
            select(Identifier.person_id).where(
                owned(Identifier, workspace_id),
                Identifier.type == "anonymous_id",
                Identifier.value == anonymous_id[:512],
            )
        )
    person = session.get(Person, person_id) if person_id is not None else None
    while person is not None and person.merged_into_id is not None:
        person = session.get(Person, person.merged_into_id)
    return person if person is not None and person.workspace_id == workspace_id else None


def known_traits(
    session: Session, workspace_id: uuid.UUID, anonymous_id: str | None, token: str | None
) -> dict[str, Any]:
    """The known visitor's traits (empty for a stranger): progressive profiling's input."""
    person = known_person(session, workspace_id, anonymous_id, token)
    return dict(person.traits) if person is not None else {}


def has_submitted(
    session: Session, workspace_id: uuid.UUID, form_key: str, anonymous_id: str
) -> bool:
    """Whether this browser (its anonymous id) has posted the form: what a gate asks before it
    hands on a download. A post the spam checks refused is no submission."""
    if not anonymous_id:
        return False
    found = session.scalar(
        select(FormSubmission.id)
        .join(Form, Form.id == FormSubmission.form_id)
        .where(
            owned(FormSubmission, workspace_id),
            Form.key == form_key,
            FormSubmission.anonymous_id == anonymous_id,
        )
        .limit(1)
    )
    return found is not None


def safe_next(target: str | None) -> str | None:
    """Where a form sends the visitor after a good post when its link says ``?next=``: a path
    of this server only (``/c/…``), never another site (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None
