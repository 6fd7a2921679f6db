"""Console login over HTTP (session cookie), the caller's identity, and workspace members."""

from typing import Annotated

from fastapi import APIRouter, Cookie, Depends, Path, Request, Response

from leadpond.config import get_settings
from leadpond.kit.errors import InvalidInput
from leadpond.kit.http import ReadSession, WriteSession
from leadpond.kit.pagination import Page
from leadpond.users import service, throttle
from leadpond.users.auth import SESSION_COOKIE, Actor, caller
from leadpond.users.permissions import MembersRead, MembersWrite
from leadpond.users.schemas import (
    LocaleBody,
    LoginBody,
    MemberCreate,
    MemberRead,
    MeRead,
    RoleBody,
    SwitchWorkspaceBody,
    WorkspaceChoice,
)
from leadpond.workspaces.service import get_workspace

router = APIRouter(prefix="/api/v1", tags=["users"])

UserId = Annotated[int, Path(ge=1, le=2**63 - 1)]
SessionCookie = Annotated[str | None, Cookie(alias=SESSION_COOKIE, include_in_schema=False)]
# Anyone logged in may ask who they are: it reads no workspace data, so no domain's permission.
Caller = Annotated[Actor, Depends(caller)]


def cookie_secure(request: Request) -> bool:
    """``LEADPOND_COOKIE_SECURE``, or (unset) whether this request came over https."""
    configured = get_settings().cookie_secure
    return request.url.scheme == "https" if configured is None else configured


def client_address(request: Request) -> str:
    """The caller's address as the server saw it (the proxy's, unless run with proxy headers)."""
    return request.client.host if request.client else "unknown"


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    """The session cookie: HttpOnly, SameSite=Lax, Secure over https, for the whole site.

    SameSite does not stop another port of the same host; ``kit.csrf`` does."""
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(service.SESSION_LIFETIME.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=cookie_secure(request),
        path="/",
    )


def clear_session_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=cookie_secure(request)
    )


def _me(session: ReadSession | WriteSession, actor: Actor) -> MeRead:
    if actor.user_id is None:
        workspace = get_workspace(session, actor.workspace_id)
        choice = WorkspaceChoice(workspace_id=workspace.id, name=workspace.name, role=actor.role)
        return MeRead(
            via=actor.via, workspace_id=actor.workspace_id, role=actor.role, workspaces=[choice]
        )
    user = service.get_user(session, actor.user_id)
    return MeRead(
        via=actor.via,
        workspace_id=actor.workspace_id,
        role=actor.role,
        user_id=user.id,
        email=user.email,
        name=user.name,
        locale=user.locale,
        workspaces=[
            WorkspaceChoice(workspace_id=w.id, name=w.name, role=role.value)
            for w, role in service.workspaces_of(session, user.id)
        ],
    )


@router.post("/auth/login", response_model=MeRead)
def login(body: LoginBody, request: Request, response: Response, session: WriteSession) -> MeRead:
    """Check the password and open a session (set as an HttpOnly cookie).

    429 ``too_many_logins`` after 10 failed attempts per email (30 per address) in a minute."""
    user_id = throttle.log_in(body.email, body.password, client_address(request))
    user = service.get_user(session, user_id)
    token, opened = service.open_session(session, user, body.workspace_id)
    set_session_cookie(request, response, token)
    role = service.role_in(session, user.id, opened.workspace_id)
    actor = Actor(opened.workspace_id, "session", role.value, user.id)
    return _me(session, actor)


@router.post("/auth/logout", status_code=204)
def logout(
    request: Request, response: Response, session: WriteSession, token: SessionCookie = None
) -> None:
    """End the session of this cookie (if any) and clear the cookie."""
    if token:
        service.close_session(session, token)
    clear_session_cookie(request, response)


@router.get("/auth/me", response_model=MeRead)
def me(actor: Caller, session: ReadSession) -> MeRead:
    """Who is calling, in which workspace, with which role, and where else they may work."""
    return _me(session, actor)


@router.put("/auth/workspace", response_model=MeRead)
def switch_workspace(
    body: SwitchWorkspaceBody, session: WriteSession, token: SessionCookie = None
) -> MeRead:
    """Move this session to another of the user's workspaces."""
    found = service.switch_workspace(session, token or "", body.workspace_id)
    return _me(session, Actor(found.workspace_id, "session", found.role.value, found.user_id))


@router.put("/auth/locale", response_model=MeRead)
def set_locale(body: LocaleBody, session: WriteSession, token: SessionCookie = None) -> MeRead:
    """The console language of the logged-in user (zh_CN or en)."""
    found = service.resolve_session(session, token or "")
    service.set_locale(session, found.user_id, body.locale)
    return _me(session, Actor(found.workspace_id, "session", found.role.value, found.user_id))


@router.get("/users", response_model=Page[MemberRead])
def list_members(actor: MembersRead, session: ReadSession) -> Page[MemberRead]:
    """The workspace's console users and their roles."""
    found = service.members(session, actor.workspace_id)
    return Page[MemberRead](total=len(found), items=[MemberRead.build(u, m) for u, m in found])


@router.post("/users", response_model=MemberRead, status_code=201)
def add_member(body: MemberCreate, actor: MembersWrite, session: WriteSession) -> MemberRead:
    """Give a user a role in this workspace, creating the user when the email is new."""
    user = service.find_user(session, body.email)
    if user is None:
        if body.password is None:
            raise InvalidInput("a new user needs a password", field="password")
        user = service.create_user(session, body.email, body.name, body.password, body.locale)
    membership = service.grant(session, user.id, actor.workspace_id, body.role)
    return MemberRead.build(user, membership)


@router.put("/users/{user_id}/role", response_model=MemberRead)
def change_role(
    user_id: UserId, body: RoleBody, actor: MembersWrite, session: WriteSession
) -> MemberRead:
    """Change a member's role in this workspace."""
    service.role_in(session, user_id, actor.workspace_id)
    membership = service.grant(session, user_id, actor.workspace_id, body.role)
    return MemberRead.build(service.get_user(session, user_id), membership)


@router.delete("/users/{user_id}", status_code=204)
def remove_member(user_id: UserId, actor: MembersWrite, session: WriteSession) -> None:
    """Remove the user from this workspace (their other workspaces are untouched)."""
    service.revoke_membership(session, user_id, actor.workspace_id)
