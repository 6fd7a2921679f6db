"""Every admin endpoint declares the permission it needs (read or write of its domain); a
viewer is refused by every write."""

import re
import uuid
from collections.abc import Iterator

import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from leadpond.app import create_app
from leadpond.users.permissions import Permission, declared_permission
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
    # Dry-runs: the engine runs in a transaction that is always rolled back.
    ("POST", "/api/v1/journeys/{key}/dry-run"),
    ("POST", "/api/v1/playbook/journeys/{key}/dry-run"),
}


def _permissions(dependant: Dependant) -> Iterator[Permission]:
    for sub in dependant.dependencies:
        permission = declared_permission(sub.call)
        if permission is not None:
            yield permission
        yield from _permissions(sub)


def _endpoints() -> list[tuple[str, str, Permission | None]]:
    found = []
    for context in iter_route_contexts(create_app(with_worker=False).routes):
        route = context.route
        if isinstance(route, APIRoute) and context.path.startswith("/api/"):
            declared = set(_permissions(route.dependant))
            assert len(declared) <= 1, f"{context.path} declares several: {declared}"
            for method in sorted(context.methods or ()):
                found.append((method, context.path, next(iter(declared), None)))
    return found


def test_every_admin_endpoint_declares_its_permission() -> None:
    endpoints = _endpoints()
    assert len(endpoints) > 40
    missing = [(m, p) for m, p, perm in endpoints if perm is None and (m, p) not in UNDECLARED]
    assert missing == [], "declare a permission (PeopleRead, SegmentsWrite…) on these"
    # Never inferred from the method, but a GET only reads, and a POST reads only by design.
    reading = {(m, p) for m, p, perm in endpoints if perm is not None and perm.access == "read"}
    assert {(m, p) for m, p in reading if m != "GET"} == READS_BY_POST
    gets = {(m, p) for m, p, perm in endpoints if m == "GET" and perm is not None}
    assert gets <= reading


@pytest.fixture
def viewer(client: TestClient, workspace: NewWorkspace) -> TestClient:
    login(client, make_user(workspace.workspace_id, "viewer"))
    return client


def test_a_viewer_is_refused_by_every_write(viewer: TestClient) -> None:
    writes = [(m, p) for m, p, perm in _endpoints() if perm and not perm.allows(Role.VIEWER)]
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
