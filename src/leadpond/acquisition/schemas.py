"""What the links API reads and answers."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator

from leadpond.acquisition.models import TrackingLink
from leadpond.acquisition.service import NewLink, qr_url, short_url

Name = Field(min_length=1, max_length=64, pattern=r"^[^\s/?#&]+(?: [^\s/?#&]+)*$")


class LinkParts(BaseModel):
    """Where a link's clicks come from: channel (e.g. wechat-group-3, poster, email), and the
    UTM source / medium (default: the channel / ``link``), campaign and content."""

    model_config = ConfigDict(extra="forbid")

    source: str | None = Field(default=None, min_length=1, max_length=128)
    medium: str | None = Field(default=None, min_length=1, max_length=128)
    campaign: str | None = Field(default=None, min_length=1, max_length=128)
    content: str | None = Field(default=None, min_length=1, max_length=128)


class Destination(LinkParts):
    """A link goes to a URL, or to a piece of the content pool (its H5 viewer, which then
    counts the view by channel and by link): one of the two."""

    url: str | None = Field(
        default=None, min_length=1, max_length=1800, description="the destination, http(s)"
    )
    content_id: int | None = Field(
        default=None, ge=1, le=2**63 - 1, description="a content item: the link opens its viewer"
    )

    @model_validator(mode="after")
    def _one_destination(self) -> "Destination":
        if (self.url is None) == (self.content_id is None):
            raise ValueError("give either url or content_id")
        return self

    def parts(self) -> dict[str, str | None]:
        return {
            "source": self.source,
            "medium": self.medium,
            "campaign": self.campaign,
            "content": self.content,
        }


class LinkCreate(Destination):
    channel: str = Name

    def new_link(self) -> NewLink:
        return NewLink(
            self.url or "", self.channel, self.source, self.medium, self.campaign, self.content
        )


class LinksCreate(Destination):
    """One link per channel for one destination (S2: a link and QR per community group)."""

    channels: list[str] = Field(min_length=1, max_length=500)

    def new_links(self) -> list[NewLink]:
        return [
            NewLink(self.url or "", c, self.source, self.medium, self.campaign, self.content)
            for c in self.channels
        ]


class LinkRead(BaseModel):
    code: str
    token: str = Field(description="the link's code, as the public URL /l/<token> carries it")
    url: str = Field(description="the short public URL (/l/<code>)")
    target: str = Field(description="where a click goes, UTM parameters included")
    channel: str
    source: str
    medium: str
    campaign: str | None
    content: str | None
    qr_png_url: str
    qr_svg_url: str
    qr_content: str = Field(description="what the QR code encodes (a scan is told from a click)")
    clicks: int = Field(description="clicks by people (bots apart)")
    scans: int = Field(description="QR code scans by people")
    visitors: int = Field(description="distinct browsers that clicked or scanned")
    bot_hits: int = Field(description="hits by link checkers and crawlers, not counted above")
    created_by: str
    created_at: datetime

    @classmethod
    def build(cls, link: TrackingLink, api_base: str = "/api/v1") -> "LinkRead":
        return cls(
            code=link.code,
            token=link.code,
            url=short_url(link.code),
            target=link.target,
            channel=link.channel,
            source=link.source,
            medium=link.medium,
            campaign=link.campaign,
            content=link.content,
            qr_png_url=f"{api_base}/links/{link.code}/qr.png",
            qr_svg_url=f"{api_base}/links/{link.code}/qr.svg",
            qr_content=qr_url(link.code),
            clicks=link.clicks,
            scans=link.scans,
            visitors=link.visitors,
            bot_hits=link.bot_hits,
            created_by=link.created_by,
            created_at=link.created_at,
        )


class LinkList(BaseModel):
    items: list[LinkRead]
