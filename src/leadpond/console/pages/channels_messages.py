"""Message logs: a person's messages (on the 360 page), a template's messages, and one message
with its status history and, for a message not sent, why in words."""

from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import ui
from sqlalchemy.orm import Session

from leadpond.channels import service
from leadpond.channels.models import Message
from leadpond.channels.reads import MessageLine, message_lines, messages_of_template
from leadpond.console.pages.channel_names import delivery_error_words
from leadpond.console.pages.channels_words import (
    CHANNEL_NAMES,
    EVENT_NAMES,
    PURPOSE_NAMES,
    STATUS_NAMES,
    history_words,
    local_when,
    reason_words,
    word,
)
from leadpond.console.pages.errors_words import error_words
from leadpond.console.pages.frame import DENSE_TABLE, Visit, header, visit
from leadpond.db.engine import read_only
from leadpond.kit.errors import LeadpondError
from leadpond.kit.names import name_in
from leadpond.kit.pagination import PageQuery

MESSAGE_PAGE = 50
Reader = Callable[[Session, PageQuery], tuple[int, list[Message]]]


def _link_cell(field: str) -> str:
    return (
        f'<q-td :props="props"><a v-if="props.row.{field}_href" :href="props.row.{field}_href" '
        'class="text-primary">{{ props.value }}</a><span v-else>{{ props.value }}</span></q-td>'
    )


def message_rows(v: Visit, lines: list[MessageLine]) -> list[dict[str, Any]]:
    """Table rows of messages: links to the message, its person and its template (plain anchors
    in the table's slots, so with the console's base path); the status and the reason in words;
    times in the marketer's time zone."""
    _ = v._
    rows = []
    for line in lines:
        m = line.message
        rows.append(
            {
                "id": f"#{m.id}",
                "id_href": v.href(f"/messages/{m.id}"),
                "person": line.person_name or (f"#{m.person_id}" if m.person_id else "–"),
                "person_href": v.href(f"/people/{m.person_id}") if m.person_id else "",
                "template": name_in(line.template_name, v.actor.locale) or line.template or "–",
                "template_href": v.href(f"/templates/{line.template}") if line.template else "",
                "channel": word(_, CHANNEL_NAMES, m.channel),
                "status": word(_, STATUS_NAMES, m.status),
                "reason": reason_words(_, m.reason) or delivery_error_words(_, m.last_error),
                "created_at": local_when(m.created_at, v.zone),
                "sent_at": local_when(m.sent_at, v.zone),
            }
        )
    return rows


def _columns(v: Visit, shown: tuple[str, ...]) -> list[dict[str, Any]]:
    _ = v._
    labels = {
        "id": _("Message"),
        "person": _("Person"),
        "template": _("Template"),
        "channel": _("Channel"),
        "status": _("Status"),
        "reason": _("Reason"),
        "created_at": _("Written at"),
        "sent_at": _("Sent at"),
    }
    return [{"name": k, "label": labels[k], "field": k, "align": "left"} for k in shown]


def message_log(
    v: Visit, read: Reader, session: Session, shown: tuple[str, ...], mark: str
) -> None:
    """A paged table of messages, newest first (``read`` answers a page and the total)."""
    _ = v._
    state = {"offset": 0}

    def page_of(reading: Session) -> tuple[int, list[MessageLine]]:
        total, found = read(reading, PageQuery(limit=MESSAGE_PAGE, offset=state["offset"]))
        return total, message_lines(reading, v.actor.workspace_id, found)

    @ui.refreshable
    def listing(answer: tuple[int, list[MessageLine]]) -> None:
        total, lines = answer
        counted = ui.label(_("{total} messages").format(total=f"{total:,}"))
        counted.mark(f"{mark}-total").classes(f"lp-{mark}-total")
        table = ui.table(columns=_columns(v, shown), rows=message_rows(v, lines), row_key="id")
        table.props(DENSE_TABLE).classes(f"w-full lp-{mark}").mark(mark)
        for field in ("id", "person", "template"):
            if field in shown:
                table.add_slot(f"body-cell-{field}", _link_cell(field))
        with ui.row():
            if state["offset"] > 0:
                ui.button(_("Newer"), on_click=lambda: move(-MESSAGE_PAGE))
            if state["offset"] + MESSAGE_PAGE < total:
                older = ui.button(_("Older"), on_click=lambda: move(MESSAGE_PAGE))
                older.mark(f"{mark}-older").classes(f"lp-{mark}-older")

    def move(delta: int) -> None:
        state["offset"] = max(0, state["offset"] + delta)
        with read_only() as reading:
            listing.refresh(page_of(reading))

    listing(page_of(session))


def person_messages_section(v: Visit, person_id: int, session: Session) -> None:
    """The person's messages on every channel, newest first (``GET /people/{id}/messages``)."""

    def read(reading: Session, page: PageQuery) -> tuple[int, list[Message]]:
        total, found = service.messages_of_person(reading, v.actor.workspace_id, person_id, page)
        return total, [message for message, _key in found]

    shown = ("id", "channel", "template", "status", "reason", "created_at", "sent_at")
    message_log(v, read, session, shown, "person-messages")


def template_messages_section(v: Visit, key: str, session: Session) -> None:
    """The messages written with a template (``GET /templates/{key}/messages``)."""

    def read(reading: Session, page: PageQuery) -> tuple[int, list[Message]]:
        return messages_of_template(reading, v.actor.workspace_id, key, page)

    ui.label(v._("Messages sent with this template")).classes("text-lg mt-4")
    shown = ("id", "person", "status", "reason", "created_at", "sent_at")
    message_log(v, read, session, shown, "template-messages")


def message_page(request: Request, message_id: int) -> RedirectResponse | None:
    """One message: who, what, where it stands, and every status it went through."""
    with read_only() as session:
        v = visit(request, session)
        if isinstance(v, RedirectResponse):
            return v
        _ = v._
        try:
            message, key, history = service.message_history(
                session, v.actor.workspace_id, message_id
            )
        except LeadpondError as exc:
            header(v, _("Message"), session)
            ui.label(error_words(exc, _)).classes("text-negative").mark("not-found").classes(
                "lp-not-found"
            )
            return None
        line = message_lines(session, v.actor.workspace_id, [message])[0]
        header(v, f"{_('Message')} #{message.id}", session)
    _facts(v, line, key)
    ui.label(_("History")).classes("text-lg mt-4")
    rows = [
        {
            "at": local_when(event.at, v.zone),
            "kind": word(_, EVENT_NAMES, event.kind),
            "detail": history_words(_, dict(event.detail or {}), v.zone),
        }
        for event in history
    ]
    columns = [
        {"name": "at", "label": _("When"), "field": "at", "align": "left"},
        {"name": "kind", "label": _("Status"), "field": "kind", "align": "left"},
        {"name": "detail", "label": _("Detail"), "field": "detail", "align": "left"},
    ]
    ui.table(columns=columns, rows=rows).props(DENSE_TABLE).classes("w-full").mark(
        "history"
    ).classes("lp-history")
    return None


def _facts(v: Visit, line: MessageLine, key: str | None) -> None:
    _ = v._
    m = line.message
    with ui.row().classes("items-center gap-3"):
        ui.badge(word(_, STATUS_NAMES, m.status)).classes("text-base").mark("status").classes(
            "lp-status"
        )
        if m.reason:
            ui.label(reason_words(_, m.reason)).classes("text-negative").mark("reason").classes(
                "lp-reason"
            )
    with ui.grid(columns=2).classes("gap-x-6 gap-y-1"):
        if m.person_id:
            ui.label(_("Person")).classes("text-gray-600")
            ui.link(line.person_name or f"#{m.person_id}", f"/people/{m.person_id}").mark(
                "person-link"
            ).classes("lp-person-link")
        if key:
            ui.label(_("Template")).classes("text-gray-600")
            shown = name_in(line.template_name, v.actor.locale) or key
            ui.link(shown, f"/templates/{key}").mark("template-link").classes("lp-template-link")
        facts = (
            (_("Channel"), word(_, CHANNEL_NAMES, m.channel)),
            (_("Purpose"), word(_, PURPOSE_NAMES, m.purpose)),
            (_("Address"), m.address or "–"),
            (_("Subject"), m.subject or "–"),
            (_("Attempts"), str(m.attempts)),
            (_("Written at"), local_when(m.created_at, v.zone)),
            (_("Due at"), local_when(m.due_at, v.zone)),
            (_("Sent at"), local_when(m.sent_at, v.zone)),
            (_("Last error"), delivery_error_words(_, m.last_error) or "–"),
            (_("Written by"), m.origin),
            (_("Idempotency key"), m.idempotency_key),
        )
        for label, value in facts:
            ui.label(label).classes("text-gray-600")
            ui.label(value)
