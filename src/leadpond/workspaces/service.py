"""Creating workspaces and checking the keys that reach them."""

import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadpond.kit.errors import InvalidInput, NotFound, Unauthorized
from leadpond.workspaces.models import NAME_MAX_LENGTH, ApiCredential, Workspace


class KeyKind(StrEnum):
    WRITE = "write"
    API = "api"


_PREFIX = {KeyKind.WRITE: "wk_", KeyKind.API: "lpk_"}


@dataclass(frozen=True)
class NewWorkspace:
    workspace_id: uuid.UUID
    write_key: str
    api_key: str


def hash_secret(secret: str) -> str:
    """Keys are 192-bit random tokens, so a plain SHA-256 is a safe, fast lookup hash."""
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_key(
    session: Session, workspace_id: uuid.UUID, kind: KeyKind, name: str = "default"
) -> str:
    """Create a key of the given kind; the plain secret is returned once and never stored."""
    secret = _PREFIX[kind] + secrets.token_urlsafe(24)
    session.add(
        ApiCredential(
            workspace_id=workspace_id,
            kind=kind.value,
            name=name,
            prefix=secret[:10],
            secret_hash=hash_secret(secret),
        )
    )
    return secret


def create_workspace(session: Session, name: str) -> NewWorkspace:
    """A new workspace with one write key and one API key, and no playbook yet
    (:func:`leadpond.playbooks.service.start_workspace` gives it the default one)."""
    name = name.strip()
    if not name:
        raise InvalidInput("workspace name must not be empty", field="name")
    if len(name) > NAME_MAX_LENGTH:
        # PostgreSQL would refuse it with a driver error, SQLite would store it: say it plainly.
        raise InvalidInput(
            f"workspace name must be at most {NAME_MAX_LENGTH} characters", field="name"
        )
    workspace = Workspace(name=name)
    session.add(workspace)
    session.flush()
    return NewWorkspace(
        workspace_id=workspace.id,
        write_key=issue_key(session, workspace.id, KeyKind.WRITE),
        api_key=issue_key(session, workspace.id, KeyKind.API),
    )


def get_workspace(session: Session, workspace_id: uuid.UUID) -> Workspace:
    """The workspace, or a 404."""
    workspace = session.get(Workspace, workspace_id)
    if workspace is None:
        raise NotFound(f"workspace {workspace_id} not found")
    return workspace


def find_workspace(session: Session, name_or_id: str) -> Workspace:
    """A workspace by id or by exact name (CLI convenience)."""
    try:
        return get_workspace(session, uuid.UUID(name_or_id))
    except ValueError:
        pass
    found = session.scalars(select(Workspace).where(Workspace.name == name_or_id)).all()
    if len(found) != 1:
        raise NotFound(f"no single workspace named {name_or_id!r} ({len(found)} found)")
    return found[0]


class KeyCache:
    """Key hash -> workspace id, remembered briefly so ingestion avoids a query per request."""

    def __init__(self, ttl_s: float = 30.0) -> None:
        self._ttl_s = ttl_s
        self._entries: dict[tuple[str, str], tuple[uuid.UUID, float]] = {}

    def resolve(self, session: Session, secret: str, kind: KeyKind) -> uuid.UUID:
        """The workspace a valid, unrevoked key of this kind belongs to, or 401."""
        if not secret:
            raise Unauthorized(f"missing {kind.value} key")
        digest = hash_secret(secret)
        now = time.monotonic()
        cached = self._entries.get((digest, kind.value))
        if cached is not None and cached[1] > now:
            return cached[0]
        workspace_id = session.scalar(
            select(ApiCredential.workspace_id).where(
                ApiCredential.secret_hash == digest,
                ApiCredential.kind == kind.value,
                ApiCredential.revoked_at.is_(None),
            )
        )
        if workspace_id is None:
            raise Unauthorized(f"invalid {kind.value} key")
        self._entries[(digest, kind.value)] = (workspace_id, now + self._ttl_s)
        return workspace_id

    def clear(self) -> None:
        self._entries.clear()


key_cache = KeyCache()
