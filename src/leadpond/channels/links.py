"""The signed links a message carries: open pixel, click redirect, unsubscribe.

``channels.public`` serves them; the signature (``workspaces.signing``) holds everything the
link acts on, so a click can only redirect to the URL that was signed (no open redirect).
"""

import uuid

from sqlalchemy.orm import Session

from leadpond.config import get_settings
from leadpond.workspaces.signing import TokenSigner, signer

OPEN, CLICK, UNSUBSCRIBE = "open", "click", "unsubscribe"


def _base() -> str:
    return get_settings().public_url.rstrip("/")


def click_base_url() -> str:
    """Where click tokens are served (the email helper appends the token)."""
    return f"{_base()}/t/c/"


class Links:
    """A workspace's message links; its signing key is read once, at the first link."""

    def __init__(self, session: Session, workspace_id: uuid.UUID) -> None:
        self.session, self.workspace_id = session, workspace_id
        self._signers: dict[str, TokenSigner] = {}

    @classmethod
    def ready(cls, session: Session, workspace_id: uuid.UUID) -> "Links":
        """Links whose signers are all made now (the key created if it is the first), so they
        need the session no more: the batch is then decided in a read transaction."""
        links = cls(session, workspace_id)
        for purpose in (OPEN, CLICK, UNSUBSCRIBE):
            links.signer(purpose)
        return links

    def signer(self, purpose: str) -> TokenSigner:
        """Signs ``purpose`` tokens; needs no session once made (clicks are signed while an
        email is composed, outside any transaction)."""
        if purpose not in self._signers:
            self._signers[purpose] = signer(self.session, self.workspace_id, purpose)
        return self._signers[purpose]

    def open_pixel_url(self, message_id: int) -> str:
        """The 1×1 GIF whose fetch records an open."""
        return f"{_base()}/t/o/{self.signer(OPEN)({'m': message_id})}.gif"

    def unsubscribe_url(self, message_id: int, person_id: int, channel: str) -> str:
        """The unsubscribe page (a GET shows a button; the POST unsubscribes, RFC 8058)."""
        token = self.signer(UNSUBSCRIBE)({"m": message_id, "p": person_id, "c": channel})
        return f"{_base()}/u/{token}"
