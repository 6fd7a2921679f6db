"""The console's REST API: the directory, the dashboard and the account and person views."""

from dataclasses import asdict
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query

from leadpond.console import accounts_view, dashboard, directory, person_view
from leadpond.console.schemas import (
    AccountOverviewRead,
    AccountRowPage,
    AccountRowRead,
    DashboardRead,
    IdentifierSourcePage,
    IdentifierSourceRead,
    PersonAccountPage,
    PersonAccountRead,
    PersonRowPage,
    PersonRowRead,
)
from leadpond.kit.clock import utcnow
from leadpond.kit.http import ReadSession
from leadpond.kit.schemas import Limit, Offset
from leadpond.profiles.service import get_person
from leadpond.users.auth import ReadActor

router = APIRouter(prefix="/api/v1", tags=["console"])

Text = Annotated[str | None, Query(max_length=200)]
# Ids beyond 64 bits cannot name a row (SQLite would overflow): 404 is not the answer, 422 is.
RowId = Annotated[int, Path(ge=1, le=2**63 - 1)]


@router.get("/search/people", response_model=PersonRowPage)
def search_people(
    actor: ReadActor,
    session: ReadSession,
    q: Annotated[
        str | None, Query(max_length=200, description="name, email, phone or company")
    ] = None,
    tag: Text = None,
    stage: Text = None,
    account_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    score_model: Text = None,
    min_score: Annotated[float | None, Query(ge=-1e12, le=1e12)] = None,
    persona: Annotated[
        str | None,
        Query(
            max_length=200,
            description="a persona key of the playbook (people matching its condition now); "
            "an unknown key answers 400 invalid_input",
        ),
    ] = None,
    sort: Annotated[str, Query(description=", ".join(directory.SORT_NAMES))] = "-last_seen",
    limit: Limit = 50,
    offset: Offset = 0,
) -> PersonRowPage:
    """The people directory: search, filter, sort and page in the database."""
    query = directory.PeopleQuery(
        q=q,
        tag=tag,
        stage=stage,
        account_id=account_id,
        score_model=score_model,
        min_score=min_score,
        persona=persona,
        sort=sort,
        limit=limit,
        offset=offset,
    )
    total, rows = directory.search_people(session, actor.workspace_id, query)
    return PersonRowPage(total=total, items=[PersonRowRead(**asdict(r)) for r in rows])


@router.get("/people/{person_id}/identifiers", response_model=IdentifierSourcePage)
def person_identifiers(
    person_id: RowId, actor: ReadActor, session: ReadSession
) -> IdentifierSourcePage:
    """The person's identifiers, each with the channel that first brought it."""
    person = get_person(session, actor.workspace_id, person_id)
    found = person_view.identifier_sources(session, actor.workspace_id, person.id)
    return IdentifierSourcePage(
        total=len(found), items=[IdentifierSourceRead(**asdict(i)) for i in found]
    )


@router.get("/people/{person_id}/accounts", response_model=PersonAccountPage)
def person_accounts(person_id: RowId, actor: ReadActor, session: ReadSession) -> PersonAccountPage:
    """The accounts the person works at, with decision-chain role and title."""
    person = get_person(session, actor.workspace_id, person_id)
    found = person_view.accounts_of(session, actor.workspace_id, person.id)
    return PersonAccountPage(
        total=len(found), items=[PersonAccountRead(**asdict(a)) for a in found]
    )


@router.get("/search/accounts", response_model=AccountRowPage)
def search_accounts(
    actor: ReadActor, session: ReadSession, name: Text = None, limit: Limit = 50, offset: Offset = 0
) -> AccountRowPage:
    """Accounts with their people count, all or by company name as typed."""
    total, rows = accounts_view.list_accounts(
        session, actor.workspace_id, name=name, limit=limit, offset=offset
    )
    return AccountRowPage(total=total, items=[AccountRowRead(**asdict(r)) for r in rows])


@router.get("/accounts/{account_id}/overview", response_model=AccountOverviewRead)
def account_overview(
    account_id: RowId, actor: ReadActor, session: ReadSession
) -> AccountOverviewRead:
    """The account's people by decision-chain role, committee coverage and weekly engagement."""
    found = accounts_view.overview(session, actor.workspace_id, account_id, utcnow().date())
    return AccountOverviewRead(
        id=found.account.id,
        name=found.account.name,
        domain=found.account.domain,
        industry=found.account.industry,
        people_by_role={
            role: [PersonRowRead(**asdict(r)) for r in rows]
            for role, rows in found.people_by_role.items()
        },
        coverage=found.coverage,
        coverage_ratio=found.coverage_ratio,
        engagement=found.engagement,
    )


@router.get("/dashboard", response_model=DashboardRead)
def read_dashboard(
    actor: ReadActor,
    session: ReadSession,
    start: date | None = None,
    end: date | None = None,
    score_model: Text = None,
) -> DashboardRead:
    """Stage funnel, new people per channel per day, top tags and a score histogram."""
    first, last = dashboard.check_range(start, end, utcnow().date())
    built = dashboard.build(session, actor.workspace_id, first, last, score_model)
    return DashboardRead(**asdict(built))
