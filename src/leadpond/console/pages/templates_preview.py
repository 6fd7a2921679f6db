"""The template editor's preview: the draft rendered for a person picked by a search box (the
render the API's preview uses, off the event loop, only the latest answer shown), and a test
send to that person through the outbox, whose status the pane follows."""

import json
import uuid
from contextlib import suppress
from typing import TYPE_CHECKING, Any

from nicegui import background_tasks, run, ui
from pydantic import ValidationError
from sqlalchemy.orm import Session

from leadpond.channels import service
from leadpond.channels.models import MessageStatus
from leadpond.channels.render import Rendered
from leadpond.channels.schemas import TemplateBody
from leadpond.console.pages.channels_words import STATUS_NAMES, local_when, reason_words, word
from leadpond.console.pages.errors_words import error_words
from leadpond.console.pages.frame import Visit, notify_error
from leadpond.console.pages.words import validation_problem
from leadpond.db.engine import read_only, unit_of_work
from leadpond.kit.errors import LeadpondError
from leadpond.kit.pagination import PageQuery
from leadpond.profiles import service as profiles
from leadpond.reports import directory
from leadpond.users.permissions import CHANNELS_WRITE

if TYPE_CHECKING:
    from leadpond.console.pages.templates import TemplateEditor

PEOPLE_SHOWN = 10
# How long the pane follows a test message (seconds, once a second): long enough for the
# deliverer to send it, not forever for one held by quiet hours.
FOLLOW_S = 120
SETTLED = {s.value for s in MessageStatus} - {MessageStatus.QUEUED, MessageStatus.SENDING}


def people_options(
    session: Session, v: Visit, query: str, first: int | None = None
) -> dict[int, str]:
    """People the search box finds (the directory's search), as ``name · email`` by id; with
    ``first``, that person (if still in the workspace) before them."""
    ws = v.actor.workspace_id
    wanted = directory.PeopleQuery(q=query.strip() or None)
    rows = directory.search_people(session, ws, wanted, PageQuery(limit=PEOPLE_SHOWN)).items
    # A person no longer in the workspace leaves the search's people alone.
    with suppress(LeadpondError):
        if first is not None:
            found = profiles.get_person(session, ws, first)
            rows = directory.describe(session, ws, [found]) + [r for r in rows if r.id != found.id]
    return {
        row.id: " · ".join(p for p in (row.name or f"#{row.id}", row.email or row.phone) if p)
        for row in rows
    }


def _render_draft(v: Visit, draft: TemplateBody, person_id: int) -> Rendered:
    with read_only() as session:
        return service.preview_draft(session, v.actor.workspace_id, draft, person_id)


def _queue_test(v: Visit, channel: str, key: str, person_id: int) -> tuple[int, str, str | None]:
    with unit_of_work() as session:
        actor = v.authorised(session, CHANNELS_WRITE)
        message = service.send(
            session,
            actor.workspace_id,
            channel,
            key,
            person_id,
            idempotency_key=f"console-test:{uuid.uuid4().hex}",
            origin=f"console-test:{actor.email}",
        )
        return message.id, message.status, message.reason


class PreviewPane:
    """Search a person, see the draft as they would get it, send them a test."""

    def __init__(
        self, v: Visit, editor: "TemplateEditor", session: Session, first: int | None
    ) -> None:
        self.v = v
        self.editor = editor
        self.latest = 0
        self.message_id: int | None = None
        self.followed = 0
        _ = v._
        ui.label(_("Preview")).classes("text-lg")
        options = people_options(session, v, "", first)
        self.search = (
            ui.input(_("Find a person (name, email, phone or company)"), on_change=self.find)
            .props("debounce=300 clearable")
            .classes("w-full")
            .mark("preview-search")
            .classes("lp-preview-search")
        )
        self.person = (
            ui.select(
                options,
                value=next(iter(options), None),
                label=_("Rendered for"),
                on_change=self.run,
            )
            .classes("w-full")
            .mark("preview-person")
            .classes("lp-preview-person")
        )
        self.problem = (
            ui.label()
            .classes("text-negative whitespace-pre-wrap")
            .mark("preview-error")
            .classes("lp-preview-error")
        )
        self.subject = (
            ui.label()
            .classes("text-lg font-medium")
            .mark("preview-subject")
            .classes("lp-preview-subject")
        )
        self.frame = ui.element("iframe").classes("w-full h-96 border rounded bg-white")
        # No scripts, no same origin: a template's HTML cannot reach the console.
        self.frame.props["sandbox"] = ""
        self.frame.mark("preview-body").classes("lp-preview-body")
        self.document = (
            ui.code("", language="json")
            .classes("w-full")
            .mark("preview-document")
            .classes("lp-preview-document")
        )
        self.text = (
            ui.label()
            .classes("whitespace-pre-wrap font-mono text-sm")
            .mark("preview-text")
            .classes("lp-preview-text")
        )
        self._test_send()

    def chosen(self) -> int | None:
        """The person the preview is rendered for."""
        return int(self.person.value) if self.person.value is not None else None

    def find(self) -> None:
        """Show the people the search finds; keep the chosen one if still found, else the first."""
        with read_only() as session:
            options = people_options(session, self.v, str(self.search.value or ""))
        chosen = self.person.value if self.person.value in options else next(iter(options), None)
        self.person.set_options(options, value=chosen)
        self.run()

    def run(self) -> None:
        """Render off the event loop; when edits come faster than answers, only the latest
        answer is shown."""
        self.latest += 1
        background_tasks.create(self.show(self.latest), name="template-preview")

    async def show(self, serial: int) -> None:
        _ = self.v._
        if self.person.value is None:
            self.problem.text = _("Nobody to render for: find a person first.")
            return
        try:
            draft = self.editor.parts_to_preview()
        except ValidationError as exc:
            self.problem.text = validation_problem(_, exc)[1]
            return
        try:
            rendered = await run.io_bound(_render_draft, self.v, draft, int(self.person.value))
        except LeadpondError as exc:
            if serial == self.latest:
                self.problem.text = error_words(exc, _)
                self.editor.mark_problem(exc.details.get("field"), self.problem.text, "preview")
            return
        if rendered is None or serial != self.latest:  # None: the app is shutting down
            return
        self.editor.mark_problem(None, "", "preview")
        self.problem.text = ""
        self.draw(draft.channel, rendered)

    def draw(self, channel: str, rendered: Rendered) -> None:
        email = rendered.document is None
        self.subject.text = rendered.subject or ""
        self.frame.set_visibility(email)
        self.document.set_visibility(not email)
        if email:
            self.frame.props["srcdoc"] = rendered.body
        else:
            self.document.content = json.dumps(rendered.document, ensure_ascii=False, indent=2)
        self.text.text = rendered.text_body or ""

    def _test_send(self) -> None:
        _ = self.v._
        if not self.v.may(CHANNELS_WRITE):
            return
        with ui.row().classes("items-center gap-3"):
            ui.button(_("Send a test to this person"), icon="send", on_click=self.send).mark(
                "send-to-person"
            ).classes("lp-send-to-person")
            self.sent_link = ui.link("", "#").mark("test-message").classes("lp-test-message")
            self.sent_status = (
                ui.label().mark("test-message-status").classes("lp-test-message-status")
            )
        self.follow = ui.timer(1.0, self.poll, active=False)

    async def send(self) -> None:
        """Queue the saved template for the chosen person, as ``POST /api/v1/sends`` does: the
        deliverer sends it like any message (consent, caps, quiet hours apply)."""
        _ = self.v._
        key = self.editor.saved_key()
        if key is None:
            ui.notify(_("Save the template first: a test send uses the saved template."))
            return
        if self.person.value is None:
            ui.notify(_("Find a person first."))
            return
        channel, person_id = str(self.editor.channel.value), int(self.person.value)
        try:
            queued = await run.io_bound(_queue_test, self.v, channel, key, person_id)
        except LeadpondError as exc:
            notify_error(exc)
            return
        if queued is None:  # the app is shutting down
            return
        self.message_id, status, reason = queued
        self.sent_link.text = f"{_('Message')} #{self.message_id}"
        self.sent_link.props["href"] = f"/messages/{self.message_id}"  # ui.link adds the base
        self.show_status(status, reason, None)
        self.followed = 0
        self.follow.activate()

    def poll(self) -> None:
        """Follow the test message until it settles (or for ``FOLLOW_S``)."""
        if self.message_id is None:
            return
        self.followed += 1
        with read_only() as session:
            message, _key, _history = service.message_history(
                session, self.v.actor.workspace_id, self.message_id
            )
            status, reason, due = message.status, message.reason, message.due_at
        self.show_status(status, reason, due)
        if status in SETTLED or self.followed >= FOLLOW_S:
            self.follow.deactivate()

    def show_status(self, status: str, reason: str | None, due: Any) -> None:
        _ = self.v._
        said = [word(_, STATUS_NAMES, status)]
        if reason:
            said.append(reason_words(_, reason))
        if status == MessageStatus.QUEUED and due is not None:
            said.append(_("due {at}").format(at=local_when(due, self.v.zone)))
        self.sent_status.text = " · ".join(said)
