"""Forms over HTTP: ``/api/v1/forms`` (make, read, change, delete) and their submissions."""

from fastapi import APIRouter, Path, Response

from leadpond.engage import forms
from leadpond.engage.forms_schemas import (
    KEY_PATTERN,
    FormCreate,
    FormRead,
    FormWrite,
    SubmissionRead,
    read_form,
)
from leadpond.engage.models import Form
from leadpond.kit.http import ReadSession, WriteSession
from leadpond.kit.pagination import Page, Paging
from leadpond.users.permissions import FormsRead, FormsWrite

router = APIRouter(prefix="/api/v1", tags=["forms"])
FormKey = Path(pattern=KEY_PATTERN, description="the form's key")


def _read(form: Form) -> FormRead:
    return read_form(form, forms.form_url(form), forms.embed_script(form))


@router.post("/forms", status_code=201, response_model=FormRead)
def create_form(body: FormCreate, actor: FormsWrite, session: WriteSession) -> FormRead:
    """A new form (422 ``invalid_form`` naming the field at fault; 409 ``form_exists``)."""
    return _read(forms.create_form(session, actor.workspace_id, body, actor.via))


@router.get("/forms", response_model=Page[FormRead])
def list_forms(actor: FormsRead, session: ReadSession, paging: Paging) -> Page[FormRead]:
    """The workspace's forms, by key."""
    total, found = forms.list_forms(session, actor.workspace_id, paging)
    return Page(total=total, items=[_read(form) for form in found])


@router.get("/forms/{key}", response_model=FormRead)
def get_form(actor: FormsRead, session: ReadSession, key: str = FormKey) -> FormRead:
    """One form; 404 ``form_not_found``."""
    return _read(forms.get_form(session, actor.workspace_id, key))


@router.put("/forms/{key}", response_model=FormRead)
def update_form(
    body: FormWrite, actor: FormsWrite, session: WriteSession, key: str = FormKey
) -> FormRead:
    """The form rewritten (all of it; its key and submissions stay)."""
    return _read(forms.update_form(session, actor.workspace_id, key, body))


@router.delete("/forms/{key}", status_code=204, response_class=Response)
def delete_form(actor: FormsWrite, session: WriteSession, key: str = FormKey) -> Response:
    """Delete the form and its submissions (their events stay in the event log)."""
    forms.delete_form(session, actor.workspace_id, key)
    return Response(status_code=204)


@router.get("/forms/{key}/submissions", response_model=Page[SubmissionRead])
def list_submissions(
    actor: FormsRead, session: ReadSession, paging: Paging, key: str = FormKey
) -> Page[SubmissionRead]:
    """The form's submissions, newest first (``person_id`` once the pipeline resolved them)."""
    form, total, found = forms.list_submissions(session, actor.workspace_id, key, paging)
    return Page(total=total, items=[SubmissionRead.build(row, form.key) for row in found])
