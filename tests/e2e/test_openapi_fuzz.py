"""schemathesis against /openapi.json: no generated request may get a 5xx, on both databases."""

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from leadpond.app import create_app
from leadpond.workspaces.service import NewWorkspace

pytestmark = pytest.mark.e2e
EXAMPLES_PER_OPERATION = 10
# Path ids these routers take without a bound: an id past 64 bits overflows the database driver
# (SQLite OverflowError, PostgreSQL NumericValueOutOfRange) and answers 500. They belong to other
# packages (profiles, identity, accounts, rules) and are reported to be fixed in one place
# (kit/http.py); remove an entry here when its fix lands.


def test_no_generated_request_gets_a_server_error(workspace: NewWorkspace) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(with_worker=False))
    headers = {"Authorization": f"Bearer {workspace.api_key}"}
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def exercise(case: Any) -> None:
            response = case.call(headers=headers)
            case.validate_response(response, checks=[not_a_server_error])

        try:
            exercise()
        except Exception as exc:  # every failing operation is reported together
            failures.append(f"{operation.label}: {str(exc)[:600]}")
    assert operations > 20
    if failures:
        pytest.fail("\n\n".join(failures), pytrace=False)
