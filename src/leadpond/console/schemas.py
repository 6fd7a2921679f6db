"""What the console's REST API answers (the same read models the console pages show)."""

from datetime import date

from pydantic import BaseModel, Field

from leadpond.kit.schemas import UtcDatetime


class PersonRowRead(BaseModel):
    id: int
    name: str | None
    email: str | None
    phone: str | None
    company: str | None
    account_id: int | None
    title: str | None
    role: str | None
    stage: str | None
    tags: list[str]
    scores: dict[str, float]
    event_count: int
    first_seen_at: UtcDatetime | None
    last_seen_at: UtcDatetime | None


class PersonRowPage(BaseModel):
    total: int
    items: list[PersonRowRead]


class AccountRowRead(BaseModel):
    id: int
    name: str
    domain: str | None
    industry: str | None
    people: int
    last_seen_at: UtcDatetime | None


class AccountRowPage(BaseModel):
    total: int
    items: list[AccountRowRead]


class AccountOverviewRead(BaseModel):
    id: int
    name: str
    domain: str | None
    industry: str | None
    people_by_role: dict[str, list[PersonRowRead]]
    coverage: dict[str, int]
    coverage_ratio: float
    engagement: list[tuple[str, int]]


class FunnelStepRead(BaseModel):
    stage: str
    reached: int = Field(description="people who reached this stage or a later one in the range")
    current: int = Field(description="people at this stage now")
    conversion: float | None = Field(description="share of the previous step (at most 1)")
    detour: bool = Field(description="off the funnel's line (dormant, disqualified)")


class DashboardRead(BaseModel):
    start: date
    end: date
    people_total: int
    people_new: int
    events: int
    funnel: list[FunnelStepRead]
    new_people: dict[str, dict[str, int]]
    top_tags: list[tuple[str, int]]
    score_model: str | None
    score_models: list[str]
    score_histogram: list[tuple[str, int]]


class PersonAccountRead(BaseModel):
    account_id: int
    name: str
    role: str | None
    title: str | None
    is_primary: bool
    source: str


class PersonAccountPage(BaseModel):
    total: int
    items: list[PersonAccountRead]


class IdentifierSourceRead(BaseModel):
    type: str
    value: str
    first_seen_at: UtcDatetime
    source: str | None
    source_event_id: int | None


class IdentifierSourcePage(BaseModel):
    total: int
    items: list[IdentifierSourceRead]
