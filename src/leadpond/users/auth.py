"""Who is calling the admin API: an API key (``Authorization: Bearer``) or a console session.

An API key acts as admin of its workspace. A session cookie acts with the user's role in the
session's current workspace. What each role may do is ``leadpond.users.permissions``.
"""

import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import Cookie, Header

from leadpond.db.engine import read_only
from leadpond.kit.errors import Forbidden
from leadpond.users.service import resolve_session
from leadpond.workspaces.service import KeyKind, key_cache

SESSION_COOKIE = "leadpond_session"


@dataclass(frozen=True)
class Actor:
    workspace_id: uuid.UUID
    via: str
    role: str = "admin"
    user_id: int | None = None


class RoleTooLow(Forbidden):
    code = "role_too_low"


def bearer_token(authorization: str | None) -> str:
    """The token of an ``Authorization: Bearer …`` header ("" without one)."""
    if authorization and authorization.lower().startswith("bearer "):
        return authorization[7:].strip()
    return ""


def caller(
    authorization: Annotated[str | None, Header()] = None,
    leadpond_session: Annotated[str | None, Cookie(include_in_schema=False)] = None,
) -> Actor:
    """The workspace and role of the caller (API key first, then session cookie), or 401."""
    token = bearer_token(authorization)
    with read_only() as session:
        if token or not leadpond_session:
            workspace_id = key_cache.resolve(session, token, KeyKind.API)
            return Actor(workspace_id=workspace_id, via="api_key")
        found = resolve_session(session, leadpond_session)
    return Actor(
        workspace_id=found.workspace_id, via="session", role=found.role.value, user_id=found.user_id
    )
