"""The lifecycle stages the workspace's playbook defines, in order (for funnels and pickers)."""

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadpond.rules.models import PlaybookVersion


def stages(session: Session, workspace_id: uuid.UUID) -> list[tuple[str, str]]:
    """(key, display name) of each stage of the newest applied playbook, in its order."""
    document = session.scalar(
        select(PlaybookVersion.document)
        .where(PlaybookVersion.workspace_id == workspace_id)
        .order_by(PlaybookVersion.version.desc())
        .limit(1)
    )
    listed = document.get("stages") if isinstance(document, dict) else None
    found: list[tuple[str, str]] = []
    for stage in listed if isinstance(listed, list) else []:
        if isinstance(stage, dict) and isinstance(stage.get("key"), str):
            found.append((stage["key"], str(stage.get("name") or stage["key"])))
    return found


def stage_order(session: Session, workspace_id: uuid.UUID) -> list[str]:
    """Stage keys in playbook order (empty when no playbook is applied)."""
    return [key for key, _ in stages(session, workspace_id)]
