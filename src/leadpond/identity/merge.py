"""Folding people into each other: identifiers, events, redirects and profiles, each recorded."""

import uuid
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, bindparam, insert, update
from sqlalchemy.orm import Session

from leadpond.identity.keys import IdentifierKey
from leadpond.identity.models import Identifier, MergeSuggestion, PersonMerge
from leadpond.ingest.models import Event
from leadpond.kit.clock import utcnow
from leadpond.kit.scope import owned
from leadpond.profiles import service as profiles
from leadpond.profiles.models import Person


@dataclass(frozen=True)
class MergePlan:
    survivor: int
    loser: int
    key: IdentifierKey | None  # the identifier that brought them together, if one did
    event_id: int | None  # the event that carried it


def apply_merges(
    session: Session, workspace_id: uuid.UUID, plans: list[MergePlan], *, reason: str, actor: str
) -> None:
    """Fold each loser into its survivor, in order, with set-wise statements; record each merge."""
    if not plans:
        return
    session.flush()
    identifier = cast(Table, Identifier.__table__)
    event = cast(Table, Event.__table__)
    person = cast(Table, Person.__table__)
    moves = [{"ws": workspace_id, "to": plan.survivor, "from": plan.loser} for plan in plans]
    for table, column in ((identifier, identifier.c.person_id), (event, event.c.person_id)):
        session.execute(
            update(table)
            .where(owned(table, bindparam("ws")), column == bindparam("from"))
            .values(person_id=bindparam("to")),
            moves,
        )
    # Two statements, not one with OR: each then uses its index (the primary key, and
    # (workspace_id, merged_into_id)) instead of walking every person of the workspace.
    for moved in (person.c.id, person.c.merged_into_id):
        session.execute(
            update(person)
            .where(owned(person, bindparam("ws")), moved == bindparam("from"))
            .values(merged_into_id=bindparam("to")),
            moves,
        )
    _retire_suggestions(session, workspace_id, {plan.loser for plan in plans})
    drafts = profiles.load_drafts(session, [p.survivor for p in plans] + [p.loser for p in plans])
    for plan in plans:
        profiles.fold_profile(drafts[plan.survivor], drafts[plan.loser])
    now = utcnow()
    profiles.write_drafts(session, (drafts[p.survivor] for p in plans), now)
    session.execute(
        insert(cast(Table, PersonMerge.__table__)),
        [
            {
                "workspace_id": workspace_id,
                "survivor_id": plan.survivor,
                "merged_id": plan.loser,
                "identifier_type": plan.key[0] if plan.key else None,
                "identifier_value": plan.key[1] if plan.key else None,
                "event_id": plan.event_id,
                "reason": reason,
                "actor": actor,
                "created_at": now,
            }
            for plan in plans
        ],
    )


def _retire_suggestions(session: Session, workspace_id: uuid.UUID, merged: set[int]) -> None:
    """Pending suggestions naming a person merged away are stale (the review queue stays a plain
    index range); the survivor is compared anew by the next scan."""
    for column in (MergeSuggestion.person_a_id, MergeSuggestion.person_b_id):
        session.execute(
            update(MergeSuggestion)
            .where(
                owned(MergeSuggestion, workspace_id),
                MergeSuggestion.status == "pending",
                column.in_(merged),
            )
            .values(status="stale")
            .execution_options(synchronize_session=False)
        )
