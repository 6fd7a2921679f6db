"""The signed links a message carries: open pixel, click redirect, unsubscribe.

``channels.public`` serves them; the signature (``workspaces.signing``) holds everything the
link acts on, so a click can only redirect to the URL that was signed (no open redirect).
"""

import uuid

from sqlalchemy.orm import Session

from leadpond.config import get_settings
from leadpond.workspaces.signing import sign

OPEN, CLICK, UNSUBSCRIBE = "open", "click", "unsubscribe"


def _base() -> str:
    return get_settings().public_url.rstrip("/")


def open_pixel_url(session: Session, workspace_id: uuid.UUID, message_id: int) -> str:
    """The 1×1 GIF whose fetch records an open."""
    token = sign(session, workspace_id, OPEN, {"m": message_id})
    return f"{_base()}/t/o/{token}.gif"


def click_url(session: Session, workspace_id: uuid.UUID, message_id: int, url: str) -> str:
    """A redirect to ``url`` that records a click."""
    token = sign(session, workspace_id, CLICK, {"m": message_id, "u": url})
    return f"{_base()}/t/c/{token}"


def click_base_url() -> str:
    """Where click tokens are served (the email helper appends the token)."""
    return f"{_base()}/t/c/"


def unsubscribe_url(
    session: Session, workspace_id: uuid.UUID, message_id: int, person_id: int, channel: str
) -> str:
    """The unsubscribe page (a GET shows a button; the POST unsubscribes, RFC 8058)."""
    token = sign(
        session, workspace_id, UNSUBSCRIBE, {"m": message_id, "p": person_id, "c": channel}
    )
    return f"{_base()}/u/{token}"
