"""Who needs to know when people change shape (merge, unmerge, rebuild).

Identity calls ``people_changed`` after it moved identifiers and events between people; packages
that keep per-person state (accounts, rules, segments) recompute it for those people inside the
same transaction. Which handlers run, and in what order, is written once, in
:mod:`leadpond.wiring`, which installs them here.
"""

import uuid
from collections.abc import Callable, Iterable

from sqlalchemy.orm import Session

PeopleChangedHandler = Callable[[Session, uuid.UUID, set[int]], None]

_handlers: tuple[PeopleChangedHandler, ...] | None = None


def install(handlers: Iterable[PeopleChangedHandler]) -> None:
    """Set the handlers, in the order they run (later ones read what earlier ones wrote)."""
    global _handlers
    _handlers = tuple(handlers)


def people_changed(session: Session, workspace_id: uuid.UUID, person_ids: set[int]) -> None:
    """Tell every handler that these people (survivors and merged-away ids alike) changed."""
    if _handlers is None:
        # Without the handlers a merge would leave tags, accounts and segments behind, silently.
        raise RuntimeError("people-changed handlers are not installed: import leadpond.wiring")
    if person_ids:
        for handler in _handlers:
            handler(session, workspace_id, person_ids)
