"""Indexes that keep the people directory fast at a million people (on the person table).

``trait_text`` is one expression for both index and query, with the JSON path as a literal so
SQLite and PostgreSQL match queries to the expression index.
"""

from typing import Any

from sqlalchemy import Index, func
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import String

from leadpond.profiles.models import Person


class TraitText(ColumnElement[str]):
    """A person trait as text: ``json_extract(traits, '$.x')`` / ``traits ->> 'x'``."""

    inherit_cache = True
    type = String()

    def __init__(self, trait: str) -> None:
        if not trait.isidentifier():
            raise ValueError(f"not a trait name: {trait!r}")
        self.trait = trait

    @property
    def _cache_key_extra(self) -> str:
        return self.trait


@compiles(TraitText)
def _trait_text_sqlite(element: TraitText, compiler: SQLCompiler, **_kw: Any) -> str:
    return f"json_extract(traits, '$.{element.trait}')"


@compiles(TraitText, "postgresql")
def _trait_text_postgres(element: TraitText, compiler: SQLCompiler, **_kw: Any) -> str:
    return f"traits ->> '{element.trait}'"


def name_key() -> ColumnElement[str]:
    """The lower-cased name trait: what name search and name sort use."""
    return func.lower(TraitText("name"))


PERSON_NAME_INDEX = Index("ix_person_name_key", Person.workspace_id, name_key())
PERSON_LAST_SEEN_INDEX = Index("ix_person_last_seen", Person.workspace_id, Person.last_seen_at)
PERSON_ACTIVITY_INDEX = Index("ix_person_event_count", Person.workspace_id, Person.event_count)
# The dashboard's new people of a date range.
PERSON_FIRST_SEEN_INDEX = Index("ix_person_first_seen", Person.workspace_id, Person.first_seen_at)
