"""Putting the console on the app: the login form routes and the NiceGUI mount."""

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.responses import RedirectResponse

from leadpond.console.i18n import LOCALE_NAMES
from leadpond.db.engine import unit_of_work
from leadpond.kit.errors import LeadpondError, RateLimited
from leadpond.users import service as users
from leadpond.users import throttle
from leadpond.users.api import (
    SessionCookie,
    clear_session_cookie,
    client_address,
    set_session_cookie,
)

MOUNT_PATH = "/console"

# The login page posts a plain HTML form here, so the session cookie is set by an HTTP
# response (HttpOnly) rather than by script.
forms = APIRouter(prefix=MOUNT_PATH, include_in_schema=False)


@forms.post("/login")
def login_form(
    request: Request,
    email: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=1000)],
    lang: Annotated[str, Form(max_length=8)] = "",
) -> RedirectResponse:
    """Log in from the console's form; back to the form with ``?error=1`` when it fails
    (``?error=throttled`` after too many attempts), in the language the form was shown in."""
    try:
        user_id = throttle.log_in(email, password, client_address(request))
        with unit_of_work() as session:
            token, _ = users.open_session(session, users.get_user(session, user_id))
    except RateLimited:
        return _back_to_form("throttled", lang)
    except LeadpondError:
        return _back_to_form("1", lang)
    response = RedirectResponse(f"{MOUNT_PATH}/", status_code=303)
    set_session_cookie(request, response, token)
    return response


def _back_to_form(error: str, lang: str) -> RedirectResponse:
    query = {"error": error, **({"lang": lang} if lang in LOCALE_NAMES else {})}
    return RedirectResponse(f"{MOUNT_PATH}/login?{urlencode(query)}", status_code=303)


@forms.post("/logout")
def logout_form(request: Request, token: SessionCookie = None) -> RedirectResponse:
    """Log out from the console and go back to the login form."""
    if token:
        with unit_of_work() as session:
            users.close_session(session, token)
    response = RedirectResponse(f"{MOUNT_PATH}/login", status_code=303)
    clear_session_cookie(request, response)
    return response


_mounted: list[FastAPI] = []


def install_console(app: FastAPI, *, mount_ui: bool) -> None:
    """The login and logout form routes; with ``mount_ui`` also the NiceGUI pages."""
    app.include_router(forms)
    if mount_ui:
        if _mounted:
            raise RuntimeError("the NiceGUI console can be mounted on one app per process")
        from leadpond.console.pages import mount

        mount(app, MOUNT_PATH)
        _mounted.append(app)
