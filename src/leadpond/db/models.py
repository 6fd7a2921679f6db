"""Imports every model so the metadata (and Alembic) sees the whole schema."""

from leadpond.db.base import Base
from leadpond.identity.models import Identifier
from leadpond.ingest.models import Event
from leadpond.profiles.models import Person
from leadpond.workspaces.models import ApiCredential, Workspace

__all__ = ["ApiCredential", "Base", "Event", "Identifier", "Person", "Workspace"]
