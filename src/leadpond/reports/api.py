"""Reads across domains: the people directory, an account's overview and the dashboard."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from leadpond.accounts import overview as account_overview
from leadpond.kit.clock import utcnow
from leadpond.kit.http import ReadSession, RowId
from leadpond.kit.pagination import Paging
from leadpond.reports import dashboard, directory
from leadpond.reports.schemas import AccountOverviewRead
from leadpond.users.permissions import AccountsRead, PeopleRead

router = APIRouter(prefix="/api/v1", tags=["reports"])

Text = Annotated[str | None, Query(max_length=200)]


@router.get("/search/people", response_model=directory.PeoplePage)
def search_people(
    actor: PeopleRead,
    session: ReadSession,
    paging: Paging,
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
    known: Annotated[
        bool,
        Query(description="only known contacts: people with a name, email or phone"),
    ] = False,
) -> directory.PeoplePage:
    """The people directory: search, filter, sort and page in the database. ``total`` is
    exact unless ``total_exact`` is false: a filter matching more than 10,000 people is counted
    to there."""
    query = directory.PeopleQuery(
        q=q,
        tag=tag,
        stage=stage,
        account_id=account_id,
        score_model=score_model,
        min_score=min_score,
        persona=persona,
        sort=sort,
        known=known,
    )
    return directory.search_people(session, actor.workspace_id, query, paging)


@router.get("/accounts/{account_id}/overview", response_model=AccountOverviewRead)
def read_account_overview(
    account_id: RowId, actor: AccountsRead, session: ReadSession
) -> AccountOverviewRead:
    """The account's people by decision-chain role, committee coverage and weekly engagement."""
    found = account_overview.overview(session, actor.workspace_id, account_id, utcnow().date())
    return AccountOverviewRead(
        id=found.account.id,
        name=found.account.name,
        domain=found.account.domain,
        industry=found.account.industry,
        people_by_role=directory.people_by_role(session, actor.workspace_id, found.links_by_role),
        role_counts=found.people_by_role,
        coverage=found.coverage,
        coverage_ratio=found.coverage_ratio,
        engagement=found.engagement,
    )


@router.get("/dashboard", response_model=dashboard.Dashboard)
def read_dashboard(
    actor: PeopleRead,
    session: ReadSession,
    start: date | None = None,
    end: date | None = None,
    score_model: Text = None,
) -> dashboard.Dashboard:
    """Stage funnel, new people per channel per day, top tags and a score histogram."""
    first, last = dashboard.check_range(start, end, utcnow().date())
    return dashboard.build(session, actor.workspace_id, first, last, score_model)
