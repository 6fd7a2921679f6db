"""The playbook's vocabulary, for funnels and pickers: its stages, score models and personas.

Read from the newest applied playbook document, in the order the playbook lists them.
"""

import uuid
from typing import Any

from sqlalchemy.orm import Session

from leadpond.kit.scope import in_workspace
from leadpond.rules.models import PlaybookVersion


def _items(session: Session, workspace_id: uuid.UUID, section: str) -> list[dict[str, Any]]:
    """The items (with a key) of a section of the newest applied playbook, in order."""
    document: Any = session.scalar(
        in_workspace(PlaybookVersion, workspace_id)
        .with_only_columns(PlaybookVersion.document)
        .order_by(PlaybookVersion.version.desc())
        .limit(1)
    )
    listed = document.get(section) if isinstance(document, dict) else None
    return [
        item
        for item in (listed if isinstance(listed, list) else [])
        if isinstance(item, dict) and isinstance(item.get("key"), str)
    ]


def _listed(session: Session, workspace_id: uuid.UUID, section: str) -> list[tuple[str, str]]:
    """(key, display name) of each item of a section of the newest applied playbook, in order."""
    return [
        (item["key"], str(item.get("name") or item["key"]))
        for item in _items(session, workspace_id, section)
    ]


def stages(session: Session, workspace_id: uuid.UUID) -> list[tuple[str, str]]:
    """(key, display name) of each stage of the newest applied playbook, in its order."""
    return _listed(session, workspace_id, "stages")


def stage_order(session: Session, workspace_id: uuid.UUID) -> list[str]:
    """Stage keys in playbook order (empty when no playbook is applied)."""
    return [key for key, _ in stages(session, workspace_id)]


def detour_stages(session: Session, workspace_id: uuid.UUID) -> set[str]:
    """Stages outside the funnel's line (``detour: true``: dormant, disqualified)."""
    return {item["key"] for item in _items(session, workspace_id, "stages") if item.get("detour")}


def score_models(session: Session, workspace_id: uuid.UUID) -> list[tuple[str, str]]:
    """(key, display name) of each score model of the newest applied playbook, in its order."""
    return _listed(session, workspace_id, "score_models")


def personas(session: Session, workspace_id: uuid.UUID) -> list[tuple[str, str]]:
    """(key, display name) of each persona of the newest applied playbook, in its order."""
    return _listed(session, workspace_id, "personas")
