"""The whole OpenAPI document: paging bounded, every error answer documented, times with offset."""

from typing import Any

from fastapi.testclient import TestClient

from leadpond.kit.pagination import MAX_OFFSET

ERRORS = {"400", "401", "403", "404", "409", "413", "415", "422", "429"}


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]


def test_every_limit_and_offset_is_bounded(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    paging = [
        (path, parameter["name"], parameter["schema"])
        for _, path, operation in _operations(document)
        for parameter in operation.get("parameters", [])
        if parameter["name"] in ("limit", "offset")
    ]
    assert len(paging) >= 14
    assert [(p, n) for p, n, schema in paging if "maximum" not in schema] == []


def test_every_operation_documents_its_error_answers(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    error_ref = "#/components/schemas/ErrorBody"
    for method, path, operation in _operations(document):
        if path == "/healthz":
            continue
        documented = set(operation["responses"])
        assert documented >= ERRORS, f"{method} {path} lacks {sorted(ERRORS - documented)}"
        schema = operation["responses"]["404"]["content"]["application/json"]["schema"]
        assert schema == {"$ref": error_ref}, f"{method} {path}"


def test_a_huge_offset_is_refused_not_a_server_error(api: TestClient) -> None:
    for path in ("/api/v1/accounts", "/api/v1/people", "/api/v1/search/people"):
        answer = api.get(f"{path}?offset=9999999999999999999")
        assert answer.status_code == 422, path
        assert answer.json()["code"] == "invalid_request"
        assert api.get(f"{path}?offset={MAX_OFFSET}").status_code == 200


def test_times_leave_with_their_offset(api: TestClient) -> None:
    created = api.post(
        "/api/v1/segments",
        json={"key": "cto", "name": "CTOs", "condition": {"trait": "title", "contains": "CTO"}},
    ).json()
    assert created["created_at"].endswith("Z") and created["last_built_at"].endswith("Z")


def test_a_value_the_database_cannot_store_is_bad_input(api: TestClient, backend: str) -> None:
    before = api.get("/api/v1/identity/settings").json()
    answer = api.put("/api/v1/identity/settings", json={"blocked": ["^x\u0000$"]})
    if backend == "postgresql":  # PostgreSQL text and JSON cannot hold NUL; SQLite can
        assert answer.status_code == 400
        assert answer.json()["code"] == "invalid_input"
        assert "cannot be stored" in answer.json()["message"]
        assert api.get("/api/v1/identity/settings").json() == before
    else:
        assert answer.status_code == 200
