"""Console users: login with argon2 passwords, sessions, roles per workspace, switcher, logout."""

import uuid

import pytest
from fastapi.testclient import TestClient

from leadpond.db.engine import unit_of_work
from leadpond.playbooks.service import start_workspace
from leadpond.users import service
from leadpond.users.auth import SESSION_COOKIE
from leadpond.users.models import ConsoleUser
from leadpond.workspaces.service import NewWorkspace

PASSWORD = "correct horse battery"


def make_user(workspace_id: uuid.UUID, role: str, email: str | None = None) -> str:
    address = email or f"{role}-{uuid.uuid4().hex[:8]}@example.com"
    with unit_of_work() as session:
        user = service.find_user(session, address) or service.create_user(
            session, address, role.title(), PASSWORD
        )
        service.grant(session, user.id, workspace_id, role)
    return address


def login(client: TestClient, email: str, password: str = PASSWORD) -> dict[str, object]:
    response = client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_password_is_stored_as_argon2_and_login_opens_a_session(
    client: TestClient, workspace: NewWorkspace
) -> None:
    email = make_user(workspace.workspace_id, "marketer")
    with unit_of_work() as session:
        user = service.find_user(session, email)
        assert isinstance(user, ConsoleUser)
        assert user.password_hash.startswith("$argon2id$")
        assert PASSWORD not in user.password_hash
    me = login(client, email)
    assert me["role"] == "marketer"
    assert me["workspace_id"] == str(workspace.workspace_id)
    assert client.cookies.get(SESSION_COOKIE)
    assert client.get("/api/v1/people").status_code == 200
    assert client.get("/api/v1/auth/me").json()["email"] == email


def test_wrong_password_and_unknown_email_get_the_same_answer(
    client: TestClient, workspace: NewWorkspace
) -> None:
    email = make_user(workspace.workspace_id, "viewer")
    wrong = client.post("/api/v1/auth/login", json={"email": email, "password": "nope-nope"})
    unknown = client.post(
        "/api/v1/auth/login", json={"email": "nobody@example.com", "password": PASSWORD}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert (
        wrong.json()
        == unknown.json()
        == {
            "code": "bad_credentials",
            "message": "wrong email or password",
        }
    )
    assert client.get("/api/v1/people").status_code == 401


def test_viewer_reads_but_cannot_write(client: TestClient, workspace: NewWorkspace) -> None:
    login(client, make_user(workspace.workspace_id, "viewer"))
    assert client.get("/api/v1/people").status_code == 200
    refused = client.put("/api/v1/identity/settings", json={})
    assert refused.status_code == 403
    assert refused.json()["code"] == "role_too_low"
    assert client.get("/api/v1/users").status_code == 403


def test_marketer_writes_but_only_admin_manages_users(
    client: TestClient, workspace: NewWorkspace
) -> None:
    login(client, make_user(workspace.workspace_id, "marketer"))
    assert client.put("/api/v1/identity/settings", json={}).status_code == 200
    assert client.get("/api/v1/users").status_code == 403
    login(client, make_user(workspace.workspace_id, "admin"))
    created = client.post(
        "/api/v1/users",
        json={"email": "new.sales@example.com", "role": "sales", "password": PASSWORD},
    )
    assert created.status_code == 201, created.text
    members = client.get("/api/v1/users").json()
    assert {m["email"]: m["role"] for m in members["items"]}["new.sales@example.com"] == "sales"
    assert members["total"] == len(members["items"])


def test_api_key_still_acts_as_admin(api: TestClient) -> None:
    me = api.get("/api/v1/auth/me").json()
    assert (me["via"], me["role"]) == ("api_key", "admin")
    assert api.get("/api/v1/users").status_code == 200


def test_logout_ends_the_session_at_once(client: TestClient, workspace: NewWorkspace) -> None:
    login(client, make_user(workspace.workspace_id, "viewer"))
    token = client.cookies.get(SESSION_COOKIE)
    assert client.post("/api/v1/auth/logout").status_code == 204
    client.cookies.set(SESSION_COOKIE, token or "")
    assert client.get("/api/v1/people").status_code == 401


def test_agency_user_switches_workspace_and_gets_that_role(
    client: TestClient, workspace: NewWorkspace
) -> None:
    email = make_user(workspace.workspace_id, "viewer")
    with unit_of_work() as session:
        other = start_workspace(session, f"client-{uuid.uuid4().hex[:6]}")
    make_user(other.workspace_id, "admin", email)
    me = login(client, email)
    assert {w["workspace_id"] for w in me["workspaces"]} >= {
        str(workspace.workspace_id),
        str(other.workspace_id),
    }
    switched = client.put("/api/v1/auth/workspace", json={"workspace_id": str(other.workspace_id)})
    assert switched.status_code == 200
    assert (switched.json()["workspace_id"], switched.json()["role"]) == (
        str(other.workspace_id),
        "admin",
    )
    with unit_of_work() as session:
        stranger = start_workspace(session, "stranger")
    refused = client.put(
        "/api/v1/auth/workspace", json={"workspace_id": str(stranger.workspace_id)}
    )
    assert refused.status_code == 403


def test_login_lands_in_the_workspace_last_worked_in(
    client: TestClient, workspace: NewWorkspace
) -> None:
    email = make_user(workspace.workspace_id, "viewer")
    with unit_of_work() as session:
        # "zz…" sorts after any other name: the first by name is never this one.
        later = start_workspace(session, f"zz-client-{uuid.uuid4().hex[:6]}")
    make_user(later.workspace_id, "marketer", email)
    first = login(client, email)["workspace_id"]
    assert first != str(later.workspace_id)
    client.put("/api/v1/auth/workspace", json={"workspace_id": str(later.workspace_id)})
    assert client.post("/api/v1/auth/logout").status_code == 204
    assert login(client, email)["workspace_id"] == str(later.workspace_id)
    # Removed from it: the next login falls back to the first workspace by name.
    with unit_of_work() as session:
        user = service.find_user(session, email)
        assert user is not None
        service.revoke_membership(session, user.id, later.workspace_id)
    assert login(client, email)["workspace_id"] == first


def test_console_form_login_sets_an_httponly_cookie(
    client: TestClient, workspace: NewWorkspace
) -> None:
    email = make_user(workspace.workspace_id, "sales")
    bad = client.post(
        "/console/login", data={"email": email, "password": "wrong"}, follow_redirects=False
    )
    assert (bad.status_code, bad.headers["location"]) == (303, "/console/login?error=1")
    good = client.post(
        "/console/login", data={"email": email, "password": PASSWORD}, follow_redirects=False
    )
    assert (good.status_code, good.headers["location"]) == (303, "/console/")
    cookie = good.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert client.get("/api/v1/auth/me").json()["role"] == "sales"
    client.post("/console/logout", follow_redirects=False)
    assert client.get("/api/v1/auth/me").status_code == 401


@pytest.mark.parametrize("password", ["short", ""])
def test_short_passwords_are_refused(backend: str, password: str) -> None:
    with pytest.raises(service.InvalidInput), unit_of_work() as session:
        service.create_user(session, f"{uuid.uuid4().hex[:6]}@example.com", "x", password)


def test_the_last_admin_keeps_the_role(client: TestClient, workspace: NewWorkspace) -> None:
    login(client, make_user(workspace.workspace_id, "admin"))
    me = client.get("/api/v1/auth/me").json()["user_id"]
    refused = client.put(f"/api/v1/users/{me}/role", json={"role": "viewer"})
    assert refused.status_code == 409 and refused.json()["code"] == "last_admin"
    assert client.delete(f"/api/v1/users/{me}").json()["code"] == "last_admin"
    other = make_user(workspace.workspace_id, "admin")
    with unit_of_work() as session:
        second = service.find_user(session, other)
        assert second is not None
        second_id = second.id
    assert client.put(f"/api/v1/users/{second_id}/role", json={"role": "sales"}).status_code == 200
    assert client.get("/api/v1/users").status_code == 200  # still an admin
    make_user(workspace.workspace_id, "admin", other)
    assert client.put(f"/api/v1/users/{me}/role", json={"role": "marketer"}).status_code == 200
