"""What one transaction reads once: answers that cannot change while it runs, kept until it ends.

A pipeline batch asks "which playbook version is the workspace's newest?" in several stages
(rules, segments, journeys, personas); each asked the database. Kept here, the batch reads it
once and every stage sees the same version. The memo lives in ``session.info`` and is dropped
when the session's transaction ends (commit or rollback), so a later transaction reads afresh;
a writer that changes the answer inside the transaction calls :func:`forget`.
"""

from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

T = TypeVar("T")
_KEY = "leadpond.memo"


def remembered(session: Session, key: Hashable, read: Callable[[], T]) -> T:
    """``read()``'s answer for ``key``, read at most once in the session's transaction."""
    memo: dict[Hashable, Any] = session.info.setdefault(_KEY, {})
    if key not in memo:
        memo[key] = read()
    answer: T = memo[key]
    return answer


def forget(session: Session) -> None:
    """Drop what this transaction remembered (after writing something it had read)."""
    session.info.pop(_KEY, None)


@event.listens_for(Session, "after_transaction_end")
def _transaction_ended(session: Session, transaction: SessionTransaction) -> None:
    forget(session)
