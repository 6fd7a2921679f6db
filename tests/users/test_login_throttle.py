"""Login throttling: 10 failed attempts per email and 30 per address a minute, then 429."""

import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Literal

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import update

from leadpond.app import create_app
from leadpond.config import get_settings
from leadpond.db.engine import unit_of_work
from leadpond.users import service, throttle
from leadpond.users.models import LoginThrottle
from leadpond.workspaces.service import NewWorkspace
from tests.users.test_auth import PASSWORD, make_user


def _address() -> str:
    return f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"


@pytest.fixture
def caller(backend: str) -> Iterator[TestClient]:
    """The app seen from an address of its own (the per-address count starts at zero)."""
    with TestClient(create_app(with_worker=False), client=(_address(), 40000)) as test_client:
        yield test_client


@pytest.fixture
def argon2_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every password check argon2 runs (the real one runs; it is only counted)."""
    checked: list[str] = []

    class CountingHasher(PasswordHasher):
        def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
            checked.append(str(password))
            return super().verify(hash, password)

    monkeypatch.setattr(service, "_hasher", CountingHasher())
    return checked


def _login(client: TestClient, email: str, password: str) -> tuple[int, dict[str, object]]:
    response = client.post("/api/v1/auth/login", json={"email": email, "password": password})
    return response.status_code, response.json()


def test_eleventh_wrong_password_in_a_minute_gets_429_without_argon2(
    caller: TestClient, workspace: NewWorkspace, argon2_checks: list[str]
) -> None:
    email = make_user(workspace.workspace_id, "marketer")
    answers = [_login(caller, email, f"wrong-{n}")[0] for n in range(10)]
    assert answers == [401] * 10
    response = caller.post("/api/v1/auth/login", json={"email": email, "password": "wrong-11"})
    assert response.status_code == 429
    assert response.json()["code"] == "too_many_logins"
    assert "try again in" in response.json()["message"]
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    # Not even the right password opens the account within the window, and argon2 never ran.
    assert _login(caller, email, PASSWORD)[0] == 429
    assert len(argon2_checks) == 10


def test_the_count_is_per_account_and_a_new_minute_starts_afresh(
    caller: TestClient, workspace: NewWorkspace
) -> None:
    email = make_user(workspace.workspace_id, "viewer")
    other = make_user(workspace.workspace_id, "viewer")
    for n in range(11):
        _login(caller, email, f"wrong-{n}")
    assert _login(caller, other, PASSWORD)[0] == 200
    with unit_of_work() as session:  # the minute passes
        session.execute(
            update(LoginThrottle).values(
                window_start=LoginThrottle.window_start - timedelta(minutes=2)
            )
        )
    assert _login(caller, email, PASSWORD)[0] == 200


def test_one_address_guessing_many_accounts_is_throttled(
    caller: TestClient, workspace: NewWorkspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEADPOND_LOGIN_ATTEMPTS_PER_IP", "5")  # 30 by default; fewer runs faster
    get_settings.cache_clear()
    try:
        answers = [
            _login(caller, f"guess-{n}-{uuid.uuid4().hex[:6]}@example.com", "wrong-pass")[0]
            for n in range(6)
        ]
        refused = _login(caller, make_user(workspace.workspace_id, "viewer"), PASSWORD)
    finally:
        get_settings.cache_clear()
    assert answers == [401] * 5 + [429]
    assert refused[0] == 429 and refused[1]["code"] == "too_many_logins"


def test_successful_logins_do_not_count(caller: TestClient, workspace: NewWorkspace) -> None:
    email = make_user(workspace.workspace_id, "viewer")
    assert [_login(caller, email, PASSWORD)[0] for _ in range(12)] == [200] * 12


def test_console_login_form_says_so_when_throttled(
    caller: TestClient, workspace: NewWorkspace
) -> None:
    email = make_user(workspace.workspace_id, "viewer")
    for n in range(10):
        form = caller.post(
            "/console/login",
            data={"email": email, "password": f"wrong-{n}"},
            follow_redirects=False,
        )
        assert form.headers["location"] == "/console/login?error=1"
    form = caller.post(
        "/console/login", data={"email": email, "password": PASSWORD}, follow_redirects=False
    )
    assert form.headers["location"] == "/console/login?error=throttled"


def test_parallel_guessers_never_run_more_password_checks_than_the_slots(
    backend: str, workspace: NewWorkspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEADPOND_LOGIN_PASSWORD_CHECKS", "1")
    # Eight checks queue for the one slot; on a loaded machine they can outlast the 5 s a caller
    # waits in production (then 429 login_busy, tested below). This test is about the bound.
    monkeypatch.setattr(throttle, "SLOT_WAIT_S", 120.0)
    get_settings.cache_clear()
    throttle._password_slots.cache_clear()
    running, most = [0], [0]
    lock = threading.Lock()

    class ObservedHasher(PasswordHasher):
        def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
            with lock:
                running[0] += 1
                most[0] = max(most[0], running[0])
            try:
                return super().verify(hash, password)
            finally:
                with lock:
                    running[0] -= 1

    monkeypatch.setattr(service, "_hasher", ObservedHasher())
    email = make_user(workspace.workspace_id, "viewer")

    def guess(n: int) -> int:
        with TestClient(create_app(with_worker=False), client=(_address(), 40000)) as guesser:
            return _login(guesser, email if n % 2 else f"x{n}@example.com", f"wrong-{n}")[0]

    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(guess, range(8)))
    finally:
        get_settings.cache_clear()
        throttle._password_slots.cache_clear()
    assert answers == [401] * 8
    assert most[0] == 1


def test_a_login_waiting_too_long_for_a_password_slot_is_told_to_retry(
    caller: TestClient, workspace: NewWorkspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEADPOND_LOGIN_PASSWORD_CHECKS", "1")
    monkeypatch.setattr(throttle, "SLOT_WAIT_S", 0.05)
    get_settings.cache_clear()
    throttle._password_slots.cache_clear()
    email = make_user(workspace.workspace_id, "viewer")
    slots = throttle._password_slots()
    assert slots.acquire(timeout=1)  # another login is checking its password
    try:
        status, body = _login(caller, email, PASSWORD)
    finally:
        slots.release()
        get_settings.cache_clear()
        throttle._password_slots.cache_clear()
    assert status == 429 and body["code"] == "login_busy"
    # The slot free again, the same credentials open the account.
    assert _login(caller, email, PASSWORD)[0] == 200
