"""What the cross-domain reads answer beyond their read models (see ``reports.api``)."""

from pydantic import BaseModel

from leadpond.reports.directory import PersonRow


class AccountOverviewRead(BaseModel):
    """One account: its people by decision-chain role, committee coverage, weekly engagement."""

    id: int
    name: str
    domain: str | None
    industry: str | None
    # The first people of each role (``accounts.overview.ROLE_PAGE``); role_counts has them all.
    people_by_role: dict[str, list[PersonRow]]
    role_counts: dict[str, int]
    coverage: dict[str, int]
    coverage_ratio: float
    engagement: list[tuple[str, int]]
