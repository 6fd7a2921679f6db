"""What the content API reads and answers."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from leadpond.acquisition.schemas import LinkParts, Name
from leadpond.kit.schemas import UtcDatetime


class ContentFields(BaseModel):
    """What an editor may set (all optional on update)."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(default=None, min_length=1, max_length=300)
    summary: str | None = Field(default=None, max_length=2000)
    body: str | None = Field(default=None, max_length=500_000)
    body_format: Literal["markdown", "html"] | None = None
    format: Literal["article", "file", "video"] | None = None
    video_url: str | None = Field(default=None, min_length=1, max_length=2048)
    type: str | None = Field(default=None, min_length=1, max_length=64)
    author: str | None = Field(default=None, max_length=128)
    language: Literal["zh", "en"] | None = None
    status: Literal["draft", "published", "archived"] | None = None
    gate_form: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="the key of the form a reader fills in before the download",
    )
    stages: list[str] | None = Field(default=None, max_length=20)
    topics: list[str] | None = Field(default=None, max_length=30)
    products: list[str] | None = Field(default=None, max_length=30)
    industries: list[str] | None = Field(default=None, max_length=30)


class ContentCreate(ContentFields):
    title: str = Field(min_length=1, max_length=300)
    type: str = Field(min_length=1, max_length=64)
    format: Literal["article", "file", "video"] = "article"
    key: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        pattern=r"^[a-z0-9][a-z0-9_-]*$",
        description="what events carry as content_id (made up when left out)",
    )


class ContentUpdate(ContentFields):
    pass


class ContentItemRead(BaseModel):
    id: int
    key: str
    title: str
    summary: str
    body: str
    body_format: str
    format: str
    video_url: str | None
    category: str
    type: str
    author: str
    language: str
    status: str
    gate_form: str | None
    stages: list[str]
    topics: list[str]
    products: list[str]
    industries: list[str]
    file_name: str | None
    file_type: str | None
    file_size: int | None
    viewer_url: str = Field(description="the public H5 page (/c/<code>)")
    published_at: UtcDatetime | None
    created_at: UtcDatetime
    updated_at: UtcDatetime


class CoverageCell(BaseModel):
    stage: str
    type: str
    items: int


class Coverage(BaseModel):
    """Published items per stage × type: the empty cells are where content is missing."""

    stages: list[str]
    types: list[str]
    cells: list[CoverageCell]
    missing: int = Field(description="cells without a published item")


class ContentLinkCreate(LinkParts):
    channel: str = Name


class ContentLinksCreate(LinkParts):
    channels: list[str] = Field(min_length=1, max_length=500)


class CountBy(BaseModel):
    key: str
    views: int
    readers: int


class ReaderRead(BaseModel):
    person_id: int
    name: str | None
    stage: str | None
    account: str | None
    channel: str | None
    first_viewed_at: UtcDatetime
    views: int
    interest: Literal["new", "known"] | None = Field(
        description="was the item's topic among the reader's interest tags before they read it"
    )


class ContentStats(BaseModel):
    key: str
    views: int
    readers: int
    anonymous_views: int
    read_seconds_avg: float | None
    scroll_depth_avg: float | None
    downloads: int
    by_channel: list[CountBy]
    by_link: list[CountBy]
    by_persona: list[CountBy]
    by_stage: list[CountBy]
    by_account: list[CountBy]
    by_industry: list[CountBy]
    new_interest: int
    known_interest: int
    readers_list: list[ReaderRead]


class AuthorRank(BaseModel):
    author: str
    items: int
    views: int
    readers: int
    downloads: int
    read_seconds_avg: float | None


class ReasonRead(BaseModel):
    code: Literal["stage", "next_stage", "interest", "industry"]
    value: str
    text: str


class Recommendation(BaseModel):
    id: int
    key: str
    title: str
    type: str
    viewer_url: str
    score: float
    reasons: list[ReasonRead]


class Recommendations(BaseModel):
    stage: str | None
    interests: list[str]
    industries: list[str]
    items: list[Recommendation]


class AuthorList(BaseModel):
    items: list[AuthorRank]


class UploadRead(BaseModel):
    file_name: str
    file_type: str
    file_size: int
