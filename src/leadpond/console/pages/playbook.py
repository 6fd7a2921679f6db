"""The playbook: stages, tags, score models, stage rules, key events and personas as forms and
as YAML (one document: the forms write the YAML, the YAML fills the forms); validate before
saving, apply with or without the backfill of history."""

from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import ui

from leadpond.console.pages.errors_words import located_problem, playbook_problems
from leadpond.console.pages.frame import Visit, header, notify_error, visit
from leadpond.console.pages.job_progress import follow_replay
from leadpond.console.pages.playbook_sections import MONOSPACE, PlaybookForms
from leadpond.console.playbook_forms import PlaybookDraft, SnippetError
from leadpond.db.engine import read_only, unit_of_work
from leadpond.kit.errors import LeadpondError
from leadpond.playbooks import service as playbooks
from leadpond.playbooks.tasks import enqueue_replay
from leadpond.users.permissions import PLAYBOOKS_WRITE


def playbook_page(request: Request) -> RedirectResponse | None:
    """The workspace's marketing logic, readable by everyone, editable by marketers."""
    with read_only() as session:
        v = visit(request, session)
        if isinstance(v, RedirectResponse):
            return v
        header(v, v._("Playbook"), session)
        ui.link(v._("Version history"), "/playbook/history").mark("playbook-history")
        try:
            text = playbooks.export_playbook(session, v.actor.workspace_id)
        except LeadpondError:
            text = playbooks.default_source()
    PlaybookEditor(v, text).start()
    return None


class PlaybookEditor:
    """The playbook as forms and as YAML, kept in step; validate, and save (with a replay)."""

    def __init__(self, v: Visit, text: str) -> None:
        self.v = v
        self.editable = v.may(PLAYBOOKS_WRITE)
        # ``synced`` is the YAML the forms' draft was last read from or written to; the editor
        # differs from it only after typing on the YAML tab, the draft only after form edits.
        self.synced = text
        self.forms_changed = False
        if not self.editable:
            ui.label(v._("Read only: marketers and admins change the playbook.")).classes(
                "text-gray-600"
            ).mark("read-only-note")
        self._tabs(text)
        self.problems = ui.column()
        self._buttons()

    def _tabs(self, text: str) -> None:
        _ = self.v._
        with ui.tabs() as self.tabs:
            forms_tab = ui.tab("forms", _("Forms")).mark("forms-tab")
            yaml_tab = ui.tab("yaml", "YAML").mark("yaml-tab")
        with ui.tab_panels(self.tabs, value=forms_tab).classes("w-full"):
            with ui.tab_panel(forms_tab):
                self.unreadable = ui.label().classes("text-negative lp-unreadable")
                self.unreadable.mark("unreadable")
                self.forms_box = ui.column().classes("w-full")
                with self.forms_box:
                    self.forms = PlaybookForms(self.v, self.editable, self.on_form_edit)
                    self.forms.build()
            with ui.tab_panel(yaml_tab):
                self.editor = (
                    ui.textarea(value=text)
                    .props(f"outlined autogrow {MONOSPACE}")
                    .classes("w-full lp-playbook-yaml")
                    .mark("playbook-yaml")
                )
                if not self.editable:
                    self.editor.props("readonly")

    def _buttons(self) -> None:
        _ = self.v._
        with ui.row().classes("items-center"):
            ui.button(_("Validate"), icon="check", on_click=self.check).classes("lp-validate").mark(
                "validate"
            )
            if self.editable:
                backfill = ui.checkbox(_("Also replay history (backfill)")).mark("backfill")
                ui.button(
                    _("Save"), icon="save", on_click=lambda: self.save(backfill.value)
                ).classes("lp-save-playbook").mark("save")

    def start(self) -> None:
        """Fill the forms from the YAML, keep them in step on tab changes, and validate."""
        self.tabs.on_value_change(lambda: self.sync())
        self.load_forms(self.synced)
        self.check()

    def on_form_edit(self) -> None:
        self.forms_changed = True

    def load_forms(self, source: str) -> None:
        self.synced = source
        try:
            draft = PlaybookDraft.from_yaml(source)
        except SnippetError as exc:
            message = self.v._("The YAML cannot be shown as forms; fix it on the YAML tab: {error}")
            self.unreadable.text = message.format(error=exc.said(self.v._))
            self.forms_box.set_visibility(False)
            self.forms.draft = PlaybookDraft({})
            return
        draft.translate = self.v._
        self.unreadable.text = ""
        self.forms_box.set_visibility(True)
        self.forms.show(draft)

    def sync(self) -> str:
        """The one current text: form edits written to the YAML, or YAML edits read into forms."""
        if self.forms_changed:
            self.editor.value = self.synced = self.forms.draft.to_yaml()
            self.forms_changed = False
        elif (self.editor.value or "") != self.synced:
            self.load_forms(self.editor.value or "")
        return str(self.editor.value or "")

    def show_problems(self, errors: list[dict[str, Any]]) -> None:
        _ = self.v._
        with self.problems:
            for error in errors:
                ui.label(located_problem(error, _)).classes("text-negative lp-problem")

    def check(self) -> bool:
        source = self.sync()
        self.problems.clear()
        if self.forms.draft.snippet_problems:
            errors = self.forms.draft.problems()
            self.show_problems(errors)
            self.forms.mark_errors(errors)
            return False
        try:
            playbooks.validate_playbook(source)
        except LeadpondError as exc:
            errors = exc.details.get("errors", [{"message": exc.message}])
            errors = playbook_problems(errors, self.v._)
            self.show_problems(errors)
            self.forms.mark_errors(errors)
            return False
        self.forms.mark_errors([])
        with self.problems:
            ui.label(self.v._("The playbook is valid.")).classes("text-positive lp-valid")
        return True

    def save(self, replay: bool) -> None:
        """Apply the playbook as the REST API does, if the role (now) allows it."""
        if not self.check():
            return
        try:
            with unit_of_work() as session:
                actor = self.v.authorised(session, PLAYBOOKS_WRITE)
                result = playbooks.apply_playbook(
                    session,
                    actor.workspace_id,
                    self.editor.value or "",
                    actor=f"session:{actor.email}",
                )
                # Queued with the new version: the worker replays it (minutes at scale).
                job = enqueue_replay(session, actor.workspace_id) if replay else None
        except LeadpondError as exc:
            notify_error(exc)
            return
        message = self.v._("Saved as version {version}").format(version=result.version)
        ui.notify(message, type="positive")
        with self.problems:
            ui.label(message).classes("text-positive lp-saved").mark("saved")
            if job is not None:
                follow_replay(self.v, job.id)
