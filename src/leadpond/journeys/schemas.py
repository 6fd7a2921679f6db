"""What the journeys API reads and answers."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class EnrollRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    person_id: int = Field(ge=1, le=2**63 - 1)


class StepRead(BaseModel):
    id: str
    kind: str
    next: str | None
    names: dict[str, str] = Field(
        default_factory=dict,
        description="the step's display names by language (zh, en; '' for every language)",
    )


class JourneyRead(BaseModel):
    key: str
    name: str
    trigger: str
    trigger_events: list[str]
    trigger_value: str | None
    reentry: str
    steps: list[StepRead]


class JourneySummary(JourneyRead):
    enrollments: dict[str, int] = Field(description="enrollments by state")


class JourneyList(BaseModel):
    version: int | None = Field(description="the playbook version the journeys are from")
    items: list[JourneySummary]


class MessageFate(BaseModel):
    status: str
    reason: str | None
    channel: str


class StepLogRead(BaseModel):
    step: str
    kind: str
    at: datetime
    detail: dict[str, Any]
    message_id: int | None
    message: MessageFate | None


class EnrollmentRead(BaseModel):
    id: int
    journey: str
    version: int
    state: str
    step: str | None
    due_at: datetime
    variant: str | None
    reason: str
    entered_at: datetime
    ended_at: datetime | None
    steps: list[StepLogRead]


class PersonJourneys(BaseModel):
    person_id: int
    items: list[EnrollmentRead]


class NotEnrolled(JourneyRead):
    entry_condition_holds_now: bool | None


class Explained(BaseModel):
    person_id: int
    enrolled: bool
    journey: NotEnrolled | None = Field(
        default=None, description="when never enrolled: the trigger and the entry condition now"
    )
    items: list[EnrollmentRead]


class EnrollmentBrief(BaseModel):
    id: int
    state: str
    step: str | None
    due_at: datetime
    variant: str | None


class EnrollAnswer(BaseModel):
    enrolled: bool
    reentry_refused: int
    not_eligible: int
    over_limit: int = Field(default=0, description="kept out by the journey's limits.total")
    enrollment: EnrollmentBrief | None


class DryRunRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    since: datetime = Field(description="replay the history from here (UTC)")
    until: datetime = Field(description="up to here; steps due by then run")


class DryRunStep(BaseModel):
    step: str
    kind: str
    at: datetime
    arm: str | None = None


class DryRunPerson(BaseModel):
    person_id: int
    state: str
    path: list[DryRunStep]


class DryRunAnswer(BaseModel):
    """What the journey would have done: nothing of it was kept or sent."""

    journey: str
    version: int
    since: datetime
    until: datetime
    triggered: int
    enrolled: int
    reentry_refused: int
    not_eligible: int
    stale: int
    over_limit: int = Field(default=0, description="kept out by the journey's limits.total")
    steps: dict[str, int] = Field(description="step (→ arm) → how many ran it")
    states: dict[str, int] = Field(description="where the enrollments are at `until`")
    messages: dict[str, int] = Field(description="'channel template' → messages")
    people: list[DryRunPerson] = Field(description="the first people's paths")


class StepReport(BaseModel):
    id: str
    kind: str
    names: dict[str, str] = Field(
        default_factory=dict, description="display names by language ('' for every language)"
    )
    ran: int = Field(description="enrollments that ran the step")
    waiting: int = Field(description="enrollments waiting at it now")
    messages: dict[str, int] | None = Field(
        default=None,
        description="a send step's messages: by status, and opened / clicked / "
        "unsubscribed by people (link scanners' opens and clicks are left out)",
    )


class VariantReport(BaseModel):
    variant: str
    people: int
    messages: int
    opened: int
    clicked: int
    goal: int = Field(description="people who reached the journey's goal")
    open_rate: float | None
    click_rate: float | None
    goal_rate: float | None
    click_p_value: float | None = Field(
        default=None, description="two-sided p-value of the click rates against the first variant"
    )
    goal_p_value: float | None = Field(
        default=None, description="two-sided p-value of the goal rates against the first variant"
    )


class WinnerRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    split: str = Field(min_length=1, max_length=64, description="the split step's id")
    variant: str = Field(min_length=1, max_length=64)


class WinnerChosen(BaseModel):
    split_step: str
    version: int
    variant: str
    by: str = Field(description="clicks / opens / goal (decided by the rates), or hand")
    decided_by: str
    decided_at: datetime


class WinnerRead(BaseModel):
    split: str
    version: int
    variant: str
    by: str
    decided_by: str
    decided_at: datetime


class JourneyReport(BaseModel):
    key: str
    name: str
    entered: int
    states: dict[str, int]
    steps: list[StepReport]
    variants: list[VariantReport]
    winners: list[WinnerRead] = Field(description="the A/B tests' chosen variants")


class MigrateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    from_version: int = Field(ge=1, le=2**31 - 1, description="the playbook version to move from")


class MigrationRefused(BaseModel):
    enrollment_id: int
    person_id: int
    step: str = Field(description="the step the current version no longer has")


class MigrationAnswer(BaseModel):
    journey: str
    from_version: int
    to_version: int
    moved: int = Field(description="enrollments moved to the current version")
    refused: list[MigrationRefused]
