"""The rules a workspace runs now: its newest playbook version, compiled once per process."""

import uuid
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadpond.db.memo import remembered
from leadpond.kit.scope import owned
from leadpond.rules.compile import compile_playbook
from leadpond.rules.models import PlaybookVersion
from leadpond.rules.playbook import Playbook
from leadpond.rules.ruleset import Ruleset

_compiled: dict[int, Ruleset] = {}


def compile_document(document: dict[str, Any], version_id: int) -> Ruleset:
    """A stored (already validated) playbook document, compiled; cached by version id."""
    found = _compiled.get(version_id)
    if found is None:
        found = compile_playbook(Playbook.model_validate(document), version_id)
        if len(_compiled) > 256:
            _compiled.clear()
        _compiled[version_id] = found
    return found


class Head(NamedTuple):
    """The workspace's newest playbook version: its row id, number and checksum."""

    id: int
    version: int
    checksum: str


def newest(session: Session, workspace_id: uuid.UUID) -> Head | None:
    """The workspace's newest playbook version, read once per transaction (every stage of a
    pipeline batch runs on the same version)."""

    def read() -> Head | None:
        row = session.execute(
            select(PlaybookVersion.id, PlaybookVersion.version, PlaybookVersion.checksum)
            .where(owned(PlaybookVersion, workspace_id))
            .order_by(PlaybookVersion.version.desc())
            .limit(1)
        ).first()
        return None if row is None else Head(*row)

    return remembered(session, ("playbook head", workspace_id), read)


def newest_document(session: Session, workspace_id: uuid.UUID) -> dict[str, Any] | None:
    """The newest playbook version's document, read once per transaction."""
    head = newest(session, workspace_id)
    if head is None:
        return None

    def read() -> dict[str, Any] | None:
        document: Any = session.scalar(
            select(PlaybookVersion.document).where(PlaybookVersion.id == head.id)
        )
        return document if isinstance(document, dict) else None

    return remembered(session, ("playbook document", head.id), read)


def current_version_id(session: Session, workspace_id: uuid.UUID) -> int | None:
    """The id of the workspace's newest playbook version."""
    head = newest(session, workspace_id)
    return None if head is None else head.id


def current_ruleset(session: Session, workspace_id: uuid.UUID) -> Ruleset | None:
    """The compiled rules of the workspace, or None when it has no playbook."""
    version_id = current_version_id(session, workspace_id)
    if version_id is None:
        return None
    cached = _compiled.get(version_id)
    if cached is not None:
        return cached
    return compile_document(newest_document(session, workspace_id) or {}, version_id)
