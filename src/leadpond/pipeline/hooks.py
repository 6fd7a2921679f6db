"""Who needs to know when people change shape (merge, unmerge, rebuild).

Identity calls ``people_changed`` after it moved identifiers and events between people; packages
that keep per-person state (accounts, rules, segments) register a handler that recomputes it for
those people inside the same transaction.
"""

import uuid
from collections.abc import Callable

from sqlalchemy.orm import Session

PeopleChangedHandler = Callable[[Session, uuid.UUID, set[int]], None]

_handlers: list[PeopleChangedHandler] = []


def on_people_changed(handler: PeopleChangedHandler) -> PeopleChangedHandler:
    """Register a handler (use as a decorator at module level)."""
    if handler not in _handlers:
        _handlers.append(handler)
    return handler


def people_changed(session: Session, workspace_id: uuid.UUID, person_ids: set[int]) -> None:
    """Tell every handler that these people (survivors and merged-away ids alike) changed."""
    if person_ids:
        for handler in list(_handlers):
            handler(session, workspace_id, person_ids)
