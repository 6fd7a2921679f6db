"""How a workspace sends on each channel: one settings schema per (channel, provider), frequency
caps and quiet hours, validated with the failing field named, and secrets never shown again."""

import uuid
from datetime import time
from email.utils import parseaddr
from typing import Any, ClassVar, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from leadpond.channels.models import Channel, ChannelSettings
from leadpond.kit.errors import InvalidInput, RefusedValue
from leadpond.kit.scope import owned

# What an API or CLI answer shows in place of a secret; sent back unchanged, it keeps the secret.
MASK = "••••"


class ProviderSettings(BaseModel):
    """A provider's settings; ``SECRETS`` name the fields never shown again."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    SECRETS: ClassVar[tuple[str, ...]] = ()


class SmtpSettings(ProviderSettings):
    SECRETS = ("dkim_private_key",)

    smtp_url: str = Field(description="smtp://user:pass@host:port (?starttls=1) or smtps://…")
    from_: str = Field(alias="from", description='the sender, e.g. "名字 <a@b.cn>"')
    reply_to: str | None = None
    return_path_domain: str | None = Field(
        default=None, description="VERP: bounces go to bounces+<message id>@this domain"
    )
    dkim_selector: str | None = None
    dkim_domain: str | None = None
    dkim_private_key: str | None = None
    pool_size: int = Field(default=4, ge=1, le=64)
    ad_prefix: Literal["", "AD", "广告"] = Field(
        default="", description="marketing subjects start with it (Chinese advertising rules)"
    )
    list_unsubscribe_mailto: str | None = None

    @field_validator("smtp_url")
    @classmethod
    def _smtp_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("must be smtp://host:port or smtps://user:pass@host:port")
        try:
            parts.port  # noqa: B018  (raises for a port that is not a number)
        except ValueError as exc:
            raise ValueError("the port must be a number") from exc
        return value

    @field_validator("from_", "reply_to")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        if value is not None and "@" not in parseaddr(value)[1]:
            raise ValueError('must be an address, e.g. "名字 <a@b.cn>" or a@b.cn')
        return value


class AliyunSmsSettings(ProviderSettings):
    SECRETS = ("access_key_secret",)

    access_key_id: str
    access_key_secret: str
    sign_name: str
    endpoint: str = "https://dysmsapi.aliyuncs.com"
    region_id: str = "cn-hangzhou"
    daily_limit_per_number: int = Field(default=10, ge=1)


class TencentSmsSettings(ProviderSettings):
    SECRETS = ("secret_key",)

    secret_id: str
    secret_key: str
    sdk_app_id: str
    sign_name: str
    region: str = "ap-guangzhou"
    endpoint: str = "https://sms.tencentcloudapi.com"
    daily_limit_per_number: int = Field(default=10, ge=1)


class WeComAppSettings(ProviderSettings):
    """The app's credentials; for contact-me codes (渠道活码) also the 客户联系 secret and what
    the app's callback (接收事件服务器) is checked with."""

    SECRETS = ("corp_secret", "contact_secret", "callback_token", "callback_aes_key")

    corp_id: str
    corp_secret: str
    agent_id: str
    endpoint: str = "https://qyapi.weixin.qq.com"
    contact_secret: str | None = Field(
        default=None, description="the 客户联系 secret (contact ways); else the app's secret"
    )
    callback_token: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9]{3,32}$",
        description="the callback's Token: 3-32 letters or digits",
    )
    callback_aes_key: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9+/]{43}$",
        description="the callback's EncodingAESKey (43 characters)",
    )


class WeComRobotSettings(ProviderSettings):
    # The robot's key is in the URL: whoever holds it may post to the group.
    SECRETS = ("webhook_url",)

    webhook_url: str

    @field_validator("webhook_url")
    @classmethod
    def _has_key(cls, value: str) -> str:
        if "key" not in dict(parse_qsl(urlsplit(value).query)):
            raise ValueError("must be the robot's URL with its key (…/webhook/send?key=KEY)")
        return value


class WeChatTemplateSettings(ProviderSettings):
    """The official account's API credentials, and what its server callback (服务器配置) is
    checked with: the Token signs every callback, the EncodingAESKey decrypts safe-mode ones."""

    SECRETS = ("app_secret", "server_token", "encoding_aes_key", "previous_encoding_aes_key")

    app_id: str
    app_secret: str
    endpoint: str = "https://api.weixin.qq.com"
    server_token: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9]{3,32}$",
        description="the Token (令牌) of the account's server settings: 3-32 letters or digits",
    )
    encoding_aes_key: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9+/]{43}$",
        description="the EncodingAESKey (消息加解密密钥, 43 characters) for safe-mode callbacks",
    )
    previous_encoding_aes_key: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9+/]{43}$",
        description="the key before the last change, still tried while WeChat switches over",
    )


class WebhookSettings(ProviderSettings):
    SECRETS = ("secret",)

    url: str
    secret: str = Field(min_length=16, description="the HMAC-SHA256 key receivers verify with")
    timeout_s: float = Field(default=10.0, gt=0, le=120)
    allow_private: bool = Field(
        default=False, description="allow loopback and private targets (off: the SSRF guard)"
    )

    @field_validator("url")
    @classmethod
    def _http(cls, value: str) -> str:
        if urlsplit(value).scheme not in ("http", "https") or not urlsplit(value).hostname:
            raise ValueError("must be an http:// or https:// URL")
        return value


SCHEMAS: dict[tuple[str, str], type[ProviderSettings]] = {
    (Channel.EMAIL, "smtp"): SmtpSettings,
    (Channel.SMS, "aliyun"): AliyunSmsSettings,
    (Channel.SMS, "tencent"): TencentSmsSettings,
    (Channel.WECOM, "app"): WeComAppSettings,
    (Channel.WECOM, "robot"): WeComRobotSettings,
    (Channel.WECHAT, "template"): WeChatTemplateSettings,
    (Channel.WEBHOOK, "http"): WebhookSettings,
}


class CapRule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max: int = Field(ge=1, description="at most this many marketing messages…")
    days: int = Field(ge=1, le=365, description="…in any window of this many days")


class Caps(BaseModel):
    """Frequency caps on marketing messages per person on this channel."""

    model_config = ConfigDict(extra="forbid")

    marketing: list[CapRule] = Field(default_factory=list)
    on_cap: Literal["wait", "drop"] = "wait"


class QuietHours(BaseModel):
    """No marketing message between ``start`` and ``end`` (local time; may wrap past midnight)."""

    model_config = ConfigDict(extra="forbid")

    start: time
    end: time
    time_zone: str = "Asia/Shanghai"
    on_quiet: Literal["wait", "drop"] = "wait"

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise RefusedValue("unknown time zone {value!r}", value=value) from exc
        return value

    def zone(self) -> ZoneInfo:
        """The time zone the window is in."""
        return ZoneInfo(self.time_zone)


def _validated(model: type[BaseModel], data: Any, prefix: str) -> BaseModel:
    """The model, or :class:`InvalidInput` naming the first failing field (``settings.from``)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        path = ".".join(str(p) for p in error["loc"]).replace("from_", "from")
        name = f"{prefix}.{path}" if path else prefix
        raise InvalidInput(f"{name}: {error['msg']}", field=name) from exc


def schema_of(channel: str, provider: str) -> type[ProviderSettings]:
    """The settings schema of a provider on a channel, or 400."""
    found = SCHEMAS.get((channel, provider))
    if found is None:
        known = ", ".join(sorted(p for c, p in SCHEMAS if c == channel)) or "none"
        refused = RefusedValue(
            "no provider {provider!r} for channel {channel!r} (known: {known})",
            provider=provider,
            channel=channel,
            known=known,
        )
        raise InvalidInput(refused, field="provider")
    return found


def parse_caps(data: dict[str, Any] | None) -> Caps:
    """Stored or submitted caps as :class:`Caps` (none when empty)."""
    return Caps() if not data else Caps.model_validate(data)


def parse_quiet_hours(data: dict[str, Any] | None) -> QuietHours | None:
    """Stored or submitted quiet hours (None when there are none)."""
    return None if not data else QuietHours.model_validate(data)


def get_channel(session: Session, workspace_id: uuid.UUID, channel: str) -> ChannelSettings | None:
    """The workspace's settings for a channel (None: not configured)."""
    return session.scalar(
        select(ChannelSettings).where(
            owned(ChannelSettings, workspace_id), ChannelSettings.channel == channel
        )
    )


def set_channel(
    session: Session,
    workspace_id: uuid.UUID,
    channel: str,
    provider: str,
    settings: dict[str, Any],
    caps: dict[str, Any] | None = None,
    quiet_hours: dict[str, Any] | None = None,
    enabled: bool = True,
) -> ChannelSettings:
    """Validate and store a channel's settings; a masked secret sent back keeps the stored one."""
    if channel not in {c.value for c in Channel}:
        raise InvalidInput(RefusedValue("no channel {channel!r}", channel=channel), field="channel")
    schema = schema_of(channel, provider)
    row = get_channel(session, workspace_id, channel)
    previous = row.settings if row is not None and row.provider == provider else {}
    merged = _unmask(schema, dict(settings), previous)
    checked = _validated(schema, merged, "settings")
    caps_doc = _validated(Caps, caps or {}, "caps").model_dump(mode="json")
    quiet_doc = {}
    if quiet_hours:
        quiet_doc = _validated(QuietHours, quiet_hours, "quiet_hours").model_dump(mode="json")
    document = checked.model_dump(mode="json", by_alias=True, exclude_none=True)
    if row is None:
        row = ChannelSettings(workspace_id=workspace_id, channel=channel)
        session.add(row)
    row.provider, row.settings, row.enabled = provider, document, enabled
    row.caps, row.quiet_hours = caps_doc, quiet_doc
    session.flush()
    return row


def _unmask(
    schema: type[ProviderSettings], settings: dict[str, Any], previous: dict[str, Any]
) -> dict[str, Any]:
    for name in schema.SECRETS:
        if settings.get(name) == MASK:
            settings[name] = previous.get(name)
    url = settings.get("smtp_url")
    if isinstance(url, str) and MASK in url and isinstance(previous.get("smtp_url"), str):
        settings["smtp_url"] = url.replace(MASK, urlsplit(previous["smtp_url"]).password or "")
    return settings


def masked(row: ChannelSettings) -> dict[str, Any]:
    """A channel's settings as the API and CLI show them: secrets replaced by ``••••``."""
    schema = SCHEMAS.get((row.channel, row.provider))
    shown = dict(row.settings)
    for name in schema.SECRETS if schema is not None else ():
        if shown.get(name):
            shown[name] = MASK
    url = shown.get("smtp_url")
    if isinstance(url, str):
        shown["smtp_url"] = _mask_url_password(url)
    return shown


def _mask_url_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    netloc = f"{parts.username}:{MASK}@{host}"
    query = urlencode(parse_qsl(parts.query))
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
