"""The console's NiceGUI pages, registered and mounted on the FastAPI app."""

from fastapi import FastAPI
from nicegui import core, ui

from leadpond.console.pages.accounts import account_page, accounts_page
from leadpond.console.pages.acquisition import acquisition_page
from leadpond.console.pages.channels import channels_page
from leadpond.console.pages.channels_messages import message_page
from leadpond.console.pages.content import authors_page, content_page, coverage_page
from leadpond.console.pages.content_item import content_item_page, content_stats_page
from leadpond.console.pages.dashboard import dashboard_page
from leadpond.console.pages.duplicates import duplicates_page
from leadpond.console.pages.events import event_page, events_page
from leadpond.console.pages.forms import form_page, forms_page
from leadpond.console.pages.imports import import_page
from leadpond.console.pages.journey_builder import edit_journey_page, new_journey_page
from leadpond.console.pages.journeys import journey_page, journeys_page
from leadpond.console.pages.login import login_page
from leadpond.console.pages.people import people_page
from leadpond.console.pages.person import person_page
from leadpond.console.pages.playbook import playbook_page
from leadpond.console.pages.playbook_history import playbook_history_page
from leadpond.console.pages.segments import segment_page, segments_page
from leadpond.console.pages.settings import settings_page
from leadpond.console.pages.templates import template_page, templates_page
from leadpond.kit.csrf import same_host

PAGES = (
    ("/", dashboard_page),
    ("/login", login_page),
    ("/people", people_page),
    ("/people/{person_id}", person_page),
    ("/accounts", accounts_page),
    ("/accounts/{account_id}", account_page),
    ("/duplicates", duplicates_page),
    ("/segments", segments_page),
    ("/segments/{key}", segment_page),
    ("/playbook", playbook_page),
    ("/playbook/history", playbook_history_page),
    ("/channels", channels_page),
    ("/templates", templates_page),
    ("/templates/{key}", template_page),
    ("/acquisition", acquisition_page),
    ("/journeys", journeys_page),
    ("/journeys/new", new_journey_page),  # before /journeys/{key}: "new" is not a key
    ("/journeys/{key}/edit", edit_journey_page),
    ("/journeys/{key}", journey_page),
    ("/messages/{message_id}", message_page),
    ("/events", events_page),
    ("/events/{event_id}", event_page),
    ("/settings", settings_page),
    ("/import", import_page),
    ("/forms", forms_page),
    ("/forms/{key}", form_page),
    ("/content", content_page),
    ("/content/coverage", coverage_page),
    ("/content/authors", authors_page),
    ("/content/{item_id}", content_item_page),
    ("/content/{item_id}/stats", content_stats_page),
)


def register() -> None:
    """Declare every console page on NiceGUI's app (paths relative to the mount point)."""
    for path, page in PAGES:
        ui.page(path)(page)


def mount(app: FastAPI, path: str) -> None:
    """Serve the console under ``path`` of the app (assets ship in the wheel: works offline)."""
    register()
    ui.run_with(
        app,
        mount_path=path,
        title="leadpond",
        favicon="🦆",
        show_welcome_message=False,
        reconnect_timeout=10.0,
    )
    # NiceGUI lets any origin open its socket; only the console's own pages may (the
    # CrossOriginGuard middleware also refuses cross-origin sockets carrying the session).
    core.sio.eio.cors_allowed_origins = _own_origin


def _own_origin(origin: str | None, environ: dict[str, str]) -> bool:
    return origin is not None and same_host(origin, environ.get("HTTP_HOST", ""))
