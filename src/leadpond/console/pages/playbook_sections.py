"""The playbook's forms: each section of the draft as cards of inputs, read-only for viewers.

The page owns the draft's life (YAML ⇄ forms, validate, save); this module binds inputs to
``console.playbook_forms`` and marks the inputs the validator's errors point at.
"""

from collections.abc import Callable
from typing import Any

from nicegui import ui
from nicegui.elements.mixins.validation_element import ValidationElement

from leadpond.conditions.source import Path, format_path
from leadpond.console.pages.frame import Visit
from leadpond.console.playbook_forms import (
    SECTIONS,
    STAGE_RULES,
    STAGES,
    FormField,
    PlaybookDraft,
    Section,
    input_for,
    shown,
)

MONOSPACE = "input-style='font-family: monospace'"


class PlaybookForms:
    """Every section of the playbook as forms; edits go straight into the draft."""

    def __init__(self, v: Visit, editable: bool, on_edit: Callable[[], None]) -> None:
        self.v = v
        self.editable = editable
        self.on_edit = on_edit
        self.draft = PlaybookDraft({})
        self.inputs: dict[str, ValidationElement[Any]] = {}
        self.boxes: dict[str, ui.column] = {}

    def build(self) -> None:
        """The section tabs, empty until ``show``."""
        _ = self.v._
        with ui.tabs().props("dense align=left").classes("w-full") as tabs:
            tabs_of = {s.key: ui.tab(s.key, _(s.title)).mark(f"section-{s.key}") for s in SECTIONS}
        with ui.tab_panels(tabs, value=tabs_of[SECTIONS[0].key]).classes("w-full"):
            for section in SECTIONS:
                with ui.tab_panel(tabs_of[section.key]):
                    self.boxes[section.key] = ui.column().classes("w-full gap-2")

    def show(self, draft: PlaybookDraft) -> None:
        """Draw every section of this draft."""
        self.draft = draft
        self.inputs.clear()
        for section in SECTIONS:
            self.render(section)

    def render(self, section: Section) -> None:
        """Redraw one top-level section (after rows were added, removed or moved)."""
        prefix = f"{section.key}["
        for path in [p for p in self.inputs if p.startswith(prefix)]:
            del self.inputs[path]
        box = self.boxes[section.key]
        box.clear()
        with box:
            self._rows(section, section, ())

    def mark_errors(self, errors: list[dict[str, Any]]) -> None:
        """Show each error on the input it is about (or the nearest one above it)."""
        for element in self.inputs.values():
            element.error = None
        for error in errors:
            found = input_for(str(error.get("path", "")), self.inputs)
            if found is not None:
                self.inputs[found].error = str(error.get("message", ""))

    def _rows(self, top: Section, section: Section, parent: Path) -> None:
        _ = self.v._
        list_path = (*parent, section.key)
        rows = self.draft.rows(list_path)
        ui.label(f"{_(section.title)} ({len(rows)})").classes(
            "text-lg" if not parent else "text-base font-medium"
        )
        for index, item in rows:
            item_path = (*list_path, index)
            with ui.card().classes("w-full p-2").mark(f"row-{format_path(item_path)}"):
                with ui.row().classes("items-start gap-2 w-full"):
                    for form_field in section.fields:
                        self._input(top, section, item_path, item, form_field)
                    if self.editable:
                        ui.space()
                        self._row_buttons(top, list_path, index, len(rows))
                for child in section.children:
                    with ui.column().classes("w-full pl-4 gap-1"):
                        self._rows(top, child, item_path)
        if self.editable:
            ui.button(
                _("Add"), icon="add", on_click=lambda: self._add(top, section, list_path)
            ).props("outline dense").mark(f"add-{format_path(list_path)}")

    def _row_buttons(self, top: Section, list_path: Path, index: int, count: int) -> None:
        _ = self.v._
        where = format_path((*list_path, index))
        with ui.row().classes("gap-0"):
            up = ui.button(
                icon="arrow_upward", on_click=lambda: self._move(top, list_path, index, -1)
            )
            up.props("flat dense round").tooltip(_("Move up")).mark(f"up-{where}")
            up.set_enabled(index > 0)
            down = ui.button(
                icon="arrow_downward", on_click=lambda: self._move(top, list_path, index, 1)
            )
            down.props("flat dense round").tooltip(_("Move down")).mark(f"down-{where}")
            down.set_enabled(index < count - 1)
            ui.button(icon="delete", on_click=lambda: self._remove(top, list_path, index)).props(
                "flat dense round color=negative"
            ).tooltip(_("Remove")).mark(f"remove-{where}")

    def _input(
        self,
        top: Section,
        section: Section,
        item_path: Path,
        item: dict[str, Any],
        form_field: FormField,
    ) -> None:
        _ = self.v._
        label = _(form_field.label)
        value = shown(item, form_field)
        path = format_path((*item_path, *form_field.parts))

        def changed(event: Any) -> None:
            self.draft.edit(item_path, section, form_field, event.value)
            if isinstance(element, ValidationElement):
                element.error = self.draft.snippet_problems.get(path)
            if top is STAGES:
                self.render(STAGE_RULES)
            self.on_edit()

        handler = changed if self.editable else None
        element: ui.element
        if form_field.kind == "flag":
            element = ui.checkbox(label, value=value, on_change=handler)
            element.set_enabled(self.editable)
        elif form_field.kind == "number":
            element = ui.number(label, value=value, on_change=handler).classes("w-28")
        elif form_field.kind == "stage":
            options = list(dict.fromkeys([*self.draft.stage_keys(), value]))
            element = ui.select(options, label=label, value=value, on_change=handler)
            element.classes("w-40").set_enabled(self.editable)
        elif form_field.kind == "yaml":
            element = ui.textarea(label, value=value, on_change=handler).props(
                f"outlined autogrow dense {MONOSPACE}"
            )
            element.classes("grow basis-80")
        else:
            wide = form_field.kind == "words" or form_field.parts[0] in ("description", "reason")
            element = ui.input(label, value=value, on_change=handler).classes(
                "w-72" if wide else "w-44"
            )
        if not self.editable and form_field.kind not in ("flag", "stage"):
            element.props("readonly")
        element.props["data-path"] = path
        element.mark(f"field-{path}")
        if isinstance(element, ValidationElement):
            # Errors come from the draft and the validator, not from NiceGUI's own checks.
            self.inputs[path] = element.without_auto_validation()

    def _add(self, top: Section, section: Section, list_path: Path) -> None:
        self.draft.add(list_path, section)
        self._changed(top)

    def _remove(self, top: Section, list_path: Path, index: int) -> None:
        self.draft.remove(list_path, index)
        self._changed(top)

    def _move(self, top: Section, list_path: Path, index: int, offset: int) -> None:
        self.draft.move(list_path, index, offset)
        self._changed(top)

    def _changed(self, top: Section) -> None:
        self.render(top)
        if top is STAGES:
            self.render(STAGE_RULES)
        self.on_edit()
