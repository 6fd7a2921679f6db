"""What the WeChat QR code and WeCom contact way APIs read and answer."""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from leadpond.acquisition.models import WeChatQrCode, WeComContactWay
from leadpond.acquisition.schemas import Name
from leadpond.acquisition.wechat_codes import MAX_EXPIRE_S, NewQrCode, image_url
from leadpond.acquisition.wecom_ways import STATE_MAX, NewContactWay

# A WeCom member's userid.
MemberId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.@\-]+$")]


class QrCodeCreate(BaseModel):
    """A parameterised QR code of the official account for one channel (and campaign):
    temporary (``expire_seconds``, 60 s to 30 days, 30 days by default) or permanent."""

    model_config = ConfigDict(extra="forbid")

    channel: str = Name
    campaign: str | None = Field(default=None, min_length=1, max_length=128)
    permanent: bool = False
    expire_seconds: int | None = Field(default=None, ge=60, le=MAX_EXPIRE_S)

    def new_code(self) -> NewQrCode:
        return NewQrCode(self.channel, self.campaign, self.permanent, self.expire_seconds)


class QrCodeRead(BaseModel):
    id: int
    scene: str
    channel: str
    campaign: str | None
    permanent: bool
    ticket: str
    url: str = Field(description="what the QR code encodes")
    image_url: str = Field(description="WeChat's image of the code (showqrcode)")
    qr_png_url: str = Field(description="a PNG of the code made here (segno)")
    expires_at: datetime | None
    scans: int
    follows: int
    created_by: str
    created_at: datetime

    @classmethod
    def build(cls, code: WeChatQrCode) -> "QrCodeRead":
        return cls(
            id=code.id,
            scene=code.scene,
            channel=code.channel,
            campaign=code.campaign,
            permanent=code.permanent,
            ticket=code.ticket,
            url=code.url,
            image_url=image_url(code.ticket),
            qr_png_url=f"/api/v1/wechat/qrcodes/{code.id}/qr.png",
            expires_at=code.expires_at,
            scans=code.scans,
            follows=code.follows,
            created_by=code.created_by,
            created_at=code.created_at,
        )


class QrCodeList(BaseModel):
    items: list[QrCodeRead]
    permanent_used: int
    permanent_limit: int


class ContactWayCreate(BaseModel):
    """A WeCom contact-me code for one channel: the members a customer adds through it, and
    the ``state`` that names the channel in WeCom's callback (random when not given)."""

    model_config = ConfigDict(extra="forbid")

    channel: str = Name
    user_ids: list[MemberId] = Field(min_length=1, max_length=100)
    state: str | None = Field(
        default=None, min_length=1, max_length=STATE_MAX, pattern=r"^[A-Za-z0-9_.\-]+$"
    )
    campaign: str | None = Field(default=None, min_length=1, max_length=128)
    remark: str | None = Field(default=None, min_length=1, max_length=30)

    def new_way(self) -> NewContactWay:
        users = [u.strip() for u in self.user_ids]
        return NewContactWay(self.channel, users, self.state, self.campaign, self.remark)


class ContactWayRead(BaseModel):
    id: int
    state: str
    channel: str
    campaign: str | None
    user_ids: list[str]
    config_id: str
    qr_code: str = Field(description="WeCom's image of the code")
    adds: int
    created_by: str
    created_at: datetime

    @classmethod
    def build(cls, way: WeComContactWay) -> "ContactWayRead":
        return cls(
            id=way.id,
            state=way.state,
            channel=way.channel,
            campaign=way.campaign,
            user_ids=list(way.user_ids or []),
            config_id=way.config_id,
            qr_code=way.qr_code,
            adds=way.adds,
            created_by=way.created_by,
            created_at=way.created_at,
        )


class ContactWayList(BaseModel):
    items: list[ContactWayRead]
