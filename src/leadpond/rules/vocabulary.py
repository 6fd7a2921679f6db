"""The playbook's vocabulary, for funnels, pickers and display: its stages, score models, tag
categories (with their values' names) and personas.

Read from the newest applied playbook document, in the order the playbook lists them. Names are
in the reader's ``language`` (``zh``/``en``, or a console locale; Chinese by default), else in
the other language, else the key (``kit.names``).
"""

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from leadpond.kit.names import DEFAULT_LANGUAGE, every_name, name_in
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


def _listed(
    session: Session, workspace_id: uuid.UUID, section: str, language: str
) -> list[tuple[str, str]]:
    """(key, display name) of each item of a section of the newest applied playbook, in order."""
    return [
        (item["key"], name_in(item.get("name"), language) or item["key"])
        for item in _items(session, workspace_id, section)
    ]


def stages(
    session: Session, workspace_id: uuid.UUID, language: str = DEFAULT_LANGUAGE
) -> list[tuple[str, str]]:
    """(key, display name) of each stage of the newest applied playbook, in its order."""
    return _listed(session, workspace_id, "stages", language)


def stage_names(session: Session, workspace_id: uuid.UUID) -> list[tuple[str, str]]:
    """(key, name) for each stage and each of its names in any language, in playbook order: what
    a marketer may type for a stage (``商机`` or ``Opportunity``)."""
    return [
        (item["key"], name)
        for item in _items(session, workspace_id, "stages")
        for name in every_name(item.get("name")) or [""]
    ]


def stage_order(session: Session, workspace_id: uuid.UUID) -> list[str]:
    """Stage keys in playbook order (empty when no playbook is applied)."""
    return [key for key, _ in stages(session, workspace_id)]


def detour_stages(session: Session, workspace_id: uuid.UUID) -> set[str]:
    """Stages outside the funnel's line (``detour: true``: dormant, disqualified)."""
    return {item["key"] for item in _items(session, workspace_id, "stages") if item.get("detour")}


def score_models(
    session: Session, workspace_id: uuid.UUID, language: str = DEFAULT_LANGUAGE
) -> list[tuple[str, str]]:
    """(key, display name) of each score model of the newest applied playbook, in its order."""
    return _listed(session, workspace_id, "score_models", language)


def personas(
    session: Session, workspace_id: uuid.UUID, language: str = DEFAULT_LANGUAGE
) -> list[tuple[str, str]]:
    """(key, display name) of each persona of the newest applied playbook, in its order."""
    return _listed(session, workspace_id, "personas", language)


def tag_categories(
    session: Session, workspace_id: uuid.UUID, language: str = DEFAULT_LANGUAGE
) -> list[tuple[str, str]]:
    """(key, display name) of each tag category of the newest applied playbook, in its order."""
    return _listed(session, workspace_id, "tag_categories", language)


@dataclass(frozen=True)
class Labels:
    """Display names of the playbook's keys, read once for a page: a key without one is
    shown as it is."""

    stages: dict[str, str] = field(default_factory=dict)
    scores: dict[str, str] = field(default_factory=dict)
    categories: dict[str, str] = field(default_factory=dict)
    # category → value → name (``values:`` of a tag category)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    personas: dict[str, str] = field(default_factory=dict)

    def stage(self, key: str | None) -> str:
        return self.stages.get(key or "", key or "–")

    def score(self, model: str) -> str:
        return self.scores.get(model, model)

    def persona(self, key: str) -> str:
        return self.personas.get(key, key)

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


def labels(session: Session, workspace_id: uuid.UUID, language: str = DEFAULT_LANGUAGE) -> Labels:
    """The display names of the newest applied playbook's keys, in ``language``."""
    categories = _items(session, workspace_id, "tag_categories")
    return Labels(
        stages=dict(stages(session, workspace_id, language)),
        scores=dict(score_models(session, workspace_id, language)),
        categories={c["key"]: name_in(c.get("name"), language) or c["key"] for c in categories},
        values={
            c["key"]: {str(k): name_in(v, language) or str(k) for k, v in c["values"].items()}
            for c in categories
            if isinstance(c.get("values"), dict)
        },
        personas=dict(personas(session, workspace_id, language)),
    )
