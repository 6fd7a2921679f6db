"""The rules a workspace runs now: its newest playbook version, compiled once per process."""

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

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


def current_version_id(session: Session, workspace_id: uuid.UUID) -> int | None:
    """The id of the workspace's newest playbook version."""
    return session.scalar(
        select(PlaybookVersion.id)
        .where(owned(PlaybookVersion, workspace_id))
        .order_by(PlaybookVersion.version.desc())
        .limit(1)
    )


def current_ruleset(session: Session, workspace_id: uuid.UUID) -> Ruleset | None:
    """The compiled rules of the workspace, or None when it has no playbook."""
    version_id = current_version_id(session, workspace_id)
    if version_id is None:
        return None
    cached = _compiled.get(version_id)
    if cached is not None:
        return cached
    document = session.scalar(
        select(PlaybookVersion.document).where(PlaybookVersion.id == version_id)
    )
    return compile_document(document or {}, version_id)
