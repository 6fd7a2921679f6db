"""The form builder: fields (add, remove, reorder; labels in both languages, the trait each
fills, required, options), consent wording, progressive profiling, success or redirect, and a
preview of the page as a visitor sees it. Saving goes through the forms service as the REST
API's ``POST``/``PUT /api/v1/forms`` do."""

import uuid
from typing import Any

from nicegui import run, ui
from pydantic import ValidationError

from leadpond.console.pages.forms_words import refusal_problem, schema_problem
from leadpond.console.pages.frame import Visit, notify_error
from leadpond.console.pages.words import EVENT_NAMES
from leadpond.db.engine import unit_of_work
from leadpond.engage import forms
from leadpond.engage.forms_render import RenderContext, render_form
from leadpond.engage.forms_schemas import FormCreate, FormRead
from leadpond.engage.models import Form
from leadpond.kit.errors import LeadpondError
from leadpond.users.permissions import FORMS_WRITE

FIELD_TYPES = {
    "text": "Text",
    "mobile": "Mobile",
    "email": "Email",
    "company": "Company",
    "title": "Job title",
    "industry": "Industry",
    "select": "Choice",
    "checkbox": "Checkbox",
    "textarea": "Long text",
    "hidden": "Hidden (from the URL)",
}
CONSENT_CHANNELS = {"email": "Email", "sms": "SMS", "wechat": "WeChat", "wecom": "WeCom"}
NEW_FORM: dict[str, Any] = {
    "key": "",
    "name_zh": "",
    "name_en": "",
    "status": "draft",
    "fields": [
        {
            "key": "name",
            "type": "text",
            "label_zh": "姓名",
            "label_en": "Name",
            "maps_to": "name",
            "required": True,
        },
        {
            "key": "mobile",
            "type": "mobile",
            "label_zh": "手机",
            "label_en": "Mobile",
            "required": True,
        },
    ],
    "consents": [],
    "min_fill_seconds": 3,
    "posts_per_minute": 5,
    "dedupe_hours": 24,
}


def _options_text(options: list[dict[str, str]]) -> str:
    return "\n".join(
        "|".join([o["value"], o.get("label_zh", ""), o.get("label_en", "")]) for o in options
    )


def _options(text: str) -> list[dict[str, str]]:
    """``value|中文|English`` per line."""
    found = []
    for line in text.splitlines():
        parts = [p.strip() for p in line.split("|")]
        if parts and parts[0]:
            zh = parts[1] if len(parts) > 1 and parts[1] else parts[0]
            found.append(
                {"value": parts[0], "label_zh": zh, "label_en": parts[2] if len(parts) > 2 else ""}
            )
    return found


def _store(v: Visit, body: FormCreate, new: bool) -> None:
    with unit_of_work() as session:
        workspace_id = v.authorised(session, FORMS_WRITE).workspace_id
        if new:
            forms.create_form(session, workspace_id, body, v.actor.name)
        else:
            forms.update_form(session, workspace_id, body.key, body)


class FormBuilder:
    """The form as inputs; every change re-renders the preview."""

    def __init__(self, v: Visit, existing: FormRead | None) -> None:
        self.v = v
        self.new = existing is None
        self.doc: dict[str, Any] = (
            existing.model_dump(mode="json")
            if existing
            else {**NEW_FORM, "fields": [dict(f) for f in NEW_FORM["fields"]]}
        )
        for field in self.doc["fields"]:
            field["options_text"] = _options_text(field.get("options") or [])
        _ = v._
        with ui.row().classes("w-full gap-6 items-start no-wrap"):
            with ui.column().classes("w-3/5"):
                self._head()
                ui.label(_("Fields")).classes("text-lg font-semibold mt-2")
                self.fields_view = ui.refreshable(self._fields)
                self.fields_view()
                ui.button(_("Add field"), icon="add", on_click=self.add_field).props(
                    "outline"
                ).mark("add-field").classes("lp-add-field")
                ui.label(_("Consent checkboxes")).classes("text-lg font-semibold mt-2")
                self.consents_view = ui.refreshable(self._consents)
                self.consents_view()
                ui.button(_("Add consent"), icon="add", on_click=self.add_consent).props(
                    "outline"
                ).mark("add-consent")
                self._behaviour()
                with ui.row():
                    if v.may(FORMS_WRITE):
                        ui.button(_("Save"), icon="save", on_click=self.save).mark(
                            "save-form"
                        ).classes("lp-save-form")
                self.problem = ui.label().classes("text-negative lp-form-error").mark("form-error")
            with ui.column().classes("w-2/5"):
                ui.label(_("Preview")).classes("text-lg font-semibold")
                self.lang = ui.toggle(
                    {"zh": "中文", "en": "English"}, value="zh", on_change=self.preview
                )
                self.frame = (
                    ui.element("iframe").classes("w-full lp-form-preview").mark("form-preview")
                )
                self.frame.style("height: 760px; border: 1px solid #d0d7de; border-radius: 12px")
        self.preview()

    def _input(self, label: str, target: dict[str, Any], name: str, mark: str = "") -> ui.input:
        shown = ui.input(
            label,
            value=target.get(name) or "",
            on_change=lambda e: self._set(target, name, e.value),
        )
        if mark:
            shown.mark(mark).classes(f"lp-{mark}")
        return shown

    def _conversion_event(self) -> ui.select:
        """The event a post also sends: a standard one picked by its words, or any name typed."""
        _ = self.v._
        current = str(self.doc.get("conversion_event") or "")
        options = {"": _("No event")} | {k: _(words) for k, words in EVENT_NAMES.items()}
        return ui.select(
            options | ({current: current} if current not in options else {}),
            value=current,
            label=_("Also send an event"),
            with_input=True,
            new_value_mode="add-unique",
            on_change=lambda e: self._set(self.doc, "conversion_event", e.value or None),
        ).mark("form-conversion-event")

    def _set(self, target: dict[str, Any], name: str, value: Any) -> None:
        target[name] = value
        self.preview()

    def _head(self) -> None:
        _ = self.v._
        with ui.row().classes("w-full gap-4 items-end"):
            key = self._input(_("Key"), self.doc, "key", "form-key")
            key.set_enabled(self.new)
            self._input(_("Name (Chinese)"), self.doc, "name_zh", "form-name-zh")
            self._input(_("Name (English)"), self.doc, "name_en", "form-name-en")
            ui.select(
                {"draft": _("Draft"), "published": _("Published")},
                value=self.doc["status"],
                label=_("Status"),
                on_change=lambda e: self._set(self.doc, "status", e.value),
            ).classes("min-w-32 lp-form-status").mark("form-status")
        with ui.row().classes("w-full gap-4"):
            self._input(_("Introduction (Chinese)"), self.doc, "intro_zh").classes("grow")
            self._input(_("Introduction (English)"), self.doc, "intro_en").classes("grow")

    def _fields(self) -> None:
        _ = self.v._
        fields = self.doc["fields"]
        for index, field in enumerate(fields):
            with ui.card().classes("w-full lp-field-card").mark(f"field-{index}"):
                with ui.row().classes("w-full gap-2 items-end"):
                    self._input(_("Field key"), field, "key", f"field-key-{index}").classes("w-28")
                    ui.select(
                        {k: _(label) for k, label in FIELD_TYPES.items()},
                        value=field.get("type", "text"),
                        label=_("Type"),
                        on_change=lambda e, f=field: self._retype(f, e.value),
                    ).classes("min-w-36").mark(f"field-type-{index}")
                    self._input(_("Label (Chinese)"), field, "label_zh", f"field-label-zh-{index}")
                    self._input(_("Label (English)"), field, "label_en", f"field-label-en-{index}")
                    self._input(_("Fills trait"), field, "maps_to", f"field-trait-{index}").classes(
                        "w-28"
                    )
                    ui.checkbox(
                        _("Required"),
                        value=bool(field.get("required")),
                        on_change=lambda e, f=field: self._set(f, "required", e.value),
                    ).mark(f"field-required-{index}")
                    ui.button(icon="arrow_upward", on_click=lambda i=index: self.move(i, -1)).props(
                        "flat dense"
                    ).mark(f"field-up-{index}")
                    ui.button(
                        icon="arrow_downward", on_click=lambda i=index: self.move(i, 1)
                    ).props("flat dense").mark(f"field-down-{index}")
                    ui.button(icon="delete", on_click=lambda i=index: self.remove(i)).props(
                        "flat dense color=negative"
                    ).mark(f"field-remove-{index}")
                if field.get("type") == "select":
                    ui.textarea(
                        _("Options, one a line: value|中文|English"),
                        value=field.get("options_text", ""),
                        on_change=lambda e, f=field: self._set(f, "options_text", e.value),
                    ).classes("w-full").mark(f"field-options-{index}")

    def _retype(self, field: dict[str, Any], kind: str) -> None:
        field["type"] = kind
        self.fields_view.refresh()
        self.preview()

    def _consents(self) -> None:
        _ = self.v._
        for index, consent in enumerate(self.doc["consents"]):
            with ui.card().classes("w-full").mark(f"consent-{index}"):
                with ui.row().classes("w-full gap-2 items-end"):
                    self._input(_("Key"), consent, "key").classes("w-28")
                    ui.select(
                        {k: _(label) for k, label in CONSENT_CHANNELS.items()},
                        value=consent.get("channel", "email"),
                        label=_("Channel"),
                        on_change=lambda e, c=consent: self._set(c, "channel", e.value),
                    ).classes("min-w-28")
                    ui.checkbox(
                        _("Required"),
                        value=bool(consent.get("required")),
                        on_change=lambda e, c=consent: self._set(c, "required", e.value),
                    )
                    ui.button(icon="delete", on_click=lambda i=index: self.remove_consent(i)).props(
                        "flat dense color=negative"
                    )
                self._input(_("Wording shown (Chinese)"), consent, "wording_zh").classes("w-full")
                self._input(_("Wording shown (English)"), consent, "wording_en").classes("w-full")

    def _number(self, label: str, name: str, mark: str) -> None:
        ui.number(
            label,
            value=self.doc.get(name),
            format="%d",
            on_change=lambda e: self._set(self.doc, name, int(e.value) if e.value else None),
        ).classes("w-44").mark(mark)

    def _behaviour(self) -> None:
        _ = self.v._
        ui.label(_("After the post")).classes("text-lg font-semibold mt-2")
        with ui.row().classes("w-full gap-4"):
            self._input(
                _("Success message (Chinese)"), self.doc, "success_zh", "form-success-zh"
            ).classes("grow")
            self._input(_("Success message (English)"), self.doc, "success_en").classes("grow")
        with ui.row().classes("w-full gap-4"):
            self._input(
                _("Or redirect to (http/https)"), self.doc, "redirect_url", "form-redirect"
            ).classes("grow")
            self._conversion_event().classes("grow")
        ui.label(_("Progressive profiling and protection")).classes("text-lg font-semibold mt-2")
        with ui.row().classes("w-full gap-4"):
            self._number(_("Ask at most (empty: all)"), "progressive_max", "form-progressive")
            self._number(_("Minimum fill seconds"), "min_fill_seconds", "form-min-fill")
            self._number(_("Posts per minute per address"), "posts_per_minute", "form-rate")
            self._number(_("Same post counted once within hours"), "dedupe_hours", "form-dedupe")

    def add_field(self) -> None:
        number = len(self.doc["fields"]) + 1
        self.doc["fields"].append(
            {"key": f"field_{number}", "type": "text", "label_zh": "", "label_en": ""}
        )
        self.fields_view.refresh()
        self.preview()

    def move(self, index: int, step: int) -> None:
        fields = self.doc["fields"]
        other = index + step
        if 0 <= other < len(fields):
            fields[index], fields[other] = fields[other], fields[index]
            self.fields_view.refresh()
            self.preview()

    def remove(self, index: int) -> None:
        del self.doc["fields"][index]
        self.fields_view.refresh()
        self.preview()

    def add_consent(self) -> None:
        number = len(self.doc["consents"]) + 1
        self.doc["consents"].append(
            {"key": f"consent_{number}", "channel": "email", "wording_zh": ""}
        )
        self.consents_view.refresh()

    def remove_consent(self, index: int) -> None:
        del self.doc["consents"][index]
        self.consents_view.refresh()
        self.preview()

    def body(self) -> FormCreate:
        """The form as typed, checked by the API's schema (``ValidationError`` if not)."""
        fields = []
        for field in self.doc["fields"]:
            kept = {k: v for k, v in field.items() if k != "options_text" and v not in ("", None)}
            kept["options"] = (
                _options(field.get("options_text", "")) if field.get("type") == "select" else []
            )
            fields.append(kept)
        consents = [
            {k: v for k, v in c.items() if v not in ("", None)} for c in self.doc["consents"]
        ]
        names = set(FormCreate.model_fields) - {"fields", "consents"}
        document = {k: v for k, v in self.doc.items() if k in names and v not in ("", None)}
        return FormCreate.model_validate({**document, "fields": fields, "consents": consents})

    def preview(self) -> None:
        """The page a visitor would see now (nothing is saved; the preview cannot post)."""
        try:
            body = self.body()
        except ValidationError:
            return
        form = Form(
            workspace_id=uuid.uuid4(), key=body.key, **body.model_dump(mode="json", exclude={"key"})
        )
        context = RenderContext(action="#", token="", anonymous_id="")
        page = render_form(form, lang=str(self.lang.value), known_traits={}, context=context)
        self.frame.props["srcdoc"] = page
        self.frame.update()

    async def save(self) -> None:
        _ = self.v._
        try:
            body = self.body()
        except ValidationError as exc:
            self.problem.text = schema_problem(_, dict(exc.errors()[0]))
            return
        try:
            await run.io_bound(_store, self.v, body, self.new)
        except LeadpondError as exc:
            self.problem.text = refusal_problem(_, exc)
            notify_error(exc)
            return
        self.problem.text = ""
        ui.notify(_("Saved"), type="positive")
        if self.new:
            ui.navigate.to(f"/forms/{body.key}")
