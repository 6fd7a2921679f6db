"""People: search by identifier, read one profile, its identifiers, timeline and trait history."""

import uuid

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from leadpond.identity.keys import normalise_identifier
from leadpond.jobs import service as jobs
from leadpond.kit.http import ReadSession, RowId, WriteSession
from leadpond.kit.pagination import HistoryPaging, Page, Paging
from leadpond.profiles import service, touches
from leadpond.profiles.identifiers import IdentifierSource, identifier_sources
from leadpond.profiles.schemas import PersonRead, TimelineEntry, TraitValue
from leadpond.profiles.tasks import RECOMPUTE_TOUCHES
from leadpond.profiles.touches import ChannelGroup
from leadpond.users.permissions import PeopleRead, RulesRead, RulesWrite

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


groups_router = APIRouter(prefix="/api/v1/channel-groups", tags=["attribution"])


class ChannelGroupsRead(BaseModel):
    groups: list[ChannelGroup] = Field(description="in order: the first that matches wins")
    built_in: list[ChannelGroup] = Field(description="direct (no source) and other (no match)")
    custom: bool = Field(description="the workspace set its own grouping")
    job_id: int | None = Field(default=None, description="the recompute of everyone's touches")


def _groups(session: Session, workspace_id: uuid.UUID, job_id: int | None) -> ChannelGroupsRead:
    grouping = touches.load_grouping(session, workspace_id)
    return ChannelGroupsRead(
        groups=list(grouping.groups),
        built_in=list(touches.BUILT_IN_GROUPS),
        custom=grouping is not touches.DEFAULT_GROUPING,
        job_id=job_id,
    )


@groups_router.get("", response_model=ChannelGroupsRead)
def get_channel_groups(actor: RulesRead, session: ReadSession) -> ChannelGroupsRead:
    """The channel grouping first and last touches are put in (搜索, 社交, 微信…)."""
    return _groups(session, actor.workspace_id, None)


@groups_router.put("", response_model=ChannelGroupsRead)
def put_channel_groups(
    body: touches.GroupingSettings, actor: RulesWrite, session: WriteSession
) -> ChannelGroupsRead:
    """Set the workspace's own grouping; everyone's touches are recomputed by a job."""
    touches.save_grouping(session, actor.workspace_id, body)
    job = jobs.enqueue(
        session, RECOMPUTE_TOUCHES, jobs.fresh_key(), {}, workspace_id=actor.workspace_id
    )
    return _groups(session, actor.workspace_id, job.id)


@groups_router.delete("", response_model=ChannelGroupsRead)
def reset_channel_groups(actor: RulesWrite, session: WriteSession) -> ChannelGroupsRead:
    """Back to the default grouping; everyone's touches are recomputed by a job."""
    touches.save_grouping(session, actor.workspace_id, None)
    job = jobs.enqueue(
        session, RECOMPUTE_TOUCHES, jobs.fresh_key(), {}, workspace_id=actor.workspace_id
    )
    return _groups(session, actor.workspace_id, job.id)
