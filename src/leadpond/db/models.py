"""Imports every model so the metadata (and Alembic) sees the whole schema."""

from leadpond.accounts.models import Account, AccountKey, AccountSettings, PersonAccount
from leadpond.console.models import (
    PERSON_ACTIVITY_INDEX,
    PERSON_LAST_SEEN_INDEX,
    PERSON_NAME_INDEX,
)
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
from leadpond.rules.models import (
    PersonScore,
    PersonStage,
    PersonTag,
    PlaybookVersion,
    ScoreLedger,
    StageChange,
)
from leadpond.users.models import ConsoleSession, ConsoleUser, Membership
from leadpond.workspaces.models import ApiCredential, Workspace

__all__ = [
    "Account",
    "AccountKey",
    "AccountSettings",
    "PERSON_ACTIVITY_INDEX",
    "PERSON_LAST_SEEN_INDEX",
    "PERSON_NAME_INDEX",
    "ApiCredential",
    "Base",
    "ConsoleSession",
    "ConsoleUser",
    "Event",
    "Identifier",
    "IdentitySettings",
    "Membership",
    "MergeSuggestion",
    "Person",
    "PersonScore",
    "PersonStage",
    "PersonTag",
    "PlaybookVersion",
    "ScoreLedger",
    "StageChange",
    "PersonAccount",
    "PersonMerge",
    "PersonSeparation",
    "Workspace",
]
