"""What every console page shares: who is logged in, the header, navigation and formatting."""

import copy
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import context, ui
from sqlalchemy.orm import Session

from leadpond.console.i18n import DEFAULT_LOCALE, LOCALE_NAMES, Translate, translator
from leadpond.console.pages.errors_words import error_words
from leadpond.console.pages.words import USER_ROLES
from leadpond.db.engine import unit_of_work
from leadpond.kit.errors import LeadpondError
from leadpond.users import service as users
from leadpond.users.auth import SESSION_COOKIE
from leadpond.users.permissions import Permission
from leadpond.users.service import SessionActor
from leadpond.workspaces.models import DEFAULT_TIME_ZONE
from leadpond.workspaces.service import zone_of

DEFAULT_ZONE = ZoneInfo(DEFAULT_TIME_ZONE)
# Where a page's client keeps its viewer's locale (``client.storage``, one per page view).
LOCALE_KEY = "leadpond.locale"


@dataclass(frozen=True)
class Visit:
    """One page view: the logged-in actor, their translations and the console's base path."""

    actor: SessionActor
    token: str
    base: str
    _: Translate
    # The workspace's time zone: every time on the page is shown (and taken) in it.
    zone: ZoneInfo = DEFAULT_ZONE

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


def speak(locale: str) -> None:
    """The page's language: ``<html lang>`` and Quasar's own words (a table's "no data", a date
    picker's months) in the user's language. NiceGUI sets it per page path, for every user, so
    this client gets its own copy of the page settings. The client keeps the locale for the
    page's later refusals (:func:`notify_error`)."""
    client = context.client
    client.storage[LOCALE_KEY] = locale
    page = copy.copy(client.page)
    page.language = "zh-CN" if locale == "zh_CN" else "en-US"
    client.page = page


def visit(request: Request, session: Session) -> Visit | RedirectResponse:
    """The logged-in visit, or a redirect to the login page (read in the page's transaction)."""
    token = request.cookies.get(SESSION_COOKIE, "")
    base = base_path(request)
    try:
        actor = users.resolve_session(session, token)
    except LeadpondError:
        return RedirectResponse(f"{base}/login", status_code=303)
    zone = zone_of(session, actor.workspace_id)
    speak(actor.locale)
    return Visit(actor=actor, token=token, base=base, _=translator(actor.locale), zone=zone)


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
    ("/forms", "Forms", "assignment"),
    ("/content", "Content", "library_books"),
    ("/acquisition", "Acquisition codes", "qr_code_2"),
    ("/events", "Marketing events", "event"),
    ("/import", "Import", "upload_file"),
    ("/settings", "Settings", "settings"),
)


def header(v: Visit, title: str, session: Session) -> None:
    """The top bar: navigation, workspace switcher, language, user and logout."""
    _ = v._
    ui.page_title(f"{title} · leadpond")
    choices = users.workspaces_of(session, v.actor.user_id)
    with ui.header().classes(
        "items-center gap-x-4 gap-y-1 bg-primary text-white px-4 py-2 no-wrap lp-header"
    ):
        # A phone gets the navigation as a menu: inline, it wrapped the header to three rows.
        with (
            ui.button(icon="menu")
            .props("flat round dense color=white")
            .classes("md:hidden lp-nav-menu")
            .mark("nav-menu"),
            ui.menu(),
        ):
            for path, label, icon in NAV:
                with (
                    ui.menu_item(on_click=lambda p=path: ui.navigate.to(p)),
                    ui.row().classes("items-center gap-2 no-wrap"),
                ):
                    ui.icon(icon)
                    ui.label(_(label))
        ui.label("leadpond").classes("text-lg font-bold")
        with ui.row().classes("items-center gap-3 2xl:gap-4 max-md:hidden no-wrap lp-nav"):
            for path, label, icon in NAV:
                # ui.link puts NiceGUI's mount path before a path starting with "/" itself.
                # Below 1536 px the names give way to their icons (named by aria-label and a
                # tooltip): fourteen names do not fit a laptop's header.
                with (
                    ui.link(target=path)
                    .classes("text-white no-underline flex gap-1 items-center")
                    .props(f'aria-label="{_(label)}"')
                    .tooltip(_(label))
                ):
                    ui.icon(icon)
                    ui.label(_(label)).classes("max-2xl:hidden")
        ui.space()
        if len(choices) > 1:
            ui.select(
                {str(w.id): w.name for w, _role in choices},
                value=str(v.actor.workspace_id),
                on_change=lambda e: _switch(v, str(e.value)),
            ).props("dense dark outlined options-dense").classes(
                "min-w-40 max-md:min-w-0 max-md:max-w-32 lp-workspace lp-data"
            ).mark("workspace")
        else:
            ui.label(choices[0][0].name if choices else "").classes("max-md:hidden lp-data")
        ui.label(zone_label(v.zone)).classes("text-sm lp-zone max-lg:hidden").mark("zone").tooltip(
            _("Times are shown in the workspace's time zone")
        )
        ui.select(
            LOCALE_NAMES,
            value=v.actor.locale,
            on_change=lambda e: _set_locale(v, str(e.value)),
        ).props("dense dark outlined options-dense").classes("lp-language").mark("language")
        ui.label(f"{v.actor.name} ({_(USER_ROLES[v.actor.role.value])})").classes(
            "text-sm max-md:hidden lp-data"
        )
        with ui.element("form").props(f'method="post" action="{v.href("/logout")}"'):
            ui.button(icon="logout").props(
                f'type="submit" flat color="white" dense aria-label="{_("Log out")}"'
            ).tooltip(_("Log out")).mark("logout")
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


def when(value: datetime | None, zone: ZoneInfo, *, seconds: bool = False) -> str:
    """A stored time (naive UTC) as the console shows it: in the workspace's zone, which the
    header names (:func:`zone_label`)."""
    if value is None:
        return "–"
    aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value
    return aware.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def zone_label(zone: ZoneInfo, at: datetime | None = None) -> str:
    """The zone as the header names it: ``Asia/Shanghai (UTC+08:00)``."""
    offset = (at or datetime.now(UTC)).astimezone(zone).strftime("%z")
    return f"{zone.key} (UTC{offset[:3]}:{offset[3:]})"


# A list page's table: compact, every row on one page (the pages bound their reads).
DENSE_TABLE = "flat bordered dense hide-pagination :pagination='{rowsPerPage: 0}'"
_LINK_CELL = (
    '<q-td :props="props"><a :href="props.row.href" class="text-primary">'
    "{{ props.value }}</a></q-td>"
)


def linked_table(
    columns: Sequence[tuple[str, str]],
    rows: list[dict[str, Any]],
    *,
    link: str,
    row_key: str,
    code: Sequence[str] = (),
) -> ui.table:
    """A list page's table: ``columns`` as (field, label), the ``link`` column's cell a link to
    the row's ``href`` (a path with the console's mount path, ``Visit.href``); the ``code``
    columns hold identifiers (keys, links), shown as they are."""
    table = ui.table(
        columns=[
            {"name": k, "label": label, "field": k, "align": "left"}
            | ({"classes": "lp-code"} if k in code else {})
            for k, label in columns
        ],
        rows=rows,
        row_key=row_key,
    ).props(DENSE_TABLE)
    table.add_slot(f"body-cell-{link}", _LINK_CELL)
    return table.classes("w-full")


def notify_error(exc: LeadpondError, translate: Translate | None = None) -> None:
    """A service's refusal in the viewer's language (:func:`~.errors_words.error_words`): that
    of ``translate``, else the locale the page was built in (:func:`speak`)."""
    _ = translate or translator(context.client.storage.get(LOCALE_KEY, DEFAULT_LOCALE))
    ui.notify(error_words(exc, _), type="negative")
