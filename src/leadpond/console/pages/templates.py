"""Templates: the list, and the editor (every part, marketing or transactional) beside a live
preview for a chosen person, with a test send and the messages written with the template."""

from typing import Any, Literal

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import run, ui
from pydantic import ValidationError
from sqlalchemy.orm import Session

from leadpond.channels import service
from leadpond.channels.models import Channel
from leadpond.channels.reads import messages_of_template
from leadpond.channels.schemas import NAME_LENGTH, TemplateBody, TemplateCreate, TemplateRead
from leadpond.console.pages.channels_messages import template_messages_section
from leadpond.console.pages.channels_words import CHANNEL_NAMES, PURPOSE_NAMES, local_when, word
from leadpond.console.pages.errors_words import error_words
from leadpond.console.pages.frame import Visit, header, linked_table, notify_error, visit
from leadpond.console.pages.templates_preview import PreviewPane
from leadpond.console.pages.words import validation_problem
from leadpond.db.engine import read_only, unit_of_work
from leadpond.kit.errors import LeadpondError
from leadpond.kit.names import name_in
from leadpond.kit.pagination import PageQuery
from leadpond.users.permissions import CHANNELS_WRITE

LIST_PAGE = 200
PARTS = ("key", "name", "channel", "purpose", "subject", "body", "text_body", "provider_template")
# The list's name cell: the name links to the template, its key beside it as code (as the
# segment list shows a named segment) for whoever writes the playbook's YAML.
NAME_CELL = (
    '<q-td :props="props"><a :href="props.row.href" class="text-primary">{{ props.value }}</a>'
    '<span v-if="props.value !== props.row.key" class="lp-code font-mono text-xs text-grey-7 '
    'q-ml-sm">{{ props.row.key }}</span></q-td>'
)


def templates_page(request: Request) -> RedirectResponse | None:
    """Every template of the workspace by key, shown by its name in the viewer's language."""
    with read_only() as session:
        v = visit(request, session)
        if isinstance(v, RedirectResponse):
            return v
        _ = v._
        header(v, _("Templates"), session)
        total, found = service.list_templates(
            session, v.actor.workspace_id, PageQuery(limit=LIST_PAGE)
        )
    if v.may(CHANNELS_WRITE):
        ui.button(
            _("New template"), icon="add", on_click=lambda: ui.navigate.to("/templates/new")
        ).mark("new-template").classes("lp-new-template")
    shown = _("{shown} of {total} templates") if total > LIST_PAGE else _("{total} templates")
    ui.label(shown.format(shown=LIST_PAGE, total=total)).mark("templates-total").classes(
        "lp-templates-total"
    )
    columns = (
        ("name", _("Template")),
        ("channel", _("Channel")),
        ("purpose", _("Purpose")),
        ("updated_at", _("Changed")),
    )
    rows = [
        {
            "key": t.key,
            "name": name_in(t.name, v.actor.locale) or t.key,
            "href": v.href(f"/templates/{t.key}"),
            "channel": word(_, CHANNEL_NAMES, t.channel),
            "purpose": word(_, PURPOSE_NAMES, t.purpose),
            "updated_at": local_when(t.updated_at, v.zone),
        }
        for t in found
    ]
    table = linked_table(columns, rows, link="name", row_key="key")
    table.add_slot("body-cell-name", NAME_CELL)
    table.classes("w-full").mark("templates-table").classes("lp-templates-table")
    return None


def template_page(request: Request, key: str, person: int | None = None) -> RedirectResponse | None:
    """Write or change a template, see it rendered for a person as you type, send a test.
    The preview starts with ``person`` (kept across the first save), else whoever the newest
    message of the template went to."""
    with read_only() as session:
        v = visit(request, session)
        if isinstance(v, RedirectResponse):
            return v
        _ = v._
        try:
            existing = _saved(session, v, key) if key != "new" else None
        except LeadpondError as exc:
            header(v, _("Template"), session)
            ui.label(error_words(exc, _)).classes("text-negative").mark("not-found").classes(
                "lp-not-found"
            )
            return None
        title = (name_in(existing.name, v.actor.locale) or existing.key) if existing else None
        header(v, title or _("New template"), session)
        with ui.row().classes("w-full gap-6 items-start no-wrap"):
            with ui.column().classes("w-1/2"):
                editor = TemplateEditor(v, existing)
            with ui.column().classes("w-1/2"):
                pane = PreviewPane(v, editor, session, person or _newest_recipient(session, v, key))
        editor.on_edit = pane.run
        editor.previewed = pane.chosen
        if existing is not None:
            template_messages_section(v, existing.key, session)
    pane.run()
    return None


def _newest_recipient(session: Session, v: Visit, key: str) -> int | None:
    if key == "new":
        return None
    _total, newest = messages_of_template(session, v.actor.workspace_id, key, PageQuery(limit=1))
    return newest[0].person_id if newest else None


def _saved(session: Session, v: Visit, key: str) -> TemplateRead:
    return TemplateRead.build(service.get_template(session, v.actor.workspace_id, key))


def _store(v: Visit, draft: TemplateCreate, new: bool) -> None:
    with unit_of_work() as session:
        ws = v.authorised(session, CHANNELS_WRITE).workspace_id
        if new:
            service.create_template(session, ws, draft)
        else:
            service.update_template(session, ws, draft.key, draft)


# Who found a problem: saving (the schema, the service) or the preview's render.
ProblemSource = Literal["save", "preview"]


class TemplateEditor:
    """A template's parts as inputs; save and delete go through the channels service as the
    REST API's do."""

    def __init__(self, v: Visit, existing: TemplateRead | None) -> None:
        self.v = v
        self.on_edit: Any = None
        self.previewed: Any = None  # the person the preview shows (kept across a first save)
        # Each source's problem (field, words): a preview's answer replaces only its own.
        self.problems: dict[ProblemSource, tuple[str | None, str]] = {}
        _ = v._
        start: dict[str, Any] = existing.model_dump() if existing else {}
        self.saved: dict[str, Any] | None = self._parts(start) if existing else None
        with ui.row().classes("w-full gap-4 items-end"):
            self.key = (
                ui.input(_("Key"), value=start.get("key", ""))
                .mark("template-key")
                .classes("lp-template-key")
            )
            self.key.set_enabled(existing is None)
            self.channel = (
                ui.select(
                    {c.value: word(_, CHANNEL_NAMES, c.value) for c in Channel},
                    value=start.get("channel", Channel.EMAIL.value),
                    label=_("Channel"),
                    on_change=self.edited,
                )
                .classes("min-w-48")
                .mark("template-channel")
                .classes("lp-template-channel")
            )
            self.purpose = (
                ui.select(
                    {p: word(_, PURPOSE_NAMES, p) for p in PURPOSE_NAMES},
                    value=start.get("purpose", "marketing"),
                    label=_("Purpose"),
                    on_change=self.edited,
                )
                .classes("min-w-40")
                .mark("template-purpose")
                .classes("lp-template-purpose")
            )
        self.named = start.get("name")
        names = self.named if isinstance(self.named, dict) else {"zh": self.named or ""}
        with ui.row().classes("w-full gap-4 no-wrap"):
            self.name_zh = self._name(_("Display name (Chinese)"), names, "zh")
            self.name_en = self._name(_("Display name (English)"), names, "en")
        self.subject = self._text(_("Subject"), start.get("subject"), "template-subject")
        self.body = self._area(_("Body"), start.get("body"), "template-body")
        self.hint = (
            ui.label().classes("text-gray-600 text-sm").mark("body-hint").classes("lp-body-hint")
        )
        self.text_body = self._area(_("Text part"), start.get("text_body"), "template-text")
        self.provider_template = self._text(
            _("Provider template (SMS TemplateCode, WeChat template ID)"),
            start.get("provider_template"),
            "template-provider",
        )
        self.show_hint()
        with ui.row():
            if v.may(CHANNELS_WRITE):
                ui.button(_("Save"), icon="save", on_click=self.save).mark("save-template").classes(
                    "lp-save-template"
                )
                if existing is not None:
                    ui.button(_("Delete"), icon="delete", on_click=self.confirm_delete).props(
                        "outline color=negative"
                    ).mark("delete-template").classes("lp-delete-template")
        self.problem = (
            ui.label().classes("text-negative").mark("template-error").classes("lp-template-error")
        )

    def _text(self, label: str, value: str | None, mark: str) -> ui.input:
        shown = ui.input(label, value=value or "", on_change=self.edited)
        return shown.props("debounce=300").classes(f"w-full lp-{mark}").mark(mark)

    def _name(self, label: str, names: dict[str, Any], language: str) -> ui.input:
        shown = ui.input(label, value=str(names.get(language) or ""))
        shown.props(f"maxlength={NAME_LENGTH}").classes(f"grow lp-template-name-{language}")
        return shown.mark(f"template-name-{language}")

    def name(self) -> str | dict[str, str] | None:
        """The display name as typed: one text while only the Chinese is given and the name
        was one text (as the playbook's forms keep it), else the languages given; None when
        blank (the key shows)."""
        typed = {"zh": str(self.name_zh.value or ""), "en": str(self.name_en.value or "")}
        names = {language: text for language, text in typed.items() if text.strip()}
        if not names:
            return None
        if set(names) == {"zh"} and not isinstance(self.named, dict):
            return names["zh"]
        return names

    def _area(self, label: str, value: str | None, mark: str) -> ui.textarea:
        shown = ui.textarea(label, value=value or "", on_change=self.edited)
        shown.props("debounce=300 outlined autogrow input-style='font-family: monospace'")
        return shown.classes(f"w-full lp-{mark}").mark(mark)

    def show_hint(self) -> None:
        _ = self.v._
        self.hint.text = (
            _("HTML with Jinja2, e.g. {{ person.traits.name | default('朋友') }}.")
            if self.channel.value == Channel.EMAIL
            else _(
                "A JSON object of the provider's parameters; every string in it is a template, "
                'e.g. {"name": "{{ person.traits.name }}"}.'
            )
        )

    def edited(self) -> None:
        self.show_hint()
        if self.on_edit is not None:
            self.on_edit()

    @staticmethod
    def _parts(values: dict[str, Any]) -> dict[str, Any]:
        return {k: values.get(k) or None for k in PARTS}

    def parts(self) -> dict[str, Any]:
        """The parts as typed (an empty optional part is absent)."""
        return self._parts(
            {
                "key": self.key.value,
                "name": self.name(),
                "channel": self.channel.value,
                "purpose": self.purpose.value,
                "subject": self.subject.value,
                "body": self.body.value,
                "text_body": self.text_body.value,
                "provider_template": self.provider_template.value,
            }
        )

    def draft(self) -> TemplateCreate:
        """The template as typed, checked by the API's schema (``ValidationError`` if not)."""
        parts = {k: v for k, v in self.parts().items() if v is not None}
        return TemplateCreate.model_validate({"body": "", **parts})

    def parts_to_preview(self) -> TemplateBody:
        """The parts as typed without the key (a new template previews before it has one) and
        the name (no message shows it)."""
        parts = {
            k: v for k, v in self.parts().items() if v is not None and k not in ("key", "name")
        }
        return TemplateBody.model_validate({"body": "", **parts})

    def saved_key(self) -> str | None:
        """The key of the template as saved, when the inputs still show what it sends unchanged
        (a renamed template sends the same)."""
        if self.saved is None or {**self.parts(), "name": None} != {**self.saved, "name": None}:
            return None
        return str(self.saved["key"])

    def inputs(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "name": self.name_zh,
            "name_en": self.name_en,
            "channel": self.channel,
            "purpose": self.purpose,
            "subject": self.subject,
            "body": self.body,
            "text_body": self.text_body,
            "provider_template": self.provider_template,
        }

    def mark_problem(self, field: str | None, message: str, source: ProblemSource = "save") -> None:
        """Show a problem under the form and on the input its field names; an empty message
        clears that source's problem only (a preview finishing after a refused save leaves the
        save's refusal shown). The save's wins the line under the form and an input both name."""
        self.problems.pop(source, None)
        if message:
            self.problems[source] = (field, message)
        for element in self.inputs().values():
            element.error = None
        shown = [self.problems[s] for s in ("preview", "save") if s in self.problems]
        self.problem.text = shown[-1][1] if shown else ""
        for named, said in shown:
            target = self.inputs().get(named or "")
            if target is not None:
                target.error = said

    async def save(self) -> None:
        """Create or replace the template as ``POST``/``PUT /api/v1/templates`` do, if the
        role (now) allows it; nothing is saved when a part does not compile. The write runs
        off the event loop (on SQLite it may wait for the pipeline's transaction)."""
        try:
            draft = self.draft()
        except ValidationError as exc:
            self.mark_problem(*self._problem(exc))
            return
        try:
            await run.io_bound(_store, self.v, draft, self.saved is None)
        except LeadpondError as exc:
            self.mark_problem(exc.details.get("field"), error_words(exc, self.v._))
            notify_error(exc)
            return
        if self.saved is None:
            shown = self.previewed() if self.previewed is not None else None
            ui.navigate.to(f"/templates/{draft.key}" + (f"?person={shown}" if shown else ""))
            return
        self.saved = self.parts()
        self.named = self.saved["name"]
        self.mark_problem(None, "")
        ui.notify(self.v._("Saved"), type="positive")

    def _problem(self, exc: ValidationError) -> tuple[str | None, str]:
        """A schema error's field and words; the name's (too long, as the inputs cap it) on the
        language input that holds the long text."""
        field, said = validation_problem(self.v._, exc)
        if field != "name":
            return field, said
        _ = self.v._
        long_en = len(str(self.name_en.value or "")) > NAME_LENGTH
        label = _("Display name (English)") if long_en else _("Display name (Chinese)")
        too_long = _("Too long (at most {max_length} characters)").format(max_length=NAME_LENGTH)
        return ("name_en" if long_en else "name"), _("{place}: {problem}").format(
            place=label, problem=too_long
        )

    def confirm_delete(self) -> None:
        _ = self.v._
        with ui.dialog() as dialog, ui.card():
            ui.label(_("Delete template {key}?").format(key=self.key.value))
            with ui.row():
                ui.button(_("Delete"), on_click=lambda: self.delete(dialog)).props(
                    "color=negative"
                ).mark("confirm-delete").classes("lp-confirm-delete")
                ui.button(_("Cancel"), on_click=dialog.close).props("flat")
        dialog.open()

    def delete(self, dialog: ui.dialog) -> None:
        """Delete as ``DELETE /api/v1/templates/{key}`` does: refused for a template that
        messages were written with."""
        dialog.close()
        try:
            with unit_of_work() as session:
                actor = self.v.authorised(session, CHANNELS_WRITE)
                service.delete_template(session, actor.workspace_id, str(self.key.value))
        except LeadpondError as exc:
            self.mark_problem(None, error_words(exc, self.v._))
            notify_error(exc)
            return
        ui.navigate.to("/templates")
