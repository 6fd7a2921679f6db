"""Segment delete (with a confirmation) and static lists: make a list, add people to it by id or
from a CSV/XLSX file, take people off it — the same service calls as ``/api/v1/segments``."""

import io
from collections.abc import Callable

from nicegui import events, ui
from pydantic import ValidationError

from leadpond.console.i18n import Translate
from leadpond.console.pages.frame import Visit, notify_error
from leadpond.console.pages.words import validation_problem
from leadpond.db.engine import unit_of_work
from leadpond.kit.errors import LeadpondError
from leadpond.segments import service as segments
from leadpond.segments.schemas import SegmentCreate
from leadpond.segments.static import people_in_file
from leadpond.users.permissions import SEGMENTS_WRITE


def person_ids(text: str) -> list[int]:
    """The person ids typed, separated by commas, spaces or new lines ("#12" counts as 12)."""
    found: list[int] = []
    for part in text.replace(",", " ").replace("，", " ").split():
        digits = part.lstrip("#")
        if not digits.isdigit() or not 0 < int(digits) < 2**63:
            raise ValueError(part)
        found.append(int(digits))
    return found


def segment_input_problem(_: Translate, exc: ValidationError) -> str:
    """What is wrong with a segment's key or name, in words."""
    field, said = validation_problem(_, exc)
    if field == "key":
        return _("Key: 1 to 64 letters, digits, _, . or -, without spaces.")
    if field == "name":
        return _("Display name: at most 200 characters.")
    return said


def delete_button(v: Visit, key: str) -> None:
    """A delete button that asks first; refused (in words) while another segment uses this one."""
    _ = v._
    with ui.dialog() as dialog, ui.card():
        ui.label(
            _("Delete segment {key} with its members and history? This cannot be undone.").format(
                key=key
            )
        )
        with ui.row():
            ui.button(_("Cancel"), on_click=dialog.close).props("flat").mark("cancel-delete")
            ui.button(_("Delete"), color="negative", on_click=lambda: remove()).classes(
                "lp-confirm-delete"
            ).mark("confirm-delete")

    def remove() -> None:
        try:
            with unit_of_work() as writing:
                ws = v.authorised(writing, SEGMENTS_WRITE).workspace_id
                segment = segments.get_segment(writing, ws, key)
                users = segments.used_by(writing, ws, segment)
                if users:
                    ui.notify(
                        _("Other segments use this one: {keys}. Change them first.").format(
                            keys=", ".join(users)
                        ),
                        type="negative",
                    )
                    dialog.close()
                    return
                segments.delete_segment(writing, ws, segment)
        except LeadpondError as exc:
            notify_error(exc)
            return
        dialog.close()
        ui.notify(_("Segment deleted"), type="warning")
        ui.navigate.to("/segments")

    ui.button(_("Delete"), icon="delete", color="negative", on_click=dialog.open).props(
        "outline"
    ).classes("lp-delete-segment").mark("delete-segment")


def new_list_button(v: Visit) -> None:
    """Make an empty static list (a key and a name); people are added on its page."""
    _ = v._
    with ui.dialog() as dialog, ui.card():
        ui.label(_("New static list")).classes("text-lg font-semibold")
        key = ui.input(_("Key (letters, digits, _)")).classes("w-72").mark("list-key")
        name = ui.input(_("List name")).classes("w-72").mark("list-name")
        with ui.row():
            ui.button(_("Cancel"), on_click=dialog.close).props("flat")
            ui.button(_("Create"), on_click=lambda: create()).mark("create-list")

    def create() -> None:
        try:
            body = SegmentCreate(key=str(key.value or ""), name=name.value or None, kind="static")
        except ValidationError as exc:
            ui.notify(segment_input_problem(_, exc), type="negative")
            return
        try:
            with unit_of_work() as writing:
                ws = v.authorised(writing, SEGMENTS_WRITE).workspace_id
                segments.create_segment(writing, ws, body, origin="console")
        except LeadpondError as exc:
            notify_error(exc)
            return
        dialog.close()
        ui.navigate.to(f"/segments/{body.key}")

    ui.button(_("New static list"), icon="playlist_add", on_click=dialog.open).mark("new-list")


def static_list_card(v: Visit, key: str, shown: Callable[[], None]) -> None:
    """Add people to a static list by id or from a file, or take them off by id; ``shown``
    redraws the members table after a change."""
    _ = v._
    with ui.card().classes("w-full max-w-3xl"):
        ui.label(_("Change the list")).classes("text-lg font-semibold")
        ids = (
            ui.textarea(_("Person ids (e.g. 12, 15, 31)"))
            .props("autogrow")
            .classes("w-96")
            .mark("list-ids")
        )
        result = ui.label().classes("text-sm").mark("list-result")

        def change(add: bool) -> None:
            try:
                typed = person_ids(str(ids.value or ""))
            except ValueError as bad:
                ui.notify(_("Not a person id: {value}").format(value=bad), type="negative")
                return
            if not typed:
                ui.notify(_("Type at least one person id"), type="negative")
                return
            apply(typed if add else [], [] if add else typed, "changed in the console")

        def apply(add: list[int], remove: list[int], reason: str, problems: int = 0) -> None:
            try:
                with unit_of_work() as writing:
                    ws = v.authorised(writing, SEGMENTS_WRITE).workspace_id
                    segment = segments.get_segment(writing, ws, key)
                    added, removed, unknown = segments.change_static(
                        writing, ws, segment, add, remove, reason
                    )
            except LeadpondError as exc:
                notify_error(exc)
                return
            result.text = _("{added} added, {removed} removed, {unknown} not found").format(
                added=added, removed=removed, unknown=len(unknown) + problems
            )
            shown()

        async def upload(event: events.UploadEventArguments) -> None:
            content = await event.file.read()
            filename = event.file.name
            try:
                with unit_of_work() as writing:
                    ws = v.authorised(writing, SEGMENTS_WRITE).workspace_id
                    people, problems = people_in_file(writing, ws, io.BytesIO(content), filename)
            except LeadpondError as exc:
                notify_error(exc)
                return
            apply(sorted(people), [], f"uploaded in {filename}"[:300], len(problems))

        with ui.row().classes("gap-2"):
            ui.button(_("Add"), icon="add", on_click=lambda: change(True)).mark("list-add")
            ui.button(_("Remove"), icon="remove", on_click=lambda: change(False)).mark(
                "list-remove"
            )
        ui.label(
            _("Or add the people of a CSV/XLSX file (a person_id, user_id, email or phone column):")
        ).classes("text-sm text-gray-600")
        ui.upload(on_upload=upload, auto_upload=True).props('accept=".csv,.xlsx"').mark(
            "list-upload"
        )
