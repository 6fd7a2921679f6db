"""The account page: its people by decision-chain role, committee coverage, engagement by week."""

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from leadpond.accounts import directory
from leadpond.accounts.models import Account, PersonAccount
from leadpond.console.directory import PersonRow, describe
from leadpond.ingest.models import Event
from leadpond.normalise.roles import ROLES
from leadpond.profiles.models import Person

# The buying committee a B2B deal needs covered: every role but the catch-all.
COMMITTEE = tuple(role for role in ROLES if role != "other")
ENGAGEMENT_WEEKS = 26


@dataclass
class AccountOverview:
    account: Account
    people_by_role: dict[str, list[PersonRow]] = field(default_factory=dict)
    coverage: dict[str, int] = field(default_factory=dict)  # committee role -> people in it
    coverage_ratio: float = 0.0
    engagement: list[tuple[str, int]] = field(default_factory=list)  # week start -> events


@dataclass
class AccountRow:
    id: int
    name: str
    domain: str | None
    industry: str | None
    people: int
    last_seen_at: datetime | None


def list_accounts(
    session: Session,
    workspace_id: uuid.UUID,
    *,
    name: str | None,
    limit: int,
    offset: int,
) -> tuple[int, list[AccountRow]]:
    """A page of accounts (all, or by name as typed) with each one's people count."""
    if name and name.strip():
        total, found = directory.find_accounts(
            session, workspace_id, domain=None, name=name, limit=limit, offset=offset
        )
    else:
        scoped = directory.accounts(workspace_id)
        total = session.scalar(select(func.count()).select_from(scoped.subquery())) or 0
        found = list(session.scalars(scoped.order_by(Account.id).limit(limit).offset(offset)))
    counts = {
        account_id: (int(n), seen)
        for account_id, n, seen in session.execute(
            select(PersonAccount.account_id, func.count(), func.max(PersonAccount.last_seen_at))
            .join(Person, Person.id == PersonAccount.person_id)
            .where(
                PersonAccount.account_id.in_([a.id for a in found]),
                Person.merged_into_id.is_(None),
            )
            .group_by(PersonAccount.account_id)
        )
    }
    return int(total), [
        AccountRow(a.id, a.name, a.domain, a.industry, *counts.get(a.id, (0, None))) for a in found
    ]


def overview(
    session: Session, workspace_id: uuid.UUID, account_id: int, today: date
) -> AccountOverview:
    """The account with its people grouped by role, committee coverage and weekly engagement."""
    account = directory.get_account(session, workspace_id, account_id)
    links = directory.people_of(session, workspace_id, account_id)
    found = list(
        session.scalars(select(Person).where(Person.id.in_([link.person_id for link in links])))
    )
    rows = {row.id: row for row in describe(session, workspace_id, found)}
    result = AccountOverview(account=account)
    for link in links:
        row = rows.get(link.person_id)
        if row is not None:
            row.role, row.title = link.role, link.title or row.title
            result.people_by_role.setdefault(link.role or "other", []).append(row)
    result.coverage = {role: len(result.people_by_role.get(role, [])) for role in COMMITTEE}
    covered = sum(1 for n in result.coverage.values() if n)
    result.coverage_ratio = round(covered / len(COMMITTEE), 4)
    result.engagement = engagement(session, workspace_id, list(rows), today)
    return result


def engagement(
    session: Session, workspace_id: uuid.UUID, person_ids: list[int], today: date
) -> list[tuple[str, int]]:
    """Events of these people per week over the last ``ENGAGEMENT_WEEKS`` weeks, oldest first."""
    monday = today - timedelta(days=today.weekday())
    first = monday - timedelta(weeks=ENGAGEMENT_WEEKS - 1)
    weeks = [first + timedelta(weeks=i) for i in range(ENGAGEMENT_WEEKS)]
    counts = dict.fromkeys(weeks, 0)
    if person_ids:
        for (stamp,) in session.execute(
            select(Event.timestamp).where(
                Event.workspace_id == workspace_id,
                Event.person_id.in_(person_ids),
                Event.timestamp >= datetime.combine(first, datetime.min.time()),
            )
        ):
            day = stamp.date()
            week = day - timedelta(days=day.weekday())
            if week in counts:
                counts[week] += 1
    return [(week.isoformat(), n) for week, n in counts.items()]
