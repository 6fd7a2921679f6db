"""What every console page shares: who is logged in, the header, navigation and formatting."""

import uuid
from dataclasses import dataclass
from datetime import datetime

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import ui
from sqlalchemy.orm import Session

from leadpond.console.i18n import LOCALE_NAMES, Translate, translator
from leadpond.db.engine import unit_of_work
from leadpond.kit.errors import LeadpondError
from leadpond.users import service as users
from leadpond.users.auth import SESSION_COOKIE
from leadpond.users.permissions import Permission
from leadpond.users.service import SessionActor


@dataclass(frozen=True)
class Visit:
    """One page view: the logged-in actor, their translations and the console's base path."""

    actor: SessionActor
    token: str
    base: str
    _: Translate

    def href(self, path: str) -> str:
        """A console path with the mount path before it, for raw HTML only (a table slot's
        ``<a>``, a form's ``action``, a redirect). ``ui.link`` and ``ui.navigate.to`` put the
        mount path before a path starting with "/" themselves: give them the bare path."""
        return f"{self.base}{path}"

    def may(self, permission: Permission) -> bool:
        """Whether to offer an action: the role the page was built for holds ``permission``."""
        return permission.allows(self.actor.role)

    def authorised(self, session: Session, permission: Permission) -> SessionActor:
        """The caller of a console action, re-checked in the action's transaction: the session
        is still open and its role (now) holds ``permission``, as the REST API checks it; else
        :class:`~leadpond.users.auth.RoleTooLow` or ``Unauthorized``."""
        actor = users.resolve_session(session, self.token)
        permission.check(actor.role)
        return actor


def base_path(request: Request) -> str:
    return str(request.scope.get("root_path", "")).rstrip("/")


def visit(request: Request, session: Session) -> Visit | RedirectResponse:
    """The logged-in visit, or a redirect to the login page (read in the page's transaction)."""
    token = request.cookies.get(SESSION_COOKIE, "")
    base = base_path(request)
    try:
        actor = users.resolve_session(session, token)
    except LeadpondError:
        return RedirectResponse(f"{base}/login", status_code=303)
    return Visit(actor=actor, token=token, base=base, _=translator(actor.locale))


NAV = (
    ("/", "Dashboard", "insights"),
    ("/people", "People", "people"),
    ("/accounts", "Accounts", "business"),
    ("/duplicates", "Duplicates", "join_inner"),
    ("/segments", "Segments", "filter_alt"),
    ("/playbook", "Playbook", "rule"),
    ("/journeys", "Journeys", "alt_route"),
    ("/channels", "Channels", "send"),
    ("/templates", "Templates", "article"),
)


def header(v: Visit, title: str, session: Session) -> None:
    """The top bar: navigation, workspace switcher, language, user and logout."""
    _ = v._
    ui.page_title(f"{title} · leadpond")
    choices = users.workspaces_of(session, v.actor.user_id)
    with ui.header().classes("items-center gap-4 bg-primary text-white px-4 py-2"):
        ui.label("leadpond").classes("text-lg font-bold")
        for path, label, icon in NAV:
            # ui.link puts NiceGUI's mount path before a path starting with "/" itself.
            with ui.link(target=path).classes("text-white no-underline flex gap-1"):
                ui.icon(icon)
                ui.label(_(label))
        ui.space()
        if len(choices) > 1:
            ui.select(
                {str(w.id): w.name for w, _role in choices},
                value=str(v.actor.workspace_id),
                on_change=lambda e: _switch(v, str(e.value)),
            ).props("dense dark outlined options-dense").classes("min-w-40 lp-workspace").mark(
                "workspace"
            )
        else:
            ui.label(choices[0][0].name if choices else "")
        ui.select(
            LOCALE_NAMES,
            value=v.actor.locale,
            on_change=lambda e: _set_locale(v, str(e.value)),
        ).props("dense dark outlined options-dense").classes("lp-language").mark("language")
        ui.label(f"{v.actor.name} ({_(v.actor.role.value)})").classes("text-sm")
        with ui.element("form").props(f'method="post" action="{v.href("/logout")}"'):
            ui.button(_("Log out"), icon="logout").props(
                'type="submit" flat color="white" dense'
            ).mark("logout")
    ui.label(title).classes("text-2xl font-semibold")


def _switch(v: Visit, workspace_id: str) -> None:
    with unit_of_work() as session:
        users.switch_workspace(session, v.token, uuid.UUID(workspace_id))
    ui.navigate.to("/")


def _set_locale(v: Visit, locale: str) -> None:
    with unit_of_work() as session:
        users.set_locale(session, v.actor.user_id, locale)
    ui.navigate.reload()


def app_link(text: str, url: str) -> ui.element:
    """A link to a path of the app outside the console (``/api/v1/…``), taken as written:
    ``ui.link`` would put the console's mount path before it (``/console/api/v1/…``, a 404)."""
    with ui.element("a").classes("nicegui-link") as link:
        ui.label(text)
    link.props["href"] = url
    return link


def when(value: datetime | None) -> str:
    """A stored UTC time as the console shows it."""
    return value.strftime("%Y-%m-%d %H:%M") if value else "–"


def notify_error(exc: LeadpondError) -> None:
    ui.notify(exc.message, type="negative")
