"""The accounts as the console lists and shows them: people counts, a person's accounts, and one
account's people by decision-chain role, committee coverage and engagement by week."""

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from leadpond.accounts import directory, scope
from leadpond.accounts.models import Account, PersonAccount
from leadpond.ingest.models import Event
from leadpond.kit.pagination import PageQuery, count
from leadpond.kit.schemas import UtcDatetime
from leadpond.kit.scope import owned
from leadpond.normalise.roles import ROLES
from leadpond.profiles.models import Person
from leadpond.profiles.scope import live

# The buying committee a B2B deal needs covered: every role but the catch-all.
COMMITTEE = tuple(role for role in ROLES if role != "other")
ENGAGEMENT_WEEKS = 26
# People shown per decision-chain role on an account's page (the role's count shows them all).
ROLE_PAGE = 50


class AccountRow(BaseModel):
    """One line of the accounts list: the account and how many people work there."""

    id: int
    name: str
    domain: str | None
    industry: str | None
    people: int
    last_seen_at: UtcDatetime | None


class PersonAccountLink(BaseModel):
    """An account the person works at, with the decision-chain role and title there."""

    account_id: int
    name: str
    role: str | None
    title: str | None
    is_primary: bool
    source: str


@dataclass
class AccountOverview:
    """One account's people (their links) by decision-chain role, coverage and engagement.

    ``links_by_role`` holds the first ``ROLE_PAGE`` people of each role (primary links first);
    ``people_by_role`` how many the role has in all.
    """

    account: Account
    links_by_role: dict[str, list[PersonAccount]] = field(default_factory=dict)
    people_by_role: dict[str, int] = field(default_factory=dict)
    coverage: dict[str, int] = field(default_factory=dict)  # committee role -> people in it
    coverage_ratio: float = 0.0
    engagement: list[tuple[str, int]] = field(default_factory=list)  # week start -> events


def list_accounts(
    session: Session, workspace_id: uuid.UUID, *, name: str | None, page: PageQuery
) -> tuple[int, list[AccountRow]]:
    """A page of accounts (all, or by name as typed) with each one's people count."""
    if name and name.strip():
        total, found = directory.find_accounts(
            session, workspace_id, domain=None, name=name, limit=page.limit, offset=page.offset
        )
    else:
        scoped = scope.accounts(workspace_id)
        total = count(session, scoped)
        found = list(session.scalars(page.apply(scoped.order_by(Account.id))))
    people = {
        account_id: (int(n), seen)
        for account_id, n, seen in session.execute(
            select(PersonAccount.account_id, func.count(), func.max(PersonAccount.last_seen_at))
            .join(Person, Person.id == PersonAccount.person_id)
            .where(PersonAccount.account_id.in_([a.id for a in found]), live())
            .group_by(PersonAccount.account_id)
        )
    }
    return int(total), [_row(a, *people.get(a.id, (0, None))) for a in found]


def _row(account: Account, people: int, last_seen_at: datetime | None) -> AccountRow:
    return AccountRow(
        id=account.id,
        name=account.name,
        domain=account.domain,
        industry=account.industry,
        people=people,
        last_seen_at=last_seen_at,
    )


def accounts_of(
    session: Session, workspace_id: uuid.UUID, person_id: int
) -> list[PersonAccountLink]:
    """The accounts the person works at, primary first, with role and title."""
    rows = session.execute(
        select(
            PersonAccount.account_id,
            Account.name,
            PersonAccount.role,
            PersonAccount.title,
            PersonAccount.is_primary,
            PersonAccount.source,
        )
        .join(Account, Account.id == PersonAccount.account_id)
        .where(owned(PersonAccount, workspace_id), PersonAccount.person_id == person_id)
        .order_by(PersonAccount.is_primary.desc(), PersonAccount.id)
    )
    return [
        PersonAccountLink(
            account_id=account_id,
            name=name,
            role=role,
            title=title,
            is_primary=is_primary,
            source=source,
        )
        for account_id, name, role, title, is_primary, source in rows
    ]


def overview(
    session: Session, workspace_id: uuid.UUID, account_id: int, today: date
) -> AccountOverview:
    """The account with its people grouped by role (the first ``ROLE_PAGE`` of each), committee
    coverage and weekly engagement, each counted in the database."""
    account = directory.get_account(session, workspace_id, account_id)
    result = AccountOverview(account=account)
    result.people_by_role = role_counts(session, workspace_id, account_id)
    for link in first_of_each_role(session, workspace_id, account_id, ROLE_PAGE):
        result.links_by_role.setdefault(link.role or "other", []).append(link)
    result.coverage = {role: result.people_by_role.get(role, 0) for role in COMMITTEE}
    covered = sum(1 for n in result.coverage.values() if n)
    result.coverage_ratio = round(covered / len(COMMITTEE), 4)
    result.engagement = engagement(session, workspace_id, account_id, today)
    return result


def _role() -> Any:
    return func.coalesce(PersonAccount.role, "other")


def role_counts(session: Session, workspace_id: uuid.UUID, account_id: int) -> dict[str, int]:
    """How many live people the account has in each decision-chain role."""
    role = _role()
    return {
        str(name): int(n)
        for name, n in session.execute(
            scope.live_links(workspace_id, role, func.count())
            .where(PersonAccount.account_id == account_id)
            .group_by(role)
        )
    }


def first_of_each_role(
    session: Session, workspace_id: uuid.UUID, account_id: int, per_role: int
) -> list[PersonAccount]:
    """The first ``per_role`` live links of each role (primary links first, then by person), in
    one read of the account's links."""
    rank = (
        func.row_number()
        .over(
            partition_by=_role(),
            order_by=(PersonAccount.is_primary.desc(), PersonAccount.person_id),
        )
        .label("rank")
    )
    ranked = (
        scope.live_links(workspace_id, PersonAccount.id, rank)
        .where(PersonAccount.account_id == account_id)
        .subquery()
    )
    wanted = select(ranked.c.id).where(ranked.c.rank <= per_role)
    return list(
        session.scalars(
            select(PersonAccount)
            .where(PersonAccount.id.in_(wanted))
            .order_by(PersonAccount.is_primary.desc(), PersonAccount.person_id)
        )
    )


def engagement(
    session: Session, workspace_id: uuid.UUID, account_id: int, today: date
) -> list[tuple[str, int]]:
    """Events of the account's live people per week over the last ``ENGAGEMENT_WEEKS`` weeks,
    oldest first: counted per day in the database (the people's timeline index), summed here."""
    monday = today - timedelta(days=today.weekday())
    first = monday - timedelta(weeks=ENGAGEMENT_WEEKS - 1)
    weeks = [first + timedelta(weeks=i) for i in range(ENGAGEMENT_WEEKS)]
    counts = dict.fromkeys(weeks, 0)
    people = scope.live_links(workspace_id, PersonAccount.person_id).where(
        PersonAccount.account_id == account_id
    )
    day = func.date(Event.timestamp)
    # Scoped through the links (a person's events are in the person's workspace): with the
    # workspace on the event too, SQLite without statistics read the workspace's whole log by
    # the (workspace, event, timestamp) index instead of each person's timeline.
    for on, n in session.execute(
        select(day, func.count())
        .where(
            Event.person_id.in_(people),
            Event.timestamp >= datetime.combine(first, datetime.min.time()),
        )
        .group_by(day)
    ):
        stamp = on if isinstance(on, date) else date.fromisoformat(str(on))
        week = stamp - timedelta(days=stamp.weekday())
        if week in counts:
            counts[week] += int(n)
    return [(week.isoformat(), n) for week, n in counts.items()]
