"""The playbook: stages, tags, score models, key events and personas, as tables and as YAML;
validate before saving, apply with or without the backfill of history."""

from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import ui

from leadpond.console.pages.frame import Visit, header, notify_error, visit
from leadpond.db.engine import read_only, unit_of_work
from leadpond.kit.errors import LeadpondError
from leadpond.playbooks import service as playbooks
from leadpond.users.service import Role

DENSE = "flat bordered dense hide-pagination :pagination='{rowsPerPage: 0}'"


def playbook_page(request: Request) -> RedirectResponse | None:
    """The workspace's marketing logic, readable and editable."""
    v = visit(request)
    if isinstance(v, RedirectResponse):
        return v
    _ = v._
    header(v, _("Playbook"))
    try:
        with read_only() as session:
            text = playbooks.export_playbook(session, v.actor.workspace_id)
    except LeadpondError:
        text = playbooks.default_source()
    with ui.tabs() as tabs:
        tables_tab = ui.tab(_("Overview"))
        yaml_tab = ui.tab("YAML")
    with ui.tab_panels(tabs, value=tables_tab).classes("w-full"):
        with ui.tab_panel(tables_tab):
            overview = ui.column().classes("w-full")
        with ui.tab_panel(yaml_tab):
            editor = (
                ui.textarea(value=text)
                .props("outlined autogrow input-style='font-family: monospace'")
                .classes("w-full lp-playbook-yaml")
            )
            problems = ui.column()
            with ui.row().classes("items-center"):
                ui.button(_("Validate"), icon="check", on_click=lambda: check()).classes(
                    "lp-validate"
                )
                if v.can(Role.MARKETER):
                    backfill = ui.checkbox(_("Also replay history (backfill)"))
                    ui.button(_("Save"), icon="save", on_click=lambda: save(backfill.value))

    def check() -> bool:
        problems.clear()
        try:
            valid = playbooks.validate_playbook(editor.value or "")
        except LeadpondError as exc:
            with problems:
                for error in exc.details.get("errors", [{"message": exc.message}]):
                    where = f"{_('line')} {error['line']}: " if error.get("line") else ""
                    ui.label(f"{where}{error.get('path', '')} {error['message']}").classes(
                        "text-negative lp-problem"
                    )
            return False
        with problems:
            ui.label(_("The playbook is valid.")).classes("text-positive lp-valid")
        _overview(v, overview, valid.document)
        return True

    def save(replay: bool) -> None:
        if not check():
            return
        try:
            actor = v.still_valid()
            with unit_of_work() as session:
                result = playbooks.apply_playbook(
                    session,
                    actor.workspace_id,
                    editor.value or "",
                    actor=f"session:{actor.email}",
                    replay_history=replay,
                )
        except LeadpondError as exc:
            notify_error(exc)
            return
        message = _("Saved as version {version}").format(version=result.version)
        if result.backfill is not None:
            message += " · " + _("{people} people replayed").format(people=result.backfill.people)
        ui.notify(message, type="positive")

    check()
    return None


def _overview(v: Visit, box: ui.column, document: dict[str, Any]) -> None:
    _ = v._
    box.clear()
    sections = (
        ("stages", _("Stages"), ("key", "name", "phase")),
        ("tag_categories", _("Tag categories"), ("key", "name")),
        ("tag_rules", _("Tag rules"), ("id", "on", "add")),
        ("score_models", _("Score models"), ("key", "name", "rules")),
        ("key_events", _("Key events"), ("key", "name", "if", "on")),
        ("personas", _("Personas"), ("key", "name", "if")),
    )
    with box:
        for field, title, columns in sections:
            items = document.get(field) or []
            ui.label(f"{title} ({len(items)})").classes("text-lg")
            rows = [
                {c: _cell(item.get(c)) for c in columns} for item in items if isinstance(item, dict)
            ]
            ui.table(
                columns=[{"name": c, "label": c, "field": c, "align": "left"} for c in columns],
                rows=rows,
            ).props(DENSE).classes("w-full")


def _cell(value: Any) -> str:
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return f"{len(value)} ×"
    return "" if value is None else str(value)[:120]
