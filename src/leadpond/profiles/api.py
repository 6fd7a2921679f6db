"""People: search by identifier, read one profile, read its timeline."""

from fastapi import APIRouter

from leadpond.identity.keys import normalise_identifier
from leadpond.kit.http import ReadSession, RowId
from leadpond.kit.schemas import Limit, Offset
from leadpond.profiles import service
from leadpond.profiles.schemas import (
    PersonPage,
    PersonRead,
    TimelineEntry,
    TimelinePage,
    TraitHistoryPage,
    TraitValue,
)
from leadpond.users.auth import ReadActor

router = APIRouter(prefix="/api/v1/people", tags=["people"])


@router.get("", response_model=PersonPage)
def list_people(
    actor: ReadActor,
    session: ReadSession,
    user_id: str | None = None,
    anonymous_id: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    identifier_type: str | None = None,
    identifier_value: str | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> PersonPage:
    """People of the workspace, filtered by any identifier given."""
    wanted = [
        ("user_id", user_id),
        ("anonymous_id", anonymous_id),
        ("email", email),
        ("phone", phone),
        (identifier_type, identifier_value),
    ]
    identifiers: dict[str, str] = {}
    for id_type, raw in wanted:
        if id_type and raw:
            value = normalise_identifier(id_type, raw)
            if value is None:
                return PersonPage(total=0, items=[])
            identifiers[id_type] = value
    total, found = service.find_people(
        session, actor.workspace_id, identifiers=identifiers, limit=limit, offset=offset
    )
    ids = service.identifiers_of(session, [p.id for p in found])
    return PersonPage(total=total, items=[PersonRead.build(p, ids[p.id]) for p in found])


@router.get("/{person_id}", response_model=PersonRead)
def read_person(person_id: RowId, actor: ReadActor, session: ReadSession) -> PersonRead:
    """One profile; a merged-away id answers with the surviving person."""
    person = service.get_person(session, actor.workspace_id, person_id)
    return PersonRead.build(person, service.identifiers_of(session, [person.id])[person.id])


@router.get("/{person_id}/timeline", response_model=TimelinePage)
def read_timeline(
    person_id: RowId, actor: ReadActor, session: ReadSession, limit: Limit = 100, offset: Offset = 0
) -> TimelinePage:
    """The person's events across every channel, newest first."""
    person = service.get_person(session, actor.workspace_id, person_id)
    total, events = service.timeline(
        session, actor.workspace_id, person.id, limit=limit, offset=offset
    )
    return TimelinePage(total=total, items=[TimelineEntry.build(e) for e in events])


@router.get("/{person_id}/traits/history", response_model=TraitHistoryPage)
def read_trait_history(
    person_id: RowId, actor: ReadActor, session: ReadSession, trait: str | None = None
) -> TraitHistoryPage:
    """Every value each trait was given (kept and overruled), newest first, with its source."""
    person = service.get_person(session, actor.workspace_id, person_id)
    history = service.trait_history(session, actor.workspace_id, person.id, trait)
    return TraitHistoryPage(
        total=len(history), items=[TraitValue.model_validate(h) for h in history]
    )
