"""People: search by identifier, read one profile, read its timeline."""

from typing import Annotated

from fastapi import APIRouter, Query

from leadpond.kit.http import ReadSession
from leadpond.profiles import service
from leadpond.profiles.schemas import PersonPage, PersonRead, TimelineEntry, TimelinePage
from leadpond.workspaces.auth import ApiActor

router = APIRouter(prefix="/api/v1/people", tags=["people"])

Limit = Annotated[int, Query(ge=1, le=1000)]
Offset = Annotated[int, Query(ge=0)]


@router.get("", response_model=PersonPage)
def list_people(
    actor: ApiActor,
    session: ReadSession,
    user_id: str | None = None,
    anonymous_id: str | None = None,
    email: str | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> PersonPage:
    """People of the workspace, filtered by any identifier given."""
    identifiers = {
        k: v
        for k, v in (
            ("user_id", user_id),
            ("anonymous_id", anonymous_id),
            ("email", email.strip().lower() if email else None),
        )
        if v
    }
    total, found = service.find_people(
        session, actor.workspace_id, identifiers=identifiers, limit=limit, offset=offset
    )
    ids = service.identifiers_of(session, [p.id for p in found])
    return PersonPage(total=total, items=[PersonRead.build(p, ids[p.id]) for p in found])


@router.get("/{person_id}", response_model=PersonRead)
def read_person(person_id: int, actor: ApiActor, session: ReadSession) -> PersonRead:
    """One profile; a merged-away id answers with the surviving person."""
    person = service.get_person(session, actor.workspace_id, person_id)
    return PersonRead.build(person, service.identifiers_of(session, [person.id])[person.id])


@router.get("/{person_id}/timeline", response_model=TimelinePage)
def read_timeline(
    person_id: int, actor: ApiActor, session: ReadSession, limit: Limit = 100, offset: Offset = 0
) -> TimelinePage:
    """The person's events across every channel, newest first."""
    person = service.get_person(session, actor.workspace_id, person_id)
    total, events = service.timeline(
        session, actor.workspace_id, person.id, limit=limit, offset=offset
    )
    return TimelinePage(total=total, items=[TimelineEntry.build(e) for e in events])
