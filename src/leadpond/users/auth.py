"""Who is calling the admin API: an API key (``Authorization: Bearer``) or a console session.

An API key acts as admin of its workspace. A session cookie acts with the user's role in the
session's current workspace. Every endpoint declares the role it needs with one of the actors
below — never inferred from the HTTP method (``POST …:preview`` only reads, so it is a
``ReadActor``). ``tests/workspaces/test_declared_roles.py`` fails for an endpoint without one.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Cookie, Depends, Header

from leadpond.db.engine import read_only
from leadpond.kit.errors import Forbidden
from leadpond.users.service import Role, resolve_session
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


def _bearer(authorization: str | None) -> str:
    if authorization and authorization.lower().startswith("bearer "):
        return authorization[7:].strip()
    return ""


def caller(
    authorization: Annotated[str | None, Header()] = None,
    leadpond_session: Annotated[str | None, Cookie(include_in_schema=False)] = None,
) -> Actor:
    """The workspace and role of the caller (API key first, then session cookie), or 401."""
    token = _bearer(authorization)
    with read_only() as session:
        if token or not leadpond_session:
            workspace_id = key_cache.resolve(session, token, KeyKind.API)
            return Actor(workspace_id=workspace_id, via="api_key")
        found = resolve_session(session, leadpond_session)
    return Actor(
        workspace_id=found.workspace_id, via="session", role=found.role.value, user_id=found.user_id
    )


def _check(actor: Actor, needed: Role) -> None:
    if not Role(actor.role).allows(needed):
        raise RoleTooLow(f"this needs the {needed.value} role; you are {actor.role}")


def require_role(needed: Role) -> Callable[[Actor], Actor]:
    """A dependency: the caller, who must hold at least ``needed`` in the workspace."""

    def dependency(actor: Annotated[Actor, Depends(caller)]) -> Actor:
        _check(actor, needed)
        return actor

    dependency.needed_role = needed  # type: ignore[attr-defined]  # read by the roles test
    return dependency


def declared_role(call: object) -> Role | None:
    """The role a dependency made by ``require_role`` asks for (None for any other callable)."""
    needed = getattr(call, "needed_role", None)
    return needed if isinstance(needed, Role) else None


# Reads: any member (viewer and up). Writes: marketer and up. Members and keys: admin.
ReadActor = Annotated[Actor, Depends(require_role(Role.VIEWER))]
WriteActor = Annotated[Actor, Depends(require_role(Role.MARKETER))]
AdminActor = Annotated[Actor, Depends(require_role(Role.ADMIN))]
