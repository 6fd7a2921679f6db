"""Imports every model so the metadata (and Alembic) sees the whole schema."""

from leadpond.db.base import Base
from leadpond.identity.models import (
    Identifier,
    IdentitySettings,
    MergeSuggestion,
    PersonMerge,
    PersonSeparation,
)
from leadpond.ingest.models import Event
from leadpond.profiles.models import Person
from leadpond.workspaces.models import ApiCredential, Workspace

__all__ = [
    "ApiCredential",
    "Base",
    "Event",
    "Identifier",
    "IdentitySettings",
    "MergeSuggestion",
    "Person",
    "PersonMerge",
    "PersonSeparation",
    "Workspace",
]
