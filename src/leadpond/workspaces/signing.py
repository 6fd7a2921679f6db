"""Signed tokens for the links a workspace hands out: unsubscribe and preference centre, open
pixel and click redirect, later badges and tracking links.

A token is ``<workspace id>.<itsdangerous signature of the data>``: the workspace part picks the
key, the signature (salted with the token's purpose) proves the rest. An unsubscribe token cannot
open a click redirect, and no token of one workspace verifies in another.
"""

import hmac
import json
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from itsdangerous.encoding import base64_encode, int_to_bytes
from sqlalchemy import select
from sqlalchemy.orm import Session

from leadpond.db.engine import dialect_insert
from leadpond.kit.errors import NotFound
from leadpond.kit.scope import owned
from leadpond.workspaces.models import SigningKey


class BadToken(NotFound):
    """A link that was not issued here (or has expired): answered like a missing page."""

    code = "link_not_found"


def _secret(session: Session, workspace_id: uuid.UUID) -> str:
    found = session.scalar(select(SigningKey.secret).where(owned(SigningKey, workspace_id)))
    if found is not None:
        return found
    # Two first sends at once must end with one key: insert-or-ignore, then read.
    session.execute(
        dialect_insert(session, SigningKey)
        .values(workspace_id=workspace_id, secret=secrets.token_hex(32))
        .on_conflict_do_nothing(index_elements=["workspace_id"])
    )
    return session.scalars(select(SigningKey.secret).where(owned(SigningKey, workspace_id))).one()


def sign(session: Session, workspace_id: uuid.UUID, purpose: str, data: Any) -> str:
    """A token for ``data`` (anything JSON), good only for ``purpose`` in this workspace."""
    return signer(session, workspace_id, purpose)(data)


@dataclass(frozen=True)
class TokenSigner:
    """Signs one purpose's tokens of one workspace without a session, and pickles (an email's
    click links are signed while it is composed, outside any transaction, in the sender's
    process).

    The tokens are exactly itsdangerous's (``payload.timestamp.signature``: compact JSON in
    URL-safe base64, HMAC-SHA1 under the key it derives from the secret and the purpose), made
    with that key derived once and a one-shot HMAC: itsdangerous derives it again for every
    token, a third of an email's signing cost (five tokens each)."""

    head: str
    key: bytes

    def __call__(self, data: Any) -> str:
        payload = base64_encode(
            json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
        )
        value = payload + b"." + base64_encode(int_to_bytes(int(time.time())))
        signature = base64_encode(hmac.digest(self.key, value, "sha1"))
        return f"{self.head}.{(value + b'.' + signature).decode()}"


def signer(session: Session, workspace_id: uuid.UUID, purpose: str) -> TokenSigner:
    """:func:`sign` for many tokens: the key is read once."""
    signs = URLSafeTimedSerializer(_secret(session, workspace_id), salt=purpose).make_signer(
        purpose
    )
    assert signs.digest_method().name == "sha1" and signs.sep == b"."
    return TokenSigner(workspace_id.hex, signs.derive_key())


def unsign(
    session: Session, token: str, purpose: str, max_age_s: int | None = None
) -> tuple[uuid.UUID, Any]:
    """The workspace and data of a token made by :func:`sign` for ``purpose``, or
    :class:`BadToken`."""
    head, _, body = token.partition(".")
    try:
        workspace_id = uuid.UUID(hex=head)
    except ValueError as exc:
        raise BadToken("this link is not valid") from exc
    secret = session.scalar(select(SigningKey.secret).where(owned(SigningKey, workspace_id)))
    if secret is None or not body:
        raise BadToken("this link is not valid")
    signer = URLSafeTimedSerializer(secret, salt=purpose)
    try:
        return workspace_id, signer.loads(body, max_age=max_age_s)
    except SignatureExpired as exc:
        raise BadToken("this link has expired") from exc
    except BadSignature as exc:
        raise BadToken("this link is not valid") from exc
