"""The login page: a plain HTML form posted to ``/console/login`` (see ``console.setup``)."""

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import ui

from leadpond.console.i18n import DEFAULT_LOCALE, LOCALE_NAMES, translator
from leadpond.console.pages.frame import base_path, speak, visit
from leadpond.db.engine import read_only


def login_page(request: Request, error: str = "", lang: str = "") -> RedirectResponse | None:
    """Email and password; already logged-in visitors go straight to the dashboard."""
    base = base_path(request)
    with read_only() as session:
        logged_in = not isinstance(visit(request, session), RedirectResponse)
    if logged_in:
        return RedirectResponse(f"{base}/", status_code=303)
    lang = lang if lang in LOCALE_NAMES else ""
    _ = translator(lang or DEFAULT_LOCALE)
    speak(lang or DEFAULT_LOCALE)
    ui.page_title(_("Log in") + " · leadpond")
    with ui.card().classes("absolute-center w-96 gap-2"):
        ui.label("leadpond").classes("text-2xl font-bold")
        ui.label(_("Marketing console")).classes("text-gray-600")
        if error == "throttled":
            ui.label(_("Too many login attempts. Wait a minute, then try again.")).classes(
                "text-negative"
            ).mark("login-error")
        elif error:
            ui.label(_("Wrong email or password.")).classes("text-negative").mark("login-error")
        with (
            ui.element("form")
            .props(f'method="post" action="{base}/login"')
            .classes("w-full flex flex-col gap-2")
        ):
            ui.input(_("Email")).props('name="email" type="email" autofocus').classes(
                "w-full"
            ).mark("email")
            ui.input(_("Password"), password=True).props('name="password"').classes("w-full").mark(
                "password"
            )
            # A failed login comes back to the form in the language it was shown in.
            if lang:
                ui.element("input").props(f'type="hidden" name="lang" value="{lang}"')
            ui.button(_("Log in")).props('type="submit" color="primary"').classes("w-full").mark(
                "submit"
            )
        with ui.row().classes("gap-2"):
            for code, name in LOCALE_NAMES.items():
                # ui.link puts the mount path before a path starting with "/" itself.
                ui.link(name, f"/login?lang={code}").classes(f"text-sm lp-lang-{code}")
    return None
