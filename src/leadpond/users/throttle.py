"""Login throttling: per account and per client address, counted in the database.

Every attempt is counted *before* the password is checked, in its own committed transaction, so
that API processes behind a load balancer share the counts and a throttled attempt never runs
argon2. A successful login takes its own attempt back. Password checks also wait for one of a
few slots per process (``LEADPOND_LOGIN_PASSWORD_CHECKS``): however many guessers call at once,
argon2 work per second stays bounded and ingest keeps its CPU.

This module opens its own transactions on purpose: a failed attempt must stay counted although
the login request itself fails (and rolls back).
"""

import hashlib
import math
import threading
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import Table, case, delete, update
from sqlalchemy.orm import Session

from leadpond.config import get_settings
from leadpond.db.engine import dialect_insert, unit_of_work
from leadpond.kit.clock import utcnow
from leadpond.kit.errors import RateLimited
from leadpond.users import service
from leadpond.users.models import LoginThrottle

WINDOW = timedelta(minutes=1)
# Rows of windows this old are deleted as attempts come in.
FORGET_AFTER = timedelta(hours=1)
SLOT_WAIT_S = 5.0

_table = cast(Table, LoginThrottle.__table__)


class TooManyLogins(RateLimited):
    code = "too_many_logins"


class LoginBusy(RateLimited):
    code = "login_busy"


@lru_cache(maxsize=1)
def _password_slots() -> threading.BoundedSemaphore:
    return threading.BoundedSemaphore(get_settings().login_password_checks)


def _key(kind: str, value: str) -> str:
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()


def log_in(email: str, password: str, client_ip: str) -> int:
    """The id of the user these credentials open, or 401 (wrong) / 429 (too many attempts)."""
    settings = get_settings()
    limits = {
        _key("account", email.strip().lower()): settings.login_attempts_per_account,
        _key("ip", client_ip): settings.login_attempts_per_ip,
    }
    now = utcnow()
    with unit_of_work() as session:
        counted = {key: _count_attempt(session, key, now) for key in limits}
    over = [start for key, (attempts, start) in counted.items() if attempts > limits[key]]
    if over:
        wait = max(1, math.ceil((max(over) + WINDOW - now).total_seconds()))
        raise TooManyLogins(f"too many login attempts; try again in {wait} s", retry_after_s=wait)
    slots = _password_slots()
    if not slots.acquire(timeout=SLOT_WAIT_S):
        raise LoginBusy("too many logins at once; try again in a second", retry_after_s=1)
    try:
        with unit_of_work() as session:
            user_id = service.authenticate(session, email, password).id
    finally:
        slots.release()
    with unit_of_work() as session:
        _take_back(session, list(limits))
    return user_id


def _count_attempt(session: Session, key: str, now: datetime) -> tuple[int, datetime]:
    """One more attempt under ``key``: (attempts in its window, the window's start)."""
    cutoff = now - WINDOW
    session.execute(delete(LoginThrottle).where(LoginThrottle.window_start < now - FORGET_AFTER))
    insert: Any = dialect_insert(session, _table)
    expired = _table.c.window_start <= cutoff
    upsert = insert.values(key=key, window_start=now, attempts=1).on_conflict_do_update(
        index_elements=[_table.c.key],
        set_={
            "window_start": case(
                (expired, insert.excluded.window_start), else_=_table.c.window_start
            ),
            "attempts": case((expired, 1), else_=_table.c.attempts + 1),
        },
    )
    row = session.execute(upsert.returning(_table.c.attempts, _table.c.window_start)).one()
    return int(row.attempts), row.window_start


def _take_back(session: Session, keys: list[str]) -> None:
    """A login succeeded: it was no failed attempt."""
    session.execute(
        update(LoginThrottle)
        .where(LoginThrottle.key.in_(keys), LoginThrottle.attempts > 0)
        .values(attempts=LoginThrottle.attempts - 1)
    )
