"""Accounts: search by domain or name, read one with its people, attach aliases, role keywords."""

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from leadpond.accounts import directory, duplicates, merges, overview
from leadpond.accounts.models import AccountSuggestion
from leadpond.accounts.schemas import (
    AccountDetail,
    AccountMergeBody,
    AccountMergeRead,
    AccountRead,
    AccountSuggestionDecision,
    AccountSuggestionPage,
    AccountSuggestionRead,
    AliasCreate,
    RoleTableBody,
)
from leadpond.accounts.tasks import SCAN_ACCOUNTS
from leadpond.identity.suggestions import decode_cursor
from leadpond.jobs.api import IdempotencyKey, accepted
from leadpond.jobs.schemas import JobRead
from leadpond.jobs.service import enqueue, fresh_key
from leadpond.kit.http import ReadSession, RowId, WriteSession
from leadpond.kit.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page, Paging
from leadpond.profiles.service import get_person
from leadpond.users.auth import Actor
from leadpond.users.permissions import AccountsRead, AccountsWrite

router = APIRouter(prefix="/api/v1/accounts", tags=["accounts"])


def _actor_name(actor: Actor) -> str:
    return f"{actor.via}:{actor.role}"


@router.get("", response_model=Page[AccountRead])
def list_accounts(
    actor: AccountsRead,
    session: ReadSession,
    paging: Paging,
    domain: str | None = None,
    name: str | None = None,
) -> Page[AccountRead]:
    """Accounts of the workspace, by mail/web domain or by company name as people type it."""
    total, found = directory.find_accounts(
        session,
        actor.workspace_id,
        domain=domain,
        name=name,
        limit=paging.limit,
        offset=paging.offset,
    )
    return Page[AccountRead](total=total, items=[AccountRead.build(a) for a in found])


@router.get("/suggestions", response_model=AccountSuggestionPage)
def list_account_suggestions(
    actor: AccountsRead,
    session: ReadSession,
    status: Literal["pending", "accepted", "rejected", "stale"] = "pending",
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=64, description="next_cursor of a page")] = None,
) -> AccountSuggestionPage:
    """Accounts that look like one company, best first, with the evidence for each."""
    after = decode_cursor(cursor) if cursor else None
    total, found = duplicates.list_account_suggestions(
        session, actor.workspace_id, status, limit, after
    )
    last = found[-1] if len(found) == limit else None
    return AccountSuggestionPage(
        total=total,
        items=[AccountSuggestionRead.build(s) for s in found],
        next_cursor=f"{last.score!r}_{last.id}" if last is not None else None,
    )


@router.post("/suggestions/scan", response_model=JobRead, status_code=202)
def scan_account_duplicates(
    actor: AccountsWrite,
    session: WriteSession,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> JobRead:
    """Queue a comparison of every account (202 with the job; the result counts new
    suggestions)."""
    key = idempotency_key or f"{SCAN_ACCOUNTS}:{actor.via}:{fresh_key()}"
    job = enqueue(session, SCAN_ACCOUNTS, key, {}, workspace_id=actor.workspace_id)
    return accepted(response, job)


@router.post("/suggestions/{suggestion_id}/accept", response_model=AccountSuggestionDecision)
def accept_account_suggestion(
    suggestion_id: RowId, actor: AccountsWrite, session: WriteSession
) -> AccountSuggestionDecision:
    """Merge the two accounts into the older one (undoable: see ``…/merges/{id}/undo``)."""
    survivor = duplicates.accept(session, actor.workspace_id, suggestion_id, _actor_name(actor))
    found = session.get_one(AccountSuggestion, suggestion_id)
    return AccountSuggestionDecision(
        suggestion=AccountSuggestionRead.build(found), account_id=survivor
    )


@router.post("/suggestions/{suggestion_id}/reject", response_model=AccountSuggestionDecision)
def reject_account_suggestion(
    suggestion_id: RowId, actor: AccountsWrite, session: WriteSession
) -> AccountSuggestionDecision:
    """Two companies after all: never suggested again."""
    found = duplicates.reject(session, actor.workspace_id, suggestion_id, _actor_name(actor))
    return AccountSuggestionDecision(suggestion=AccountSuggestionRead.build(found))


@router.post("/merges/{merge_id}/undo", response_model=AccountMergeRead)
def undo_account_merge(
    merge_id: RowId, actor: AccountsWrite, session: WriteSession
) -> AccountMergeRead:
    """Bring the merged account back with its keys and people; the two stay apart."""
    merge = merges.unmerge_accounts(session, actor.workspace_id, merge_id, actor=_actor_name(actor))
    return AccountMergeRead.build(merge)


@router.get("/settings/roles", response_model=RoleTableBody)
def read_role_table(actor: AccountsRead, session: ReadSession) -> RoleTableBody:
    """The title keywords that infer each decision-chain role."""
    return RoleTableBody(roles=directory.get_role_table(session, actor.workspace_id))


@router.put("/settings/roles", response_model=RoleTableBody)
def replace_role_table(
    body: RoleTableBody, actor: AccountsWrite, session: WriteSession
) -> RoleTableBody:
    """Replace the title keyword table (longest keyword found in a title wins)."""
    return RoleTableBody(roles=directory.put_role_table(session, actor.workspace_id, body.roles))


@router.get("/{account_id}", response_model=AccountDetail)
def read_account(account_id: RowId, actor: AccountsRead, session: ReadSession) -> AccountDetail:
    """One account with its keys and its people, their roles and titles."""
    account = directory.get_account(session, actor.workspace_id, account_id)
    return AccountDetail.assemble(
        account,
        directory.keys_of(session, actor.workspace_id, account.id),
        directory.people_of(session, actor.workspace_id, account.id),
    )


@router.post("/{account_id}/aliases", response_model=AccountDetail)
def attach_alias(
    account_id: RowId, body: AliasCreate, actor: AccountsWrite, session: WriteSession
) -> AccountDetail:
    """Attach another name (e.g. the English one) to the account; 409 if another holds it."""
    account = directory.add_alias(session, actor.workspace_id, account_id, body.alias)
    return AccountDetail.assemble(
        account,
        directory.keys_of(session, actor.workspace_id, account.id),
        directory.people_of(session, actor.workspace_id, account.id),
    )


@router.post("/{account_id}/merge", response_model=AccountMergeRead)
def merge_account(
    account_id: RowId, body: AccountMergeBody, actor: AccountsWrite, session: WriteSession
) -> AccountMergeRead:
    """Fold another account (its keys, people and missing fields) into this one; recorded,
    and undoable with ``POST /api/v1/accounts/merges/{id}/undo``."""
    merge = merges.merge_accounts(
        session, actor.workspace_id, account_id, body.account_id, actor=_actor_name(actor)
    )
    return AccountMergeRead.build(merge)


@router.get("/{account_id}/merges", response_model=Page[AccountMergeRead])
def account_merge_history(
    account_id: RowId, actor: AccountsRead, session: ReadSession
) -> Page[AccountMergeRead]:
    """Every merge into or out of the account, undone ones too."""
    found = merges.account_merges(session, actor.workspace_id, account_id)
    return Page(total=len(found), items=[AccountMergeRead.build(m) for m in found])


# Account reads outside ``/accounts``: the console's search box and the accounts of a person.
lookup_router = APIRouter(prefix="/api/v1", tags=["accounts"])


@lookup_router.get("/search/accounts", response_model=Page[overview.AccountRow])
def search_accounts(
    actor: AccountsRead,
    session: ReadSession,
    paging: Paging,
    name: Annotated[str | None, Query(max_length=200)] = None,
) -> Page[overview.AccountRow]:
    """Accounts with their people count, all or by company name as typed."""
    total, rows = overview.list_accounts(session, actor.workspace_id, name=name, page=paging)
    return Page(total=total, items=rows)


@lookup_router.get("/people/{person_id}/accounts", response_model=Page[overview.PersonAccountLink])
def read_person_accounts(
    person_id: RowId, actor: AccountsRead, session: ReadSession
) -> Page[overview.PersonAccountLink]:
    """The accounts the person works at, with decision-chain role and title."""
    person = get_person(session, actor.workspace_id, person_id)
    found = overview.accounts_of(session, actor.workspace_id, person.id)
    return Page(total=len(found), items=found)
