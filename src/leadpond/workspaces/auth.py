"""Who is calling the admin API: an API key (``Authorization: Bearer``) scoped to one workspace."""

import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header

from leadpond.db.engine import read_only
from leadpond.workspaces.service import KeyKind, key_cache


@dataclass(frozen=True)
class Actor:
    workspace_id: uuid.UUID
    via: str
    role: str = "admin"


def api_actor(authorization: Annotated[str | None, Header()] = None) -> Actor:
    """The workspace an API key belongs to, or 401."""
    token = ""
    if authorization and authorization.lower().startswith("bearer "):
        token = authorization[7:].strip()
    with read_only() as session:
        workspace_id = key_cache.resolve(session, token, KeyKind.API)
    return Actor(workspace_id=workspace_id, via="api_key")


ApiActor = Annotated[Actor, Depends(api_actor)]
