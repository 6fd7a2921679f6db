"""What the cross-domain reads answer beyond their read models (see ``reports.api``)."""

from pydantic import BaseModel

from leadpond.reports.directory import PersonRow


class AccountOverviewRead(BaseModel):
    """One account: its people by decision-chain role, committee coverage, weekly engagement."""

    id: int
    name: str
    domain: str | None
    industry: str | None
    people_by_role: dict[str, list[PersonRow]]
    coverage: dict[str, int]
    coverage_ratio: float
    engagement: list[tuple[str, int]]
