"""Every admin endpoint declares the role it needs; a viewer is refused by every write."""

import re
import uuid
from collections.abc import Iterator

import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from leadpond.app import create_app
from leadpond.users.auth import declared_role
from leadpond.users.permissions import declared_permission
from leadpond.users.service import Role
from leadpond.workspaces.service import NewWorkspace
from tests.users.test_auth import login, make_user

# Endpoints that check the session (or nothing) themselves, by design.
UNDECLARED = {
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/auth/logout"),
    ("PUT", "/api/v1/auth/workspace"),
    ("PUT", "/api/v1/auth/locale"),
    ("GET", "/api/v1/auth/me"),
    ("GET", "/api/v1/playbook/schema"),
}
# Reads sent as POST (their body is a question, not a change).
READS_BY_POST = {
    ("POST", "/api/v1/segments:preview"),
    ("POST", "/api/v1/playbook/validate"),
    ("POST", "/api/v1/templates/{key}:preview"),
}


def _roles(dependant: Dependant) -> Iterator[Role]:
    for sub in dependant.dependencies:
        permission = declared_permission(sub.call)
        role = permission.role if permission is not None else declared_role(sub.call)
        if role is not None:
            yield role
        yield from _roles(sub)


def _endpoints() -> list[tuple[str, str, Role | None]]:
    found = []
    for context in iter_route_contexts(create_app(with_worker=False).routes):
        route = context.route
        if isinstance(route, APIRoute) and context.path.startswith("/api/"):
            roles = set(_roles(route.dependant))
            assert len(roles) <= 1, f"{context.path} declares several roles: {roles}"
            for method in sorted(context.methods or ()):
                found.append((method, context.path, next(iter(roles), None)))
    return found


def test_every_admin_endpoint_declares_its_role() -> None:
    endpoints = _endpoints()
    assert len(endpoints) > 40
    missing = [(m, p) for m, p, role in endpoints if role is None and (m, p) not in UNDECLARED]
    assert missing == [], "declare a permission (PeopleRead, SegmentsWrite…) on these"
    read_posts = {(m, p) for m, p, role in endpoints if role is Role.VIEWER and m != "GET"}
    assert read_posts == READS_BY_POST


@pytest.fixture
def viewer(client: TestClient, workspace: NewWorkspace) -> TestClient:
    login(client, make_user(workspace.workspace_id, "viewer"))
    return client


def test_a_viewer_is_refused_by_every_write(viewer: TestClient) -> None:
    writes = [(m, p) for m, p, role in _endpoints() if role not in (None, Role.VIEWER)]
    assert len(writes) > 15
    answers = {}
    for method, path in writes:
        url = re.sub(r"\{[^}]+\}", "1", path)
        response = viewer.request(method, url, json={})
        answers[f"{method} {path}"] = (response.status_code, response.json().get("code"))
    refused = {k: v for k, v in answers.items() if v == (403, "role_too_low")}
    assert refused == answers


def test_a_viewer_may_preview_a_segment_and_validate_a_playbook(viewer: TestClient) -> None:
    preview = viewer.post(
        "/api/v1/segments:preview",
        json={"condition": {"trait": "title", "contains": "CTO"}},
    )
    assert preview.status_code == 200, preview.text
    check = viewer.post(
        "/api/v1/playbook/validate",
        content="version: 1\n",
        headers={"Content-Type": "application/yaml"},
    )
    assert check.status_code in (200, 422), check.text
    assert check.json().get("code") != "role_too_low"
    assert viewer.get(f"/api/v1/segments/{uuid.uuid4().hex}").status_code == 404
