"""Who is calling the admin API: an API key (``Authorization: Bearer``) or a console session.

An API key acts as admin of its workspace. A session cookie acts with the user's role in the
session's current workspace. Reads need any role; writes (POST, PUT, PATCH, DELETE) need
marketer or admin unless the endpoint asks for a specific role with ``require_role``.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Cookie, Depends, Header, Request

from leadpond.db.engine import read_only
from leadpond.kit.errors import Forbidden
from leadpond.users.service import Role, resolve_session
from leadpond.workspaces.service import KeyKind, key_cache

SESSION_COOKIE = "leadpond_session"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
WRITE_ROLE = Role.MARKETER


@dataclass(frozen=True)
class Actor:
    workspace_id: uuid.UUID
    via: str
    role: str = "admin"
    user_id: int | None = None


class RoleTooLow(Forbidden):
    code = "role_too_low"


def _bearer(authorization: str | None) -> str:
    if authorization and authorization.lower().startswith("bearer "):
        return authorization[7:].strip()
    return ""


def api_actor(
    request: Request,
    authorization: Annotated[str | None, Header()] = None,
    leadpond_session: Annotated[str | None, Cookie(include_in_schema=False)] = None,
) -> Actor:
    """The workspace and role of the caller (API key first, then session cookie), or 401/403."""
    token = _bearer(authorization)
    with read_only() as session:
        if token or not leadpond_session:
            workspace_id = key_cache.resolve(session, token, KeyKind.API)
            return Actor(workspace_id=workspace_id, via="api_key")
        found = resolve_session(session, leadpond_session)
    actor = Actor(
        workspace_id=found.workspace_id, via="session", role=found.role.value, user_id=found.user_id
    )
    if request.method in WRITE_METHODS:
        _check(actor, WRITE_ROLE)
    return actor


def _check(actor: Actor, needed: Role) -> None:
    if not Role(actor.role).allows(needed):
        raise RoleTooLow(f"this needs the {needed.value} role; you are {actor.role}")


def require_role(needed: Role) -> Callable[[Actor], Actor]:
    """A dependency: the caller, who must hold at least ``needed`` in the workspace."""

    def dependency(actor: Annotated[Actor, Depends(api_actor)]) -> Actor:
        _check(actor, needed)
        return actor

    return dependency


ApiActor = Annotated[Actor, Depends(api_actor)]
AdminActor = Annotated[Actor, Depends(require_role(Role.ADMIN))]
MarketerActor = Annotated[Actor, Depends(require_role(Role.MARKETER))]
