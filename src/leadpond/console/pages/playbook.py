"""The playbook: stages, tags, score models, stage rules, key events and personas as forms and
as YAML (one document: the forms write the YAML, the YAML fills the forms); validate before
saving, apply with or without the backfill of history."""

from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import ui

from leadpond.console.pages.frame import header, notify_error, visit
from leadpond.console.pages.job_progress import follow_replay
from leadpond.console.pages.playbook_sections import MONOSPACE, PlaybookForms
from leadpond.console.playbook_forms import PlaybookDraft, SnippetError
from leadpond.db.engine import read_only, unit_of_work
from leadpond.kit.errors import LeadpondError
from leadpond.playbooks import service as playbooks
from leadpond.playbooks.tasks import enqueue_replay
from leadpond.users.service import Role


def playbook_page(request: Request) -> RedirectResponse | None:
    """The workspace's marketing logic, readable by everyone, editable by marketers."""
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
    editable = v.can(Role.MARKETER)
    # ``synced`` is the YAML the forms' draft was last read from or written to; the editor
    # differs from it only after typing on the YAML tab, the draft only after form edits.
    state: dict[str, Any] = {"synced": text, "forms_changed": False}
    if not editable:
        ui.label(_("Read only: marketers and admins change the playbook.")).classes(
            "text-gray-600"
        ).mark("read-only-note")

    def forms_changed() -> None:
        state["forms_changed"] = True

    with ui.tabs() as tabs:
        forms_tab = ui.tab("forms", _("Forms")).mark("forms-tab")
        yaml_tab = ui.tab("yaml", "YAML").mark("yaml-tab")
    with ui.tab_panels(tabs, value=forms_tab).classes("w-full"):
        with ui.tab_panel(forms_tab):
            unreadable = ui.label().classes("text-negative lp-unreadable").mark("unreadable")
            forms_box = ui.column().classes("w-full")
            with forms_box:
                forms = PlaybookForms(v, editable, forms_changed)
                forms.build()
        with ui.tab_panel(yaml_tab):
            editor = (
                ui.textarea(value=text)
                .props(f"outlined autogrow {MONOSPACE}")
                .classes("w-full lp-playbook-yaml")
                .mark("playbook-yaml")
            )
            if not editable:
                editor.props("readonly")
    problems = ui.column()
    with ui.row().classes("items-center"):
        ui.button(_("Validate"), icon="check", on_click=lambda: check()).classes(
            "lp-validate"
        ).mark("validate")
        if editable:
            backfill = ui.checkbox(_("Also replay history (backfill)")).mark("backfill")
            ui.button(_("Save"), icon="save", on_click=lambda: save(backfill.value)).classes(
                "lp-save-playbook"
            ).mark("save")

    def load_forms(source: str) -> None:
        state["synced"] = source
        try:
            draft = PlaybookDraft.from_yaml(source)
        except SnippetError as exc:
            message = _("The YAML cannot be shown as forms; fix it on the YAML tab: {error}")
            unreadable.text = message.format(error=str(exc))
            forms_box.set_visibility(False)
            forms.draft = PlaybookDraft({})
            return
        unreadable.text = ""
        forms_box.set_visibility(True)
        forms.show(draft)

    def sync() -> str:
        """The one current text: form edits written to the YAML, or YAML edits read into forms."""
        if state["forms_changed"]:
            editor.value = state["synced"] = forms.draft.to_yaml()
            state["forms_changed"] = False
        elif (editor.value or "") != state["synced"]:
            load_forms(editor.value or "")
        return str(editor.value or "")

    def show_problems(errors: list[dict[str, Any]]) -> None:
        with problems:
            for error in errors:
                where = f"{_('line')} {error['line']}: " if error.get("line") else ""
                ui.label(f"{where}{error.get('path', '')} {error['message']}").classes(
                    "text-negative lp-problem"
                )

    def check() -> bool:
        source = sync()
        problems.clear()
        if forms.draft.snippet_problems:
            errors = forms.draft.problems()
            show_problems(errors)
            forms.mark_errors(errors)
            return False
        try:
            playbooks.validate_playbook(source)
        except LeadpondError as exc:
            errors = exc.details.get("errors", [{"message": exc.message}])
            show_problems(errors)
            forms.mark_errors(errors)
            return False
        forms.mark_errors([])
        with problems:
            ui.label(_("The playbook is valid.")).classes("text-positive lp-valid")
        return True

    def save(replay: bool) -> None:
        if not check():
            return
        try:
            actor = v.still_valid()
            with unit_of_work() as session:
                result = playbooks.apply_playbook(
                    session, actor.workspace_id, editor.value or "", actor=f"session:{actor.email}"
                )
                # Queued with the new version: the worker replays it (minutes at scale).
                job = enqueue_replay(session, actor.workspace_id) if replay else None
        except LeadpondError as exc:
            notify_error(exc)
            return
        message = _("Saved as version {version}").format(version=result.version)
        ui.notify(message, type="positive")
        with problems:
            ui.label(message).classes("text-positive lp-saved").mark("saved")
            if job is not None:
                follow_replay(v, job.id)

    tabs.on_value_change(lambda: sync())
    load_forms(text)
    check()
    return None
