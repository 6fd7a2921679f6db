"""People: search by identifier, read one profile, its identifiers, timeline and trait history."""

from fastapi import APIRouter

from leadpond.identity.keys import normalise_identifier
from leadpond.kit.http import ReadSession, RowId
from leadpond.kit.pagination import HistoryPaging, Page, Paging
from leadpond.profiles import service
from leadpond.profiles.identifiers import IdentifierSource, identifier_sources
from leadpond.profiles.schemas import PersonRead, TimelineEntry, TraitValue
from leadpond.users.permissions import PeopleRead

router = APIRouter(prefix="/api/v1/people", tags=["people"])


@router.get("", response_model=Page[PersonRead])
def list_people(
    actor: PeopleRead,
    session: ReadSession,
    paging: Paging,
    user_id: str | None = None,
    anonymous_id: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    identifier_type: str | None = None,
    identifier_value: str | None = None,
) -> Page[PersonRead]:
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
                return Page(total=0, items=[])
            identifiers[id_type] = value
    total, found = service.find_people(
        session, actor.workspace_id, identifiers=identifiers, page=paging
    )
    ids = service.identifiers_of(session, [p.id for p in found])
    return Page(total=total, items=[PersonRead.build(p, ids[p.id]) for p in found])


@router.get("/{person_id}", response_model=PersonRead)
def read_person(person_id: RowId, actor: PeopleRead, session: ReadSession) -> PersonRead:
    """One profile; a merged-away id answers with the surviving person."""
    person = service.get_person(session, actor.workspace_id, person_id)
    return PersonRead.build(person, service.identifiers_of(session, [person.id])[person.id])


@router.get("/{person_id}/identifiers", response_model=Page[IdentifierSource])
def read_identifiers(
    person_id: RowId, actor: PeopleRead, session: ReadSession
) -> Page[IdentifierSource]:
    """The person's identifiers, each with the channel that first brought it."""
    person = service.get_person(session, actor.workspace_id, person_id)
    found = identifier_sources(session, actor.workspace_id, person.id)
    return Page(total=len(found), items=found)


@router.get("/{person_id}/timeline", response_model=Page[TimelineEntry])
def read_timeline(
    person_id: RowId, actor: PeopleRead, session: ReadSession, paging: HistoryPaging
) -> Page[TimelineEntry]:
    """The person's events across every channel, newest first."""
    person = service.get_person(session, actor.workspace_id, person_id)
    total, events = service.timeline(session, actor.workspace_id, person.id, page=paging)
    return Page(total=total, items=[TimelineEntry.build(e) for e in events])


@router.get("/{person_id}/traits/history", response_model=Page[TraitValue])
def read_trait_history(
    person_id: RowId, actor: PeopleRead, session: ReadSession, trait: str | None = None
) -> Page[TraitValue]:
    """Every value each trait was given (kept and overruled), newest first, with its source."""
    person = service.get_person(session, actor.workspace_id, person_id)
    history = service.trait_history(session, actor.workspace_id, person.id, trait)
    return Page(total=len(history), items=[TraitValue.model_validate(h) for h in history])
