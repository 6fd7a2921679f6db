"""Cross-site request forgery: a browser may not change state with a cookie from another origin.

A request is cookie-authenticated when it carries the session cookie and no ``Authorization``
header (an API key is never sent by a browser on its own, so key-authenticated calls are left
alone). Such a request that changes state (any method but GET/HEAD/OPTIONS, and every websocket,
which is how the NiceGUI console sends its clicks) must come from the app's own origin:

* ``Sec-Fetch-Site``, when the browser sends it, must be ``same-origin`` (or ``none``: typed
  by the user). Another port of the same host is ``same-site`` and is refused — SameSite=Lax
  cookies are still sent there, which is why the cookie alone is no protection.
* Otherwise ``Origin``, when sent, must name this host and port (``null`` is refused).
* A browser-made JSON API call must carry a non-"simple" content type: ``text/plain``, forms and
  multipart can be sent across origins without a CORS preflight, so they are refused (403) on
  ``/api/`` paths unless the path takes uploads.

Requests with neither header come from scripts, not browsers, and pass. ``public_paths`` (the
links in messages: unsubscribe, tracking) act on a signed token in the URL, never on the session,
so they are left alone: a mail provider's one-click POST comes from anywhere. The login routes are
checked even without a cookie, so that no other site can log a visitor into its own account.
"""

import json
from collections.abc import Iterable
from http.cookies import SimpleCookie
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SIMPLE_CONTENT_TYPES = frozenset(
    {"text/plain", "application/x-www-form-urlencoded", "multipart/form-data"}
)


class CrossOriginGuard:
    """ASGI middleware refusing cross-origin, cookie-authenticated state changes with 403 JSON."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        cookie: str,
        login_paths: Iterable[str] = (),
        upload_paths: Iterable[str] = (),
        public_paths: Iterable[str] = (),
    ) -> None:
        self.app = app
        self.cookie = cookie
        self.login_paths = frozenset(login_paths)
        self.upload_paths = tuple(upload_paths)
        self.public_paths = tuple(public_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            problem = self.problem(scope)
            if problem is not None:
                await _refuse(scope, receive, send, problem)
                return
        await self.app(scope, receive, send)

    def problem(self, scope: Scope) -> str | None:
        """Why this request is refused, or None when it may go on."""
        if scope["type"] == "http" and scope["method"] in SAFE_METHODS:
            return None
        path = str(scope.get("path", ""))
        if self.public_paths and path.startswith(self.public_paths):
            return None
        headers = _headers(scope)
        by_cookie = "authorization" not in headers and self.cookie in _cookies(headers)
        if not by_cookie and path not in self.login_paths:
            return None
        site = headers.get("sec-fetch-site")
        if site is not None and site not in ("same-origin", "none"):
            return f"a {site} request may not use the console session"
        origin = headers.get("origin")
        if origin is not None and not same_host(origin, headers.get("host", "")):
            return f"origin {origin} may not use the console session"
        if by_cookie and scope["type"] == "http" and path.startswith("/api/"):
            content_type = headers.get("content-type", "").split(";")[0].strip().lower()
            if content_type in SIMPLE_CONTENT_TYPES and not path.startswith(self.upload_paths):
                return f"a {content_type} body cannot be sent with the console session"
        return None


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


def _cookies(headers: dict[str, str]) -> set[str]:
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(headers.get("cookie", ""))
    except Exception:  # an unparsable Cookie header names no session
        return set()
    return {name for name, morsel in jar.items() if morsel.value}


def same_host(origin: str, host: str) -> bool:
    """True when the Origin header names the host (and port) this request was sent to."""
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return False
    default = {"http": ":80", "https": ":443"}[parts.scheme]
    origin_netloc = parts.netloc.lower().removesuffix(default)
    return origin_netloc == host.lower().removesuffix(default)


async def _refuse(scope: Scope, receive: Receive, send: Send, message: str) -> None:
    body = json.dumps({"code": "cross_origin_refused", "message": message}).encode()
    if scope["type"] == "websocket":
        await receive()  # the websocket.connect message, then a close before accepting
        await send({"type": "websocket.close", "code": 1008, "reason": "cross_origin_refused"})
        return
    await send(
        {
            "type": "http.response.start",
            "status": 403,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
