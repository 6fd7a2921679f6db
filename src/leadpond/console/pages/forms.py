"""Forms: the list, and each form's page — the builder, a live preview, the share link with its
QR code and embed snippets, and the submissions table."""

import segno
from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import ui
from sqlalchemy.orm import Session

from leadpond.console.pages.channels_words import local_when
from leadpond.console.pages.errors_words import error_words
from leadpond.console.pages.forms_builder import FormBuilder
from leadpond.console.pages.frame import DENSE_TABLE, Visit, header, linked_table, visit
from leadpond.db.engine import read_only
from leadpond.engage import forms
from leadpond.engage.forms_schemas import FormRead, read_form
from leadpond.engage.models import Form
from leadpond.kit.errors import LeadpondError
from leadpond.kit.pagination import PageQuery
from leadpond.users.permissions import FORMS_WRITE

LIST_PAGE = 200
SUBMISSIONS_SHOWN = 50
STATUS_NAMES = {"draft": "Draft", "published": "Published"}


def forms_page(request: Request) -> RedirectResponse | None:
    """Every form of the workspace by key, with its status and link."""
    with read_only() as session:
        v = visit(request, session)
        if isinstance(v, RedirectResponse):
            return v
        _ = v._
        header(v, _("Forms"), session)
        total, found = forms.list_forms(session, v.actor.workspace_id, PageQuery(limit=LIST_PAGE))
    if v.may(FORMS_WRITE):
        ui.button(_("New form"), icon="add", on_click=lambda: ui.navigate.to("/forms/new")).mark(
            "new-form"
        ).classes("lp-new-form")
    ui.label(_("{total} forms").format(total=total)).classes("lp-forms-total")
    columns = (
        ("key", _("Key")),
        ("name", _("Form name")),
        ("status", _("Status")),
        ("url", _("Share link")),
        ("updated_at", _("Changed")),
    )
    rows = [
        {
            "key": f.key,
            "href": v.href(f"/forms/{f.key}"),
            "name": _form_name(v, f),
            "status": _(STATUS_NAMES.get(f.status, f.status)),
            "url": forms.form_url(f),
            "updated_at": local_when(f.updated_at, v.zone),
        }
        for f in found
    ]
    table = linked_table(columns, rows, link="key", row_key="key", code=("key", "url"))
    table.classes("w-full lp-forms-table").mark("forms-table")
    return None


def form_page(request: Request, key: str) -> RedirectResponse | None:
    """Build or change a form; preview it; share it; see its submissions."""
    with read_only() as session:
        v = visit(request, session)
        if isinstance(v, RedirectResponse):
            return v
        _ = v._
        try:
            existing = _read(session, v, key) if key != "new" else None
        except LeadpondError as exc:
            header(v, _("Form"), session)
            ui.label(error_words(exc, _)).classes("text-negative lp-not-found").mark("not-found")
            return None
        header(v, _form_name(v, existing) if existing else _("New form"), session)
        with ui.tabs().classes("w-full") as tabs:
            build_tab = ui.tab(_("Builder")).mark("tab-builder")
            share_tab = ui.tab(_("Share")).mark("tab-share").classes("lp-tab-share")
            submissions_tab = ui.tab(_("Submissions")).mark("tab-submissions")
        with ui.tab_panels(tabs, value=build_tab).classes("w-full"):
            with ui.tab_panel(build_tab):
                FormBuilder(v, existing)
            with ui.tab_panel(share_tab):
                if existing is None:
                    ui.label(_("Save the form to share it."))
                else:
                    _share(v, existing)
            with ui.tab_panel(submissions_tab):
                if existing is not None:
                    _submissions(v, session, existing.key)
    return None


def _form_name(v: Visit, form: Form | FormRead) -> str:
    """The form's name in the viewer's language (its Chinese one when it has no other)."""
    return form.name_en if v.actor.locale == "en" and form.name_en else form.name_zh


def _read(session: Session, v: Visit, key: str) -> FormRead:
    form = forms.get_form(session, v.actor.workspace_id, key)
    return read_form(form, forms.form_url(form), forms.embed_script(form))


def _share(v: Visit, form: FormRead) -> None:
    """The hosted page's link and QR code, the embed script and the plain iframe."""
    _ = v._
    if form.status != "published":
        ui.label(_("This form is a draft: publish it before you share the link.")).classes(
            "text-warning lp-draft-note"
        )
    with ui.row().classes("items-start gap-8"):
        with ui.column():
            ui.label(_("Share link")).classes("font-semibold")
            with ui.element("a").classes("nicegui-link lp-share-link").mark("share-link") as link:
                ui.label(form.url)
            link.props["href"] = form.url
            link.props["target"] = "_blank"
            ui.html(segno.make(form.url, error="m").svg_inline(scale=5)).classes("lp-share-qr")
            ui.label(_("Scan with a phone, or print it on a poster.")).classes("text-sm")
        with ui.column().classes("grow"):
            ui.label(_("Embed in a web page (resizes to its content)")).classes("font-semibold")
            ui.code(form.embed_script, language="html").classes("w-full lp-embed-script")
            ui.label(_("Or as a plain iframe")).classes("font-semibold")
            iframe = (
                f'<iframe src="{form.url}&embed=1" style="width:100%;height:720px;border:0" '
                f'title="{form.name_zh}"></iframe>'
            )
            ui.code(iframe, language="html").classes("w-full lp-embed-iframe")


def _submissions(v: Visit, session: Session, key: str) -> None:
    _ = v._
    _form, total, found = forms.list_submissions(
        session, v.actor.workspace_id, key, PageQuery(limit=SUBMISSIONS_SHOWN)
    )
    ui.label(_("{total} submissions").format(total=total)).classes("lp-submissions-total")
    columns = [
        {"name": k, "label": label, "field": k, "align": "left"}
        for k, label in (
            ("created_at", _("Submitted")),
            ("person", _("Person")),
            ("values", _("Answers")),
            ("source", _("Source")),
            ("repeats", _("Repeats")),
        )
    ]
    rows = [
        {
            "id": s.id,
            "created_at": local_when(s.created_at, v.zone),
            "person": str(s.person_id) if s.person_id else _("Being processed"),
            "href": v.href(f"/people/{s.person_id}") if s.person_id else "",
            "values": " · ".join(f"{k}: {value}" for k, value in s.values.items()),
            "source": " · ".join(f"{k}={value}" for k, value in s.context.items()),
            "repeats": s.repeats,
        }
        for s in found
    ]
    table = ui.table(columns=columns, rows=rows, row_key="id").props(DENSE_TABLE)
    table.add_slot(
        "body-cell-person",
        '<q-td :props="props"><a v-if="props.row.href" :href="props.row.href" '
        'class="text-primary">{{ props.value }}</a><span v-else>{{ props.value }}</span></q-td>',
    )
    table.classes("w-full lp-submissions-table").mark("submissions-table")
