"""Identity: merge history, unmerge, duplicate review and the identity rules of a workspace."""

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from leadpond.identity import duplicates, suggestions, unmerge
from leadpond.identity import settings as identity_settings
from leadpond.identity.config import IdentitySettingsBody
from leadpond.identity.schemas import (
    IdentitySettingsRead,
    MergeRead,
    ScanBody,
    SuggestionDecision,
    SuggestionPage,
    SuggestionRead,
    UnmergeBody,
    UnmergeRead,
)
from leadpond.identity.tasks import REBUILD_GRAPH
from leadpond.jobs.api import IdempotencyKey, accepted
from leadpond.jobs.schemas import JobRead
from leadpond.jobs.service import enqueue, fresh_key
from leadpond.kit.http import ReadSession, RowId, WriteSession
from leadpond.kit.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from leadpond.users.auth import Actor
from leadpond.users.permissions import IdentityRead, IdentityWrite

router = APIRouter(prefix="/api/v1", tags=["identity"])


def _actor_name(actor: Actor) -> str:
    return f"{actor.via}:{actor.role}"


@router.post("/people/{person_id}/unmerge", response_model=UnmergeRead)
def unmerge_person(
    person_id: RowId, body: UnmergeBody, actor: IdentityWrite, session: WriteSession
) -> UnmergeRead:
    """Split off what an identifier brought in; both profiles are recomputed and kept apart."""
    result = unmerge.unmerge(
        session,
        actor.workspace_id,
        person_id,
        body.identifier.type,
        body.identifier.value,
        _actor_name(actor),
    )
    return UnmergeRead(**result.__dict__)


@router.get("/people/{person_id}/merges", response_model=Page[MergeRead])
def person_merges(person_id: RowId, actor: IdentityRead, session: ReadSession) -> Page[MergeRead]:
    """Every merge that shaped this person: identifier, event, who and when; undone ones too."""
    merges = unmerge.merge_history(session, actor.workspace_id, person_id)
    return Page[MergeRead](total=len(merges), items=[MergeRead.build(m) for m in merges])


@router.get("/identity/suggestions", response_model=SuggestionPage)
def list_suggestions(
    actor: IdentityRead,
    session: ReadSession,
    status: Literal["pending", "accepted", "rejected", "stale"] = "pending",
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=64, description="next_cursor of a page")] = None,
) -> SuggestionPage:
    """Possible duplicates sharing no identifier, best first, with the evidence for each."""
    after = suggestions.decode_cursor(cursor) if cursor else None
    total, found = suggestions.list_suggestions(session, actor.workspace_id, status, limit, after)
    return SuggestionPage(
        total=total,
        items=[SuggestionRead.build(s) for s in found],
        next_cursor=suggestions.encode_cursor(found[-1]) if len(found) == limit else None,
    )


@router.post("/identity/suggestions/scan", response_model=JobRead, status_code=202)
def scan_for_duplicates(
    body: ScanBody, actor: IdentityWrite, session: WriteSession, response: Response
) -> JobRead:
    """Queue a duplicate scan (202 with the job; its ``Location`` shows progress, its result
    the counts): the linkage model scores people and likely pairs join the review queue."""
    job = duplicates.queue_scan(session, actor.workspace_id, full=body.full)
    return accepted(response, job)


@router.post("/identity/suggestions/{suggestion_id}/accept", response_model=SuggestionDecision)
def accept_suggestion(
    suggestion_id: RowId, actor: IdentityWrite, session: WriteSession
) -> SuggestionDecision:
    """Merge the two people (recorded as a merge that can be undone)."""
    survivor = suggestions.accept(session, actor.workspace_id, suggestion_id, _actor_name(actor))
    found = suggestions.get_suggestion(session, actor.workspace_id, suggestion_id)
    return SuggestionDecision(suggestion=SuggestionRead.build(found), person_id=survivor)


@router.post("/identity/suggestions/{suggestion_id}/reject", response_model=SuggestionDecision)
def reject_suggestion(
    suggestion_id: RowId, actor: IdentityWrite, session: WriteSession
) -> SuggestionDecision:
    """Keep the two people apart for good."""
    suggestions.reject(session, actor.workspace_id, suggestion_id, _actor_name(actor))
    found = suggestions.get_suggestion(session, actor.workspace_id, suggestion_id)
    return SuggestionDecision(suggestion=SuggestionRead.build(found))


@router.post("/identity/rebuild", response_model=JobRead, status_code=202)
def rebuild_graph(
    actor: IdentityWrite,
    session: WriteSession,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> JobRead:
    """Queue a replay of the workspace's history through the current identity rules (a job,
    one transaction: people never see half a rebuild); answers 202 at once with the job, whose
    ``Location`` reports progress and, when done, the rebuild report (events moved, people
    created and retired, identifiers changed)."""
    key = idempotency_key or f"rebuild:{actor.via}:{fresh_key()}"
    job = enqueue(session, REBUILD_GRAPH, key, {}, workspace_id=actor.workspace_id)
    return accepted(response, job)


@router.get("/identity/settings", response_model=IdentitySettingsRead)
def read_settings(actor: IdentityRead, session: ReadSession) -> IdentitySettingsRead:
    """The effective identity rules: every type's priority, limit, weakness and blocked values."""
    return identity_settings.effective(session, actor.workspace_id)


@router.put("/identity/settings", response_model=IdentitySettingsRead)
def write_settings(
    body: IdentitySettingsBody, actor: IdentityWrite, session: WriteSession
) -> IdentitySettingsRead:
    """Replace the workspace's overrides; new events follow them (rebuild to apply to history)."""
    identity_settings.save(session, actor.workspace_id, body)
    return identity_settings.effective(session, actor.workspace_id)
