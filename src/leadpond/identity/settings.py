"""Reading and saving a workspace's identity rules."""

import uuid

from sqlalchemy.orm import Session

from leadpond.identity.config import DEFAULT_TYPES, IdentitySettingsBody, load_config
from leadpond.identity.models import IdentitySettings
from leadpond.identity.schemas import IdentifierTypeRead, IdentitySettingsRead


def save(session: Session, workspace_id: uuid.UUID, body: IdentitySettingsBody) -> None:
    """Store the overrides (validated by the schema: types, regexes, ranking)."""
    stored = session.get(IdentitySettings, workspace_id)
    document = body.model_dump(mode="json")
    if stored is None:
        session.add(IdentitySettings(workspace_id=workspace_id, settings=document))
    else:
        stored.settings = document
    session.flush()


def effective(session: Session, workspace_id: uuid.UUID) -> IdentitySettingsRead:
    """Every known type with the rule in force, plus the workspace-wide blocked values."""
    config = load_config(session, workspace_id)
    names = sorted(
        set(DEFAULT_TYPES) | set(config.settings.types), key=lambda n: config.rule(n).priority
    )
    types = []
    for name in names:
        rule = config.rule(name)
        types.append(
            IdentifierTypeRead(
                type=name,
                priority=rule.priority,
                limit=rule.limit,
                weak=rule.weak,
                blocked=[p.pattern for p in rule.blocked],
            )
        )
    return IdentitySettingsRead(
        types=types,
        blocked=list(config.settings.blocked),
        trait_source_ranking=list(config.settings.trait_source_ranking),
    )
