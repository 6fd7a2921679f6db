"""What the rules API answers with."""

from pydantic import BaseModel, Field

from leadpond.kit.schemas import UtcDatetime


class TagRead(BaseModel):
    tag: str
    category: str | None
    source: str = Field(description="rule or manual")
    rule_id: str | None
    event_id: int | None
    actor: str
    added_at: UtcDatetime


class TagList(BaseModel):
    person_id: int
    items: list[TagRead]


class TagBody(BaseModel):
    tag: str = Field(min_length=1, max_length=200)


class LedgerEntry(BaseModel):
    rule_id: str
    event_id: int | None
    points: float
    worth_now: float = Field(description="The points after decay (equal to points without it)")
    reason: str
    at: UtcDatetime


class ScoreRead(BaseModel):
    model: str
    points: float = Field(description="The value now: the sum of worth_now over the ledger")
    grade: str | None
    as_of: UtcDatetime | None
    ledger: list[LedgerEntry]


class ScoreList(BaseModel):
    person_id: int
    items: list[ScoreRead]


class StageChangeRead(BaseModel):
    from_stage: str | None
    to_stage: str
    rule_id: str | None
    event_id: int | None
    reason: str
    at: UtcDatetime


class StageRead(BaseModel):
    person_id: int
    stage: str | None
    name: str | None
    phase: str | None
    entered_at: UtcDatetime | None
    history: list[StageChangeRead]


class PersonaRead(BaseModel):
    key: str
    name: str | None


class PersonaList(BaseModel):
    person_id: int
    items: list[PersonaRead]


class AccountScoresRead(BaseModel):
    account_id: int
    people: int
    scores: dict[str, float]
