"""Accounts: search by domain or name, read one with its people, attach aliases, role keywords."""

from typing import Annotated

from fastapi import APIRouter, Query

from leadpond.accounts import directory, overview
from leadpond.accounts.schemas import (
    AccountDetail,
    AccountRead,
    AliasCreate,
    RoleTableBody,
)
from leadpond.kit.http import ReadSession, RowId, WriteSession
from leadpond.kit.pagination import Page, Paging
from leadpond.profiles.service import get_person
from leadpond.users.permissions import AccountsRead, AccountsWrite

router = APIRouter(prefix="/api/v1/accounts", tags=["accounts"])


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
