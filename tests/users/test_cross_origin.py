"""Cookie-authenticated writes from another origin are refused; API keys and the console work."""

import pytest
from fastapi.testclient import TestClient

from leadpond.app import create_app
from leadpond.config import get_settings
from leadpond.workspaces.service import NewWorkspace
from tests.users.test_auth import PASSWORD, login, make_user

SEGMENT = {"key": "cto", "name": "CTOs", "condition": {"trait": "title", "contains": "CTO"}}
OTHER_PORT = "http://testserver:8081"


@pytest.fixture
def admin(client: TestClient, workspace: NewWorkspace) -> TestClient:
    login(client, make_user(workspace.workspace_id, "admin"))
    return client


def test_a_write_from_another_port_is_refused_with_403_json(admin: TestClient) -> None:
    refused = admin.post("/api/v1/segments", json=SEGMENT, headers={"Origin": OTHER_PORT})
    assert refused.status_code == 403
    assert refused.json()["code"] == "cross_origin_refused"
    same_site = admin.post(
        "/api/v1/segments", json=SEGMENT, headers={"Sec-Fetch-Site": "same-site"}
    )
    assert same_site.status_code == 403
    assert "cto" not in {s["key"] for s in admin.get("/api/v1/segments").json()["items"]}
    created = admin.post(
        "/api/v1/segments",
        json=SEGMENT,
        headers={"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"},
    )
    assert created.status_code == 201, created.text


def test_a_text_plain_body_with_the_session_is_refused(admin: TestClient) -> None:
    forged = admin.post(
        "/api/v1/playbook", content="version: 1\n", headers={"Content-Type": "text/plain"}
    )
    assert forged.status_code == 403
    assert forged.json()["code"] == "cross_origin_refused"
    form = admin.put("/api/v1/identity/settings", data={"a": "b"})
    assert form.status_code == 403


def test_json_endpoints_refuse_other_content_types_with_415(api: TestClient) -> None:
    sent = api.post(
        "/api/v1/segments", content=b'{"key": "x"}', headers={"Content-Type": "text/plain"}
    )
    assert sent.status_code == 415
    assert sent.json()["code"] == "unsupported_media_type"


def test_an_api_key_is_not_cookie_authentication(api: TestClient) -> None:
    created = api.post("/api/v1/segments", json=SEGMENT, headers={"Origin": OTHER_PORT})
    assert created.status_code == 201, created.text


def test_login_from_another_origin_is_refused(client: TestClient, workspace: NewWorkspace) -> None:
    email = make_user(workspace.workspace_id, "viewer")
    refused = client.post(
        "/api/v1/auth/login",
        json={"email": email, "password": PASSWORD},
        headers={"Origin": OTHER_PORT},
    )
    assert refused.status_code == 403
    form = client.post(
        "/console/login",
        data={"email": email, "password": PASSWORD},
        headers={"Origin": OTHER_PORT},
        follow_redirects=False,
    )
    assert form.status_code == 403


@pytest.mark.parametrize(
    ("setting", "base_url", "secure"),
    [
        (None, "http://testserver", False),
        (None, "https://testserver", True),
        ("true", "http://testserver", True),
        ("false", "https://testserver", False),
    ],
)
def test_session_cookie_is_secure_over_https_or_when_configured(
    backend: str,
    workspace: NewWorkspace,
    monkeypatch: pytest.MonkeyPatch,
    setting: str | None,
    base_url: str,
    secure: bool,
) -> None:
    if setting is not None:
        monkeypatch.setenv("LEADPOND_COOKIE_SECURE", setting)
    get_settings.cache_clear()
    email = make_user(workspace.workspace_id, "viewer")
    try:
        with TestClient(create_app(with_worker=False), base_url=base_url) as client:
            response = client.post(
                "/api/v1/auth/login", json={"email": email, "password": PASSWORD}
            )
    finally:
        get_settings.cache_clear()
    assert response.status_code == 200
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert ("; secure" in cookie) is secure
