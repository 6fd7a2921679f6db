"""Users and roles on the settings page (admins): the workspace's members, their roles, adding a
member (a new user gets a password) and removing one — the same service calls as
``/api/v1/users``, so the last-admin rule holds here too and is said in words."""

from typing import Any

from nicegui import ui
from sqlalchemy.orm import Session

from leadpond.console.pages.frame import DENSE_TABLE, Visit, notify_error, when
from leadpond.console.pages.words import USER_ROLES
from leadpond.db.engine import read_only, unit_of_work
from leadpond.kit.errors import InvalidInput, LeadpondError
from leadpond.users import service
from leadpond.users.permissions import MEMBERS_WRITE
from leadpond.users.service import LastAdmin, Role, UserExists


def _rows(v: Visit, session: Session) -> list[dict[str, Any]]:
    return [
        {
            "id": user.id,
            "email": user.email,
            "name": user.name,
            "role": membership.role,
            "role_words": v._(USER_ROLES[Role(membership.role).value]),
            "since": when(membership.created_at, v.zone),
        }
        for user, membership in service.members(session, v.actor.workspace_id)
    ]


def _explain(v: Visit, exc: LeadpondError) -> None:
    """The refusal in the user's words: the rules an admin meets here are named, the rest (an
    unknown email shape, a short password) keep the service's message with its field."""
    _ = v._
    if isinstance(exc, LastAdmin):
        ui.notify(
            _("The workspace needs at least one admin: make someone else admin first."),
            type="negative",
        )
    elif isinstance(exc, UserExists):
        ui.notify(_("A user with this email exists."), type="negative")
    elif isinstance(exc, InvalidInput) and exc.details.get("field") == "password":
        ui.notify(_("A new user needs a password of at least 8 characters."), type="negative")
    elif isinstance(exc, InvalidInput) and exc.details.get("field") == "email":
        ui.notify(_("This is not an email address."), type="negative")
    else:
        notify_error(exc)


def members_card(v: Visit, session: Session) -> None:
    """The members table; with the role select, remove and add for admins."""
    _ = v._
    roles = {r.value: _(USER_ROLES[r.value]) for r in Role}
    editable = v.may(MEMBERS_WRITE)
    with ui.card().classes("w-full max-w-3xl"):
        ui.label(_("Users and roles")).classes("text-lg font-semibold")
        columns = [
            {"name": k, "label": label, "field": k, "align": "left"}
            for k, label in (
                ("email", _("Email")),
                ("name", _("Name")),
                ("role_words", _("Role")),
                ("since", _("Member since")),
                ("action", ""),
            )
        ]
        table = ui.table(columns=columns, rows=_rows(v, session), row_key="id")
        table.props(DENSE_TABLE).classes("w-full lp-members-table").mark("members-table")
        options = ", ".join(
            f"{{label: '{label}', value: '{value}'}}" for value, label in roles.items()
        )
        if not editable:
            return
        table.add_slot(
            "body-cell-role_words",
            '<q-td :props="props"><q-select dense options-dense emit-value map-options '
            f':options="[{options}]" :model-value="props.row.role" '
            "@update:model-value=\"v => $parent.$emit('role', {id: props.row.id, role: v})\" />"
            "</q-td>",
        )
        table.add_slot(
            "body-cell-action",
            '<q-td :props="props"><q-btn dense flat color="negative" icon="person_remove" '
            'class="lp-remove-member" '
            f'label="{_("Remove")}" '
            "@click=\"$parent.$emit('remove', props.row)\" /></q-td>",
        )

        def refresh() -> None:
            with read_only() as reading:
                table.rows = _rows(v, reading)
            table.update()

        def change_role(args: dict[str, Any]) -> None:
            try:
                with unit_of_work() as writing:
                    ws = v.authorised(writing, MEMBERS_WRITE).workspace_id
                    service.role_in(writing, int(args["id"]), ws)
                    service.grant(writing, int(args["id"]), ws, str(args["role"]))
            except LeadpondError as exc:
                _explain(v, exc)
                refresh()
                return
            ui.notify(_("Role changed"), type="positive")
            refresh()

        def remove(row: dict[str, Any]) -> None:
            try:
                with unit_of_work() as writing:
                    ws = v.authorised(writing, MEMBERS_WRITE).workspace_id
                    service.revoke_membership(writing, int(row["id"]), ws)
            except LeadpondError as exc:
                _explain(v, exc)
                return
            ui.notify(_("Removed {email}").format(email=row["email"]), type="warning")
            refresh()

        table.on("role", lambda e: change_role(e.args))
        table.on("remove", lambda e: remove(e.args))

        ui.label(_("Add a member")).classes("font-semibold mt-2")
        with ui.row().classes("items-end gap-2 flex-wrap"):
            email = (
                ui.input(_("Email")).classes("w-64").classes("lp-member-email").mark("member-email")
            )
            name = ui.input(_("Name")).classes("w-40").classes("lp-member-name").mark("member-name")
            role = (
                ui.select(roles, value=Role.VIEWER.value, label=_("Role"))
                .classes("w-32")
                .classes("lp-member-role")
                .mark("member-role")
            )
            password = (
                ui.input(_("Password (new users only)"), password=True, password_toggle_button=True)
                .classes("w-56")
                .classes("lp-member-password")
                .mark("member-password")
            )

            def add() -> None:
                try:
                    with unit_of_work() as writing:
                        ws = v.authorised(writing, MEMBERS_WRITE).workspace_id
                        address = str(email.value or "")
                        user = service.find_user(writing, address)
                        if user is None:
                            if not password.value:
                                raise InvalidInput("a new user needs a password", field="password")
                            user = service.create_user(
                                writing,
                                address,
                                str(name.value or ""),
                                str(password.value),
                                v.actor.locale,
                            )
                        service.grant(writing, user.id, ws, str(role.value))
                        added = user.email
                except LeadpondError as exc:
                    _explain(v, exc)
                    return
                ui.notify(_("Added {email}").format(email=added), type="positive")
                email.value = name.value = password.value = ""
                refresh()

            ui.button(_("Add"), icon="person_add", on_click=add).classes("lp-add-member").mark(
                "add-member"
            )
