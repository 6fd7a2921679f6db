"""Creating workspaces and checking the keys that reach them."""

import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadpond.kit.clock import utcnow
from leadpond.kit.errors import Conflict, InvalidInput, NotFound, Unauthorized
from leadpond.kit.scope import owned
from leadpond.workspaces.models import (
    DEFAULT_TIME_ZONE,
    NAME_MAX_LENGTH,
    ApiCredential,
    Workspace,
)


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
    return issue_credential(session, workspace_id, kind, name)[1]


def issue_credential(
    session: Session, workspace_id: uuid.UUID, kind: KeyKind, name: str = "default"
) -> tuple[ApiCredential, str]:
    """Create a key of the given kind: its stored row and the plain secret, given once."""
    secret = _PREFIX[kind] + secrets.token_urlsafe(24)
    credential = ApiCredential(
        workspace_id=workspace_id,
        kind=kind.value,
        name=name,
        prefix=secret[:10],
        secret_hash=hash_secret(secret),
    )
    session.add(credential)
    return credential, secret


def _checked_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise InvalidInput("workspace name must not be empty", field="name")
    if len(name) > NAME_MAX_LENGTH:
        # PostgreSQL would refuse it with a driver error, SQLite would store it: say it plainly.
        raise InvalidInput(
            f"workspace name must be at most {NAME_MAX_LENGTH} characters", field="name"
        )
    return name


def create_workspace(session: Session, name: str) -> NewWorkspace:
    """A new workspace with one write key and one API key, and no playbook yet
    (:func:`leadpond.playbooks.service.start_workspace` gives it the default one)."""
    workspace = Workspace(name=_checked_name(name))
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


@lru_cache(maxsize=1)
def time_zones() -> tuple[str, ...]:
    """The IANA zone names a workspace may be in, sorted (the console's picker)."""
    return tuple(sorted(available_timezones()))


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    """The zone of an IANA name; the default zone for a name this machine no longer knows."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TIME_ZONE)


def zone_of(session: Session, workspace_id: uuid.UUID) -> ZoneInfo:
    """The workspace's time zone: every time the console shows or takes is in it."""
    name = session.scalar(select(Workspace.time_zone).where(Workspace.id == workspace_id))
    return zone(name or DEFAULT_TIME_ZONE)


def update_workspace(
    session: Session,
    workspace_id: uuid.UUID,
    *,
    name: str | None = None,
    time_zone: str | None = None,
) -> Workspace:
    """Rename the workspace or move it to another time zone (an IANA name such as
    ``Asia/Shanghai``); an unknown zone is bad input and changes nothing."""
    workspace = get_workspace(session, workspace_id)
    checked = _checked_name(name) if name is not None else workspace.name
    if time_zone is not None and time_zone not in time_zones():
        raise InvalidInput(
            f"unknown time zone {time_zone!r}: give an IANA name such as Asia/Shanghai",
            field="time_zone",
        )
    workspace.name = checked
    if time_zone is not None:
        workspace.time_zone = time_zone
    return workspace


class KeyNotFound(NotFound):
    code = "key_not_found"


class KeyInUse(Conflict):
    code = "key_in_use"


def list_keys(session: Session, workspace_id: uuid.UUID) -> list[ApiCredential]:
    """The workspace's keys, newest first, revoked ones included (their secrets are not kept)."""
    return list(
        session.scalars(
            select(ApiCredential)
            .where(owned(ApiCredential, workspace_id))
            .order_by(ApiCredential.created_at.desc(), ApiCredential.id.desc())
        )
    )


def revoke_key(
    session: Session, workspace_id: uuid.UUID, key_id: int, *, used_by_caller: str = ""
) -> ApiCredential:
    """Revoke a key of the workspace: it stops working at once in this process and within
    :class:`KeyCache`'s time to live in the others. The key the caller is using is refused
    (``key_in_use``): revoke it from another key or the console."""
    found = session.scalar(
        select(ApiCredential).where(owned(ApiCredential, workspace_id), ApiCredential.id == key_id)
    )
    if found is None:
        raise KeyNotFound(f"key {key_id} not found")
    if used_by_caller and found.secret_hash == hash_secret(used_by_caller):
        raise KeyInUse("this is the key the request was made with: revoke it with another one")
    if found.revoked_at is None:
        found.revoked_at = utcnow()
    key_cache.clear()
    return found


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
