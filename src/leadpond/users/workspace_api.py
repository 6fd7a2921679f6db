"""The workspace's settings over HTTP: its name and time zone, and its keys (write keys for the
SDKs, API keys for the REST API) — listed by prefix, issued once, revoked."""

from typing import Annotated

from fastapi import APIRouter, Header, Path

from leadpond.kit.http import ReadSession, WriteSession
from leadpond.kit.pagination import Page
from leadpond.users.auth import bearer_token
from leadpond.users.permissions import MembersRead, MembersWrite, WorkspaceRead, WorkspaceWrite
from leadpond.users.schemas import KeyCreate, KeyIssued, KeyRead, WorkspaceUpdate
from leadpond.users.schemas import WorkspaceRead as WorkspaceBody
from leadpond.workspaces import service
from leadpond.workspaces.models import ApiCredential, Workspace

router = APIRouter(prefix="/api/v1", tags=["workspace"])

KeyId = Annotated[int, Path(ge=1, le=2**63 - 1)]


def _read(workspace: Workspace) -> WorkspaceBody:
    return WorkspaceBody(
        workspace_id=workspace.id,
        name=workspace.name,
        time_zone=workspace.time_zone,
        created_at=workspace.created_at,
    )


def _key(found: ApiCredential) -> KeyRead:
    return KeyRead(
        id=found.id,
        kind=found.kind,
        name=found.name,
        prefix=found.prefix,
        created_at=found.created_at,
        revoked_at=found.revoked_at,
    )


@router.get("/workspace", response_model=WorkspaceBody)
def read_workspace(actor: WorkspaceRead, session: ReadSession) -> WorkspaceBody:
    """The workspace's name and time zone (every console time is shown and taken in it)."""
    return _read(service.get_workspace(session, actor.workspace_id))


@router.put("/workspace", response_model=WorkspaceBody)
def update_workspace(
    body: WorkspaceUpdate, actor: WorkspaceWrite, session: WriteSession
) -> WorkspaceBody:
    """Rename the workspace or move it to another IANA time zone (400 for an unknown one)."""
    found = service.update_workspace(
        session, actor.workspace_id, name=body.name, time_zone=body.time_zone
    )
    session.flush()
    return _read(found)


@router.get("/workspace/keys", response_model=Page[KeyRead])
def list_keys(actor: MembersRead, session: ReadSession) -> Page[KeyRead]:
    """The workspace's keys by prefix, newest first, revoked ones included."""
    found = service.list_keys(session, actor.workspace_id)
    return Page[KeyRead](total=len(found), items=[_key(k) for k in found])


@router.post("/workspace/keys", response_model=KeyIssued, status_code=201)
def issue_key(body: KeyCreate, actor: MembersWrite, session: WriteSession) -> KeyIssued:
    """A new write or API key; its secret is in this answer only."""
    made, secret = service.issue_credential(
        session, actor.workspace_id, service.KeyKind(body.kind), body.name.strip() or "default"
    )
    session.flush()
    return KeyIssued(**_key(made).model_dump(), secret=secret)


@router.delete("/workspace/keys/{key_id}", response_model=KeyRead)
def revoke_key(
    key_id: KeyId,
    actor: MembersWrite,
    session: WriteSession,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> KeyRead:
    """Revoke a key (409 ``key_in_use`` for the key this request is made with)."""
    found = service.revoke_key(
        session, actor.workspace_id, key_id, used_by_caller=bearer_token(authorization)
    )
    session.flush()
    return _key(found)
