"""The playbook's vocabulary, for funnels, pickers and display: its stages, score models, tag
categories (with their values' names) and personas.

Read from the newest applied playbook document, in the order the playbook lists them.
"""

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from leadpond.rules.active import newest_document


def _items(session: Session, workspace_id: uuid.UUID, section: str) -> list[dict[str, Any]]:
    """The items (with a key) of a section of the newest applied playbook, in order."""
    document = newest_document(session, workspace_id)
    listed = document.get(section) if document is not None else None
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


def tag_categories(session: Session, workspace_id: uuid.UUID) -> list[tuple[str, str]]:
    """(key, display name) of each tag category of the newest applied playbook, in its order."""
    return _listed(session, workspace_id, "tag_categories")


@dataclass(frozen=True)
class Labels:
    """Display names of the playbook's keys, read once for a page: a key without one is
    shown as it is."""

    stages: dict[str, str] = field(default_factory=dict)
    scores: dict[str, str] = field(default_factory=dict)
    categories: dict[str, str] = field(default_factory=dict)
    # category → value → name (``values:`` of a tag category)
    values: dict[str, dict[str, str]] = field(default_factory=dict)

    def stage(self, key: str | None) -> str:
        return self.stages.get(key or "", key or "–")

    def score(self, model: str) -> str:
        return self.scores.get(model, model)

    def value(self, key: str) -> str:
        """A value some tag category names (a topic or product line: ``graph_database`` as
        图数据库), else the key as it is."""
        for names in self.values.values():
            if key in names:
                return names[key]
        return key

    def tag(self, tag: str) -> str:
        """``product_pref:graph_database`` as ``产品偏好: 图数据库`` (each part named when the
        playbook names it); a tag without a category as it is."""
        category, sep, value = tag.partition(":")
        if not sep:
            return tag
        shown = self.values.get(category, {}).get(value, value)
        return f"{self.categories.get(category, category)}: {shown}"


def labels(session: Session, workspace_id: uuid.UUID) -> Labels:
    """The display names of the newest applied playbook's keys."""
    categories = _items(session, workspace_id, "tag_categories")
    return Labels(
        stages=dict(stages(session, workspace_id)),
        scores=dict(score_models(session, workspace_id)),
        categories={c["key"]: str(c.get("name") or c["key"]) for c in categories},
        values={
            c["key"]: {str(k): str(v) for k, v in c["values"].items()}
            for c in categories
            if isinstance(c.get("values"), dict)
        },
    )
