"""Person 360, continued: the cross-channel timeline and the merge history with unmerge."""

from nicegui import ui
from sqlalchemy import select
from sqlalchemy.orm import Session

from leadpond.console.pages.frame import Visit, notify_error, when
from leadpond.console.pages.words import (
    ID_TYPES,
    SOURCE_NAMES,
    actor_words,
    event_words,
    property_words,
    said,
)
from leadpond.db.engine import read_only, unit_of_work
from leadpond.engage.models import Form
from leadpond.identity import unmerge
from leadpond.identity.models import PersonMerge
from leadpond.ingest.models import Event
from leadpond.kit.errors import LeadpondError
from leadpond.kit.pagination import PageQuery
from leadpond.profiles import service as profiles
from leadpond.rules import vocabulary
from leadpond.users.permissions import IDENTITY_WRITE

TIMELINE_PAGE = 50


def timeline_section(v: Visit, person_id: int, session: Session) -> None:
    """The person's events across channels, newest first, a page at a time."""
    _ = v._
    state = {"offset": 0}

    names = (
        vocabulary.labels(session, v.actor.workspace_id, v.actor.locale),
        _form_names(v, session),
    )

    def read(reading: Session) -> tuple[int, list[Event]]:
        page = PageQuery(limit=TIMELINE_PAGE, offset=state["offset"])
        return profiles.timeline(reading, v.actor.workspace_id, person_id, page=page)

    @ui.refreshable
    def page(shown: tuple[int, list[Event]]) -> None:
        total, events = shown
        ui.label(_("{total} events").format(total=total)).mark("timeline-total")
        with ui.timeline(side="right").classes("w-full").mark("timeline"):
            for event in events:
                properties = event.payload.get("properties") or {}
                with ui.timeline_entry(
                    # The page's title is among its properties, below (its words are the site's).
                    title=event_words(_, event.type, event.event),
                    subtitle=f"{when(event.timestamp, v.zone)} · "
                    f"{said(_, SOURCE_NAMES, event.source)}",
                ):
                    _properties(property_words(_, dict(list(properties.items())[:6]), *names))
        with ui.row():
            if state["offset"] > 0:
                ui.button(_("Newer"), on_click=lambda: move(-TIMELINE_PAGE))
            if state["offset"] + TIMELINE_PAGE < total:
                ui.button(_("Older"), on_click=lambda: move(TIMELINE_PAGE)).mark("older")

    def move(delta: int) -> None:
        state["offset"] = max(0, state["offset"] + delta)
        with read_only() as reading:
            page.refresh(read(reading))

    page(read(session))


def _properties(said: list[tuple[str, str, bool]]) -> None:
    """An event's properties on its timeline entry: each name and value, an identifier (an ID,
    a link) marked as code."""
    with ui.row().classes("gap-x-3 gap-y-0 text-sm").mark("event-properties"):
        for name, value, code in said:
            with ui.row().classes("gap-1 no-wrap"):
                ui.label(f"{name}:").classes("text-grey-7")
                ui.label(value).classes("lp-code break-all" if code else "")


def _form_names(v: Visit, session: Session) -> dict[str, str]:
    """The workspace's forms by key, named in the viewer's language (a ``form_id``'s name)."""
    english = v.actor.locale == "en"
    return {
        key: (english and name_en) or name_zh
        for key, name_zh, name_en in session.execute(
            select(Form.key, Form.name_zh, Form.name_en).where(
                Form.workspace_id == v.actor.workspace_id
            )
        )
    }


def merges_section(v: Visit, person_id: int, session: Session) -> None:
    """Every merge that shaped the person; marketers and admins may undo one."""
    _ = v._

    @ui.refreshable
    def listing(merges: list[PersonMerge]) -> None:
        if not merges:
            ui.label(_("No merges."))
        for merge in merges:
            with ui.card().classes("w-full").mark("merge"):
                with ui.row().classes("gap-1 items-center"):
                    ui.label(f"#{merge.merged_id} → #{merge.survivor_id} ·")
                    if merge.identifier_type:
                        ui.label(said(_, ID_TYPES, merge.identifier_type))
                        ui.label(merge.identifier_value or "").classes("lp-code break-all")
                    else:
                        ui.label(merge.reason)
                    ui.label(f"· {actor_words(_, merge.actor)} · {when(merge.created_at, v.zone)}")
                if merge.undone_at is not None:
                    by = actor_words(_, merge.undone_by or "")
                    ui.label(f"{_('Undone')} {when(merge.undone_at, v.zone)} ({by})")
                elif merge.identifier_type and merge.identifier_value and v.may(IDENTITY_WRITE):
                    ui.button(
                        _("Unmerge"),
                        on_click=lambda m=merge: split(m.identifier_type, m.identifier_value),
                    ).props("outline color=negative").mark("unmerge")

    def split(id_type: str | None, value: str | None) -> None:
        try:
            with unit_of_work() as writing:
                actor = v.authorised(writing, IDENTITY_WRITE)
                result = unmerge.unmerge(
                    writing,
                    actor.workspace_id,
                    person_id,
                    id_type or "",
                    value or "",
                    f"session:{actor.email}",
                )
        except LeadpondError as exc:
            notify_error(exc)
            return
        ui.notify(_("Split off person #{id}").format(id=result.restored_person_id), type="positive")
        with read_only() as reading:
            listing.refresh(unmerge.merge_history(reading, v.actor.workspace_id, person_id))

    listing(unmerge.merge_history(session, v.actor.workspace_id, person_id))
