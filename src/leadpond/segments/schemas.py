"""What the segments API reads and answers."""

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from leadpond.kit.schemas import UtcDatetime
from leadpond.segments.models import Segment

Key = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")]
ConditionInput = Annotated[
    str | dict[str, Any],
    Field(description="A condition in the leadpond condition language, as YAML text or JSON"),
]
Level = Literal["person", "account"]
AccountMatch = Literal["any", "all", "none"]
PersonId = Annotated[int, Field(ge=1, le=2**63 - 1)]


class SegmentCreate(BaseModel):
    key: Key
    name: str | None = Field(default=None, max_length=200)
    kind: Literal["dynamic", "static"] = "dynamic"
    level: Level = "person"
    account_match: AccountMatch | None = Field(
        default=None, description="Account segments: accounts whose people match any/all/none"
    )
    condition: ConditionInput | None = None
    people: list[PersonId] = Field(default_factory=list, description="Static: the first members")


class SegmentUpdate(BaseModel):
    name: str | None = Field(default=None, max_length=200)
    condition: ConditionInput | None = None
    account_match: AccountMatch | None = None


class SegmentRead(BaseModel):
    id: int
    key: str
    name: str | None
    kind: str
    level: str
    account_match: str | None
    condition: str | None
    origin: str
    count: int
    last_built_at: UtcDatetime | None
    last_build_seconds: float | None
    created_at: UtcDatetime
    updated_at: UtcDatetime

    @classmethod
    def build(cls, segment: Segment) -> "SegmentRead":
        return cls(
            id=segment.id,
            key=segment.key,
            name=segment.name,
            kind=segment.kind,
            level=segment.level,
            account_match=segment.account_match,
            condition=segment.condition_source,
            origin=segment.origin,
            count=segment.member_count,
            last_built_at=segment.last_built_at,
            last_build_seconds=segment.last_build_seconds,
            created_at=segment.created_at,
            updated_at=segment.updated_at,
        )


class PreviewRequest(BaseModel):
    condition: ConditionInput
    level: Level = "person"
    account_match: AccountMatch | None = None


class MemberRead(BaseModel):
    """A person (or an account) in a segment, with the columns a list shows."""

    id: int
    since: UtcDatetime | None = None
    name: str | None = None
    email: str | None = None
    company: str | None = None
    title: str | None = None
    domain: str | None = None
    industry: str | None = None
    suppressed: str | None = Field(
        default=None, description="'unsubscribed' or 'do_not_contact' when the person opted out"
    )


class PreviewResponse(BaseModel):
    count: int
    sample: list[MemberRead]
    seconds: float


class StaticChange(BaseModel):
    add: list[PersonId] = Field(default_factory=list, description="Person ids to add")
    remove: list[PersonId] = Field(default_factory=list, description="Person ids to remove")


class StaticChangeResult(BaseModel):
    added: int
    removed: int
    unknown: list[str] = Field(
        default_factory=list, description="Ids or file rows that matched no person"
    )


class SegmentChangeRead(BaseModel):
    member_id: int
    change: str
    reason: str
    at: UtcDatetime


class BuildRead(BaseModel):
    segment: str
    members: int
    entered: int
    exited: int
    seconds: float
