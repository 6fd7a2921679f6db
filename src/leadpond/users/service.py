"""Users, roles and sessions: create users, check passwords, open and close console sessions."""

import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from leadpond.kit.clock import utcnow
from leadpond.kit.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthorized
from leadpond.kit.scope import owned, same_workspace
from leadpond.users.models import ConsoleSession, ConsoleUser, Membership
from leadpond.workspaces.models import Workspace
from leadpond.workspaces.service import get_workspace, hash_secret

SESSION_LIFETIME = timedelta(days=14)
LOCALES = ("zh_CN", "en")
MIN_PASSWORD_LENGTH = 8

_hasher = PasswordHasher()
# Verified against when the email is unknown, so both answers take as long.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class Role(StrEnum):
    VIEWER = "viewer"
    SALES = "sales"
    MARKETER = "marketer"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    def allows(self, needed: "Role") -> bool:
        """True when this role may do what ``needed`` may."""
        return self.rank >= needed.rank


class UserNotFound(NotFound):
    code = "user_not_found"


class UserExists(Conflict):
    code = "user_exists"


class LastAdmin(Conflict):
    code = "last_admin"


class BadCredentials(Unauthorized):
    code = "bad_credentials"


class NotAMember(Forbidden):
    code = "not_a_member"


@dataclass(frozen=True)
class SessionActor:
    """Who a valid session belongs to, and in which workspace they are working."""

    session_id: int
    user_id: int
    email: str
    name: str
    locale: str
    workspace_id: uuid.UUID
    role: Role


def hash_password(password: str) -> str:
    """An argon2id hash of the password."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"a password needs at least {MIN_PASSWORD_LENGTH} characters", field="password"
        )
    return _hasher.hash(password)


def normalise_email(email: str) -> str:
    """The login email, lower-cased and checked for shape (no DNS lookup)."""
    try:
        checked = validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidInput(f"{email!r} is not an email address: {exc}", field="email") from exc
    return checked.normalized.lower()


def check_role(role: str) -> Role:
    """The role named, or 400."""
    try:
        return Role(role)
    except ValueError:
        names = ", ".join(r.value for r in Role)
        raise InvalidInput(f"role must be one of {names}", field="role") from None


def check_locale(locale: str) -> str:
    """The locale named, or 400."""
    if locale not in LOCALES:
        raise InvalidInput(f"locale must be one of {', '.join(LOCALES)}", field="locale")
    return locale


def get_user(session: Session, user_id: int) -> ConsoleUser:
    """The user, or 404."""
    user = session.get(ConsoleUser, user_id)
    if user is None:
        raise UserNotFound(f"user {user_id} not found")
    return user


def role_in(session: Session, user_id: int, workspace_id: uuid.UUID) -> Role:
    """The user's role in the workspace; 404 when they are not a member."""
    role = session.scalar(
        select(Membership.role).where(
            Membership.user_id == user_id, owned(Membership, workspace_id)
        )
    )
    if role is None:
        raise UserNotFound(f"user {user_id} is not a member of this workspace")
    return Role(role)


def find_user(session: Session, email: str) -> ConsoleUser | None:
    """The user with this login email, if any."""
    return session.scalar(select(ConsoleUser).where(ConsoleUser.email == normalise_email(email)))


def create_user(
    session: Session, email: str, name: str, password: str, locale: str = "zh_CN"
) -> ConsoleUser:
    """A new console user; 409 when the email is taken."""
    address = normalise_email(email)
    if session.scalar(select(ConsoleUser.id).where(ConsoleUser.email == address)) is not None:
        raise UserExists(f"a user with email {address} exists")
    user = ConsoleUser(
        email=address,
        name=name.strip() or address.split("@")[0],
        password_hash=hash_password(password),
        locale=check_locale(locale),
    )
    session.add(user)
    session.flush()
    return user


def set_password(session: Session, user: ConsoleUser, password: str) -> None:
    """Replace the user's password and end every session they have open."""
    user.password_hash = hash_password(password)
    for open_session in session.scalars(
        select(ConsoleSession).where(
            ConsoleSession.user_id == user.id, ConsoleSession.revoked_at.is_(None)
        )
    ):
        open_session.revoked_at = utcnow()
    session.flush()


def grant(session: Session, user_id: int, workspace_id: uuid.UUID, role: str) -> Membership:
    """Give the user this role in the workspace (replacing the role they had there)."""
    checked = check_role(role)
    get_workspace(session, workspace_id)
    membership = session.scalar(
        select(Membership).where(Membership.user_id == user_id, owned(Membership, workspace_id))
    )
    if membership is None:
        membership = Membership(user_id=user_id, workspace_id=workspace_id, role=checked.value)
        session.add(membership)
    else:
        if checked != Role.ADMIN:
            _keep_an_admin(session, workspace_id, membership)
        membership.role = checked.value
    session.flush()
    return membership


def revoke_membership(session: Session, user_id: int, workspace_id: uuid.UUID) -> None:
    """Remove the user from the workspace and end their sessions in it."""
    membership = session.scalar(
        select(Membership).where(Membership.user_id == user_id, owned(Membership, workspace_id))
    )
    if membership is None:
        raise UserNotFound(f"user {user_id} is not a member of this workspace")
    _keep_an_admin(session, workspace_id, membership)
    session.delete(membership)
    for open_session in session.scalars(
        select(ConsoleSession).where(
            ConsoleSession.user_id == user_id,
            owned(ConsoleSession, workspace_id),
            ConsoleSession.revoked_at.is_(None),
        )
    ):
        open_session.revoked_at = utcnow()
    session.flush()


def _keep_an_admin(session: Session, workspace_id: uuid.UUID, leaving: Membership) -> None:
    """Refuse to take the admin role from the workspace's last admin (no one could manage its
    members and keys again but from the command line)."""
    if leaving.role != Role.ADMIN.value:
        return
    admins = session.scalar(
        select(func.count())
        .select_from(Membership)
        .where(owned(Membership, workspace_id), Membership.role == Role.ADMIN.value)
    )
    if (admins or 0) <= 1:
        raise LastAdmin("the workspace's last admin keeps the role: make another admin first")


def members(session: Session, workspace_id: uuid.UUID) -> list[tuple[ConsoleUser, Membership]]:
    """The workspace's users with their roles, by email."""
    rows = session.execute(
        select(ConsoleUser, Membership)
        .join(Membership, Membership.user_id == ConsoleUser.id)
        .where(owned(Membership, workspace_id))
        .order_by(ConsoleUser.email)
    )
    return [(user, membership) for user, membership in rows]


def workspaces_of(session: Session, user_id: int) -> list[tuple[Workspace, Role]]:
    """The workspaces the user may work in, by name, with their role in each."""
    rows = session.execute(
        select(Workspace, Membership.role)
        .join(Membership, owned(Membership, Workspace.id.expression))
        .where(Membership.user_id == user_id)
        .order_by(Workspace.name, Workspace.id)
    )
    return [(workspace, Role(role)) for workspace, role in rows]


def password_matches(user: ConsoleUser, password: str) -> bool:
    """True when the password is the user's."""
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def authenticate(session: Session, email: str, password: str) -> ConsoleUser:
    """The user whose email and password these are, or 401 (same answer for either mistake)."""
    try:
        user = find_user(session, email)
    except InvalidInput:
        user = None
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        user = None
    if user is None or user.disabled_at is not None:
        raise BadCredentials("wrong email or password")
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


def open_session(
    session: Session, user: ConsoleUser, workspace_id: uuid.UUID | None = None
) -> tuple[str, ConsoleSession]:
    """A new session token for the user (shown once), in the given workspace, else the one
    they last worked in (while still a member), else their first by name."""
    available = workspaces_of(session, user.id)
    if not available:
        raise NotAMember("this user is not a member of any workspace")
    member_of = {w.id for w, _ in available}
    chosen = available[0][0].id
    if user.last_workspace_id is not None and user.last_workspace_id in member_of:
        chosen = user.last_workspace_id
    if workspace_id is not None:
        if workspace_id not in member_of:
            raise NotAMember(f"not a member of workspace {workspace_id}")
        chosen = workspace_id
    token = "lps_" + secrets.token_urlsafe(32)
    now = utcnow()
    row = ConsoleSession(
        token_hash=hash_secret(token),
        user_id=user.id,
        workspace_id=chosen,
        created_at=now,
        expires_at=now + SESSION_LIFETIME,
    )
    session.add(row)
    user.last_login_at = now
    user.last_workspace_id = chosen
    session.flush()
    return token, row


def resolve_session(session: Session, token: str) -> SessionActor:
    """The live session this token opens, with the role in its current workspace, or 401."""
    if not token:
        raise Unauthorized("not logged in")
    row = session.execute(
        select(ConsoleSession, ConsoleUser, Membership.role)
        .join(ConsoleUser, ConsoleUser.id == ConsoleSession.user_id)
        .join(
            Membership,
            (Membership.user_id == ConsoleSession.user_id)
            & same_workspace(Membership, ConsoleSession),
        )
        .where(ConsoleSession.token_hash == hash_secret(token))
    ).first()
    if row is None:
        raise Unauthorized("session not found or no longer a member")
    found, user, role = row
    if found.revoked_at is not None or found.expires_at <= utcnow() or user.disabled_at:
        raise Unauthorized("session ended; log in again")
    return SessionActor(
        session_id=found.id,
        user_id=user.id,
        email=user.email,
        name=user.name,
        locale=user.locale,
        workspace_id=found.workspace_id,
        role=Role(role),
    )


def close_session(session: Session, token: str) -> None:
    """Log out: the token stops working at once."""
    row = session.scalar(
        select(ConsoleSession).where(ConsoleSession.token_hash == hash_secret(token))
    )
    if row is not None and row.revoked_at is None:
        row.revoked_at = utcnow()


def switch_workspace(session: Session, token: str, workspace_id: uuid.UUID) -> SessionActor:
    """Move the session to another workspace the user is a member of."""
    actor = resolve_session(session, token)
    allowed = {w.id for w, _ in workspaces_of(session, actor.user_id)}
    if workspace_id not in allowed:
        raise NotAMember(f"not a member of workspace {workspace_id}")
    row = session.get(ConsoleSession, actor.session_id)
    if row is not None:
        row.workspace_id = workspace_id
    get_user(session, actor.user_id).last_workspace_id = workspace_id
    session.flush()
    return resolve_session(session, token)


def set_locale(session: Session, user_id: int, locale: str) -> None:
    """The language the console speaks to this user."""
    get_user(session, user_id).locale = check_locale(locale)
    session.flush()
