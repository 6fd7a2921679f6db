"""The demo's console login: one admin user of the demo workspace, its password kept on disk."""

import json
import os
import secrets
import uuid
from pathlib import Path

from sqlalchemy.orm import Session

from leadpond.users import service

DEMO_ADMIN_EMAIL = "admin@demo.leadpond.dev"
DEMO_ADMIN_NAME = "Demo Admin"
CONSOLE_CREDENTIALS_PATH = Path("var/demo-console.json")


def _stored_password(path: Path, email: str) -> str | None:
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    password = stored.get("password") if stored.get("email") == email else None
    return password if isinstance(password, str) else None


def _store(path: Path, email: str, password: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump({"email": email, "password": password}, handle, indent=2)
    path.chmod(0o600)


def ensure_demo_admin(
    session: Session, workspace_id: uuid.UUID, path: Path = CONSOLE_CREDENTIALS_PATH
) -> dict[str, str]:
    """The demo admin exists, is admin of the workspace and has the password stored at ``path``.

    Idempotent: a known password is kept; when the file is lost a new one is set and stored.
    """
    user = service.find_user(session, DEMO_ADMIN_EMAIL)
    password = _stored_password(path, DEMO_ADMIN_EMAIL)
    if user is None:
        password = password or secrets.token_urlsafe(12)
        user = service.create_user(session, DEMO_ADMIN_EMAIL, DEMO_ADMIN_NAME, password, "zh_CN")
    elif password is None or not service.password_matches(user, password):
        password = secrets.token_urlsafe(12)
        service.set_password(session, user, password)
    service.grant(session, user.id, workspace_id, service.Role.ADMIN)
    _store(path, DEMO_ADMIN_EMAIL, password)
    return {"console_email": DEMO_ADMIN_EMAIL, "console_password": password}
