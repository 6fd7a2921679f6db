"""The 360 page's edit tab (marketer+): tags put on and taken off by hand (as
``/api/v1/people/{id}/tags`` does) and traits edited through the ingest path — an ``identify``
from source ``console`` for the person's user id (else their device id; an imported contact by
an email or phone they keep), so the trait history, the identity graph and the rules see the
change as they see any other."""

import uuid
from typing import Any

from nicegui import ui
from sqlalchemy import select
from sqlalchemy.orm import Session

from leadpond.console.pages.frame import Visit, notify_error
from leadpond.db.engine import read_only, unit_of_work
from leadpond.identity.models import Identifier
from leadpond.ingest.service import append_events
from leadpond.ingest.spec import AcceptedMessage
from leadpond.kit.clock import utcnow
from leadpond.kit.errors import InvalidInput, LeadpondError
from leadpond.profiles.service import get_person
from leadpond.rules import reads
from leadpond.rules.vocabulary import Labels
from leadpond.users.permissions import PEOPLE_WRITE, RULES_WRITE

CONSOLE_SOURCE = "console"
# The traits a marketer edits here, with their labels.
EDITABLE_TRAITS = (
    ("name", "Name"),
    ("email", "Email"),
    ("phone", "Phone"),
    ("company", "Company"),
    ("title", "Title"),
    ("city", "City"),
)


def identify_message(
    person_ids: dict[str, str], traits: dict[str, Any], message_id: str
) -> AcceptedMessage:
    """The ``identify`` that sets ``traits`` on the person these ids name: their ``user_id``,
    else their ``anonymous_id``; with neither (an imported contact), ``traits`` must carry an
    email or phone the person already has (as an imported row does)."""
    user_id, anonymous_id = person_ids.get("user_id"), person_ids.get("anonymous_id")
    now = utcnow()
    payload: dict[str, Any] = {
        "type": "identify",
        "messageId": message_id,
        "traits": traits,
        "timestamp": now.isoformat() + "Z",
        "context": {"library": {"name": "leadpond-console"}},
    }
    if user_id is not None:
        payload["userId"] = user_id
    elif anonymous_id is not None:
        payload["anonymousId"] = anonymous_id
    return AcceptedMessage(
        message_id=message_id,
        type="identify",
        event=None,
        user_id=user_id,
        anonymous_id=None if user_id is not None else anonymous_id,
        group_id=None,
        timestamp=now,
        payload=payload,
    )


def ids_of(session: Session, workspace_id: uuid.UUID, person_id: int) -> dict[str, str]:
    """The person's user id and newest device id (the keys an identify reaches them by)."""
    found: dict[str, str] = {}
    rows = session.execute(
        select(Identifier.type, Identifier.value)
        .where(
            Identifier.workspace_id == workspace_id,
            Identifier.person_id == person_id,
            Identifier.type.in_(("user_id", "anonymous_id")),
        )
        .order_by(Identifier.id.desc())
    )
    for kind, value in rows:
        found.setdefault(kind, value)
    return found


def set_traits(
    session: Session, workspace_id: uuid.UUID, person_id: int, traits: dict[str, Any], actor: str
) -> int:
    """Write the changed traits as an identify from the console; returns the rows written.

    A person with neither a user id nor a device id is reached by an email or phone they have
    that this change keeps; 400 when the change replaces every one of them."""
    person = get_person(session, workspace_id, person_id)
    ids = ids_of(session, workspace_id, person.id)
    carried: dict[str, Any] = {}
    if not ids:
        current = person.traits or {}
        kept = [k for k in ("email", "phone") if current.get(k) and k not in traits]
        if not kept:
            raise InvalidInput(
                "the person has no user id or device id, and the change replaces every email "
                "and phone that reaches them",
                field="person",
            )
        carried = {kept[0]: current[kept[0]]}
    message_id = f"console:{person.id}:{uuid.uuid4().hex}"
    message = identify_message(ids, carried | traits, message_id)
    message.payload["context"]["console_user"] = actor
    return append_events(session, workspace_id, [message], utcnow(), source=CONSOLE_SOURCE)


def edit_section(v: Visit, person_id: int, traits: dict[str, Any], labels: Labels) -> None:
    """The tags card and the traits card."""
    _ = v._
    with ui.element("div").classes("grid grid-cols-1 md:grid-cols-2 w-full gap-4"):
        if v.may(RULES_WRITE):
            _tags_card(v, person_id, labels)
        if v.may(PEOPLE_WRITE):
            _traits_card(v, person_id, traits)


def _tag_rows(v: Visit, person_id: int, labels: Labels) -> list[dict[str, Any]]:
    with read_only() as session:
        tags = reads.tags_of(session, v.actor.workspace_id, person_id)
    return [{"tag": t.tag, "shown": labels.tag(t.tag), "source": t.source} for t in tags]


def _tags_card(v: Visit, person_id: int, labels: Labels) -> None:
    _ = v._
    with ui.card():
        ui.label(_("Tags")).classes("text-lg")
        table = ui.table(
            columns=[
                {"name": "shown", "label": _("Tag"), "field": "shown", "align": "left"},
                {"name": "action", "label": "", "field": "tag"},
            ],
            rows=_tag_rows(v, person_id, labels),
            row_key="tag",
        )
        table.props("flat bordered dense hide-pagination :pagination='{rowsPerPage: 0}'")
        table.classes("w-full lp-edit-tags").mark("edit-tags")
        table.add_slot(
            "body-cell-action",
            '<q-td :props="props"><q-btn dense flat color="negative" icon="close" '
            f'aria-label="{_("Remove")}" '
            "@click=\"$parent.$emit('untag', props.row.tag)\" /></q-td>",
        )

        def refresh() -> None:
            table.rows = _tag_rows(v, person_id, labels)
            table.update()

        def untag(tag: str) -> None:
            try:
                with unit_of_work() as writing:
                    ws = v.authorised(writing, RULES_WRITE).workspace_id
                    reads.remove_tag(writing, ws, get_person(writing, ws, person_id).id, tag)
            except LeadpondError as exc:
                notify_error(exc)
                return
            ui.notify(_("Tag removed"), type="warning")
            refresh()

        def tag() -> None:
            text = str(typed.value or "").strip()
            if not text or len(text) > 200:
                ui.notify(_("A tag is 1 to 200 characters"), type="negative")
                return
            try:
                with unit_of_work() as writing:
                    actor = v.authorised(writing, RULES_WRITE)
                    ws = actor.workspace_id
                    person = get_person(writing, ws, person_id)
                    reads.add_manual_tag(writing, ws, person.id, text, f"user:{actor.email}")
            except LeadpondError as exc:
                notify_error(exc)
                return
            typed.value = ""
            ui.notify(_("Tag added"), type="positive")
            refresh()

        table.on("untag", lambda e: untag(str(e.args)))
        with ui.row().classes("items-end gap-2"):
            typed = (
                ui.input(_("New tag (category:value)"))
                .classes("w-64")
                .classes("lp-new-tag")
                .mark("new-tag")
            )
            ui.button(_("Add tag"), icon="sell", on_click=tag).classes("lp-add-tag").mark("add-tag")


def _traits_card(v: Visit, person_id: int, traits: dict[str, Any]) -> None:
    _ = v._
    inputs: dict[str, ui.input] = {}
    with ui.card():
        ui.label(_("Edit profile")).classes("text-lg")
        for key, label in EDITABLE_TRAITS:
            value = traits.get(key)
            inputs[key] = (
                ui.input(_(label), value="" if value is None else str(value))
                .classes("w-72")
                .classes(f"lp-trait-{key}")
                .mark(f"trait-{key}")
            )

        def save() -> None:
            changed = {
                key: str(field.value or "").strip()
                for key, field in inputs.items()
                if str(field.value or "").strip() != str(traits.get(key) or "")
            }
            if not changed:
                ui.notify(_("Nothing changed"))
                return
            try:
                with unit_of_work() as writing:
                    actor = v.authorised(writing, PEOPLE_WRITE)
                    set_traits(writing, actor.workspace_id, person_id, changed, actor.email)
            except InvalidInput as exc:
                if exc.details.get("field") == "person":
                    ui.notify(
                        _(
                            "This person is known only by their email and phone: change "
                            "one of them at a time."
                        ),
                        type="negative",
                    )
                else:
                    notify_error(exc)
                return
            except LeadpondError as exc:
                notify_error(exc)
                return
            traits.update(changed)
            saved.text = _("Saved: the profile shows it once the pipeline has read the change.")

        ui.button(_("Save"), icon="save", on_click=save).classes("lp-save-traits").mark(
            "save-traits"
        )
        saved = ui.label().classes("text-positive lp-traits-saved").mark("traits-saved")
