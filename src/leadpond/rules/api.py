"""A person's tags, scores (with the ledger), stage (with history) and personas; backfill."""

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Header, Response

from leadpond.kit.http import ReadSession, RowId, WriteSession
from leadpond.kit.names import accepted_language
from leadpond.profiles.service import get_person
from leadpond.rules import reads
from leadpond.rules.schemas import (
    AccountScoresRead,
    PersonaList,
    PersonaRead,
    ScoreList,
    ScoreRead,
    StageRead,
    TagBody,
    TagList,
    TagRead,
)
from leadpond.users.permissions import RulesRead, RulesWrite

router = APIRouter(prefix="/api/v1", tags=["rules"])

# Names the playbook gives per language come in the first of these we speak (zh by default).
AcceptLanguage = Annotated[
    str | None, Header(description="zh or en: the language of display names")
]


@router.get("/people/{person_id}/tags", response_model=TagList)
def read_tags(person_id: RowId, actor: RulesRead, session: ReadSession) -> TagList:
    """Every tag with its provenance: the rule and event, or the user, and when."""
    person = get_person(session, actor.workspace_id, person_id)
    tags = reads.tags_of(session, actor.workspace_id, person.id)
    return TagList(
        person_id=person.id, items=[TagRead.model_validate(t, from_attributes=True) for t in tags]
    )


@router.post("/people/{person_id}/tags", response_model=TagRead, status_code=201)
def add_tag(person_id: RowId, body: TagBody, actor: RulesWrite, session: WriteSession) -> TagRead:
    """Tag a person by hand (idempotent)."""
    person = get_person(session, actor.workspace_id, person_id)
    row = reads.add_manual_tag(session, actor.workspace_id, person.id, body.tag, actor.via)
    return TagRead.model_validate(row, from_attributes=True)


@router.delete("/people/{person_id}/tags/{tag:path}", status_code=204)
def remove_tag(person_id: RowId, tag: str, actor: RulesWrite, session: WriteSession) -> Response:
    """Take a tag off (a rule may add it again on a later event)."""
    person = get_person(session, actor.workspace_id, person_id)
    reads.remove_tag(session, actor.workspace_id, person.id, tag)
    return Response(status_code=204)


@router.get("/people/{person_id}/scores", response_model=ScoreList)
def read_scores(person_id: RowId, actor: RulesRead, session: ReadSession) -> ScoreList:
    """Each score model's value, explained point by point by the ledger."""
    person = get_person(session, actor.workspace_id, person_id)
    scores = reads.scores_of(session, actor.workspace_id, person.id)
    return ScoreList(
        person_id=person.id, items=[ScoreRead.model_validate(asdict(s)) for s in scores]
    )


@router.get("/people/{person_id}/stage", response_model=StageRead)
def read_stage(
    person_id: RowId,
    actor: RulesRead,
    session: ReadSession,
    accept_language: AcceptLanguage = None,
) -> StageRead:
    """The lifecycle stage (named in the Accept-Language) and every change with its rule,
    event and time."""
    person = get_person(session, actor.workspace_id, person_id)
    language = accepted_language(accept_language)
    stage = reads.stage_of(session, actor.workspace_id, person.id, language)
    return StageRead.model_validate({"person_id": person.id, **stage})


@router.get("/people/{person_id}/personas", response_model=PersonaList)
def read_personas(
    person_id: RowId,
    actor: RulesRead,
    session: ReadSession,
    accept_language: AcceptLanguage = None,
) -> PersonaList:
    """The personas (role cards) the person matches now, named in the Accept-Language."""
    person = get_person(session, actor.workspace_id, person_id)
    language = accepted_language(accept_language)
    found = reads.personas_of(session, actor.workspace_id, person.id, language)
    return PersonaList(person_id=person.id, items=[PersonaRead.model_validate(p) for p in found])


@router.get("/accounts/{account_id}/scores", response_model=AccountScoresRead)
def read_account_scores(
    account_id: RowId, actor: RulesRead, session: ReadSession
) -> AccountScoresRead:
    """An account's scores, rolled up from its people."""
    return AccountScoresRead.model_validate(
        reads.account_scores(session, actor.workspace_id, account_id)
    )
