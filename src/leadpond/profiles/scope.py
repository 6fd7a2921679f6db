"""Where every read of a workspace's people starts: its rows, minus the merged-away ones.

A person merged into another keeps its row (``merged_into_id`` points at the survivor) so an
unmerge can bring it back; no list, count or condition may show it. ``live`` is the one place
that rule is written.
"""

import uuid
from typing import Any

from sqlalchemy import Select, and_
from sqlalchemy.orm.util import AliasedClass

from leadpond.kit.scope import in_workspace, owned
from leadpond.profiles.models import Person

PersonEntity = type[Person] | AliasedClass[Person]


def live(person: PersonEntity = Person) -> Any:
    """Not merged away: a row that is a person today."""
    return person.merged_into_id.is_(None)


def live_in(workspace_id: uuid.UUID, person: PersonEntity = Person) -> Any:
    """A person of the workspace today (for selects of columns, joins and aliases)."""
    return and_(owned(person, workspace_id), live(person))


def people(workspace_id: uuid.UUID) -> Select[Person]:
    """Every live person of the workspace: the start of every read of people."""
    return in_workspace(Person, workspace_id).where(live())
