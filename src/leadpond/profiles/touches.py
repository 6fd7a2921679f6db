"""Channel attribution: the touch each event makes, the channel grouping, first and last touch.

A *touch* is how an event says the person reached us: (channel, source, medium, campaign,
content, at). It is read from the event alone, so any processing order gives the same answer:

- **marked**: the event carries campaign context (``context.campaign.source``, the UTM of a
  page, a tracking link, a WeChat QR scene, a WeCom contact way). Its channel is the
  ``properties.channel`` the link or QR code was made for, else the UTM source.
- **referred**: a page view without UTM whose referrer is another site (search engine, social
  site, any other: referral).
- **direct**: a page view with neither.
- **unmarked**: any other event (a server-side track, an import, a follower's message): it says
  only which ingestion path it came by.

First touch is the earliest marked, referred or direct touch (an unmarked one only when there
is none); last touch is the latest non-direct one (direct, then unmarked, only when there is
none). Ties at the same instant go by message id. Both are extremes of a total order,
so folding events, merging two people or rebuilding from history all agree.

The **grouping** puts a touch's source/medium/referrer into a channel group (搜索, 社交, 微信…):
ordered rules, the first that matches wins, configurable per workspace (``channel_grouping``).
"""

import fnmatch
import uuid
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import orjson
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from leadpond.kit.errors import InvalidInput
from leadpond.profiles.models import ChannelGrouping

MARKED, REFERRED, DIRECT, UNMARKED = "marked", "referred", "direct", "unmarked"
# Which touch wins: first touch takes the smallest (rank, at, id), last touch the greatest.
FIRST_RANK = {MARKED: 0, REFERRED: 0, DIRECT: 0, UNMARKED: 1}
LAST_RANK = {MARKED: 2, REFERRED: 2, DIRECT: 1, UNMARKED: 0}
DIRECT_GROUP, OTHER_GROUP = "direct", "other"
FIELD_MAX = 128


class ChannelGroup(BaseModel):
    """One group and what falls into it: globs (``*``, ``?``, case-insensitive) on the touch's
    source, medium and referrer host. Any one matching is enough."""

    model_config = ConfigDict(extra="forbid")

    key: str = Field(min_length=1, max_length=32, pattern=r"^[a-z][a-z0-9_]*$")
    zh: str = Field(min_length=1, max_length=32)
    en: str = Field(min_length=1, max_length=32)
    sources: list[str] = Field(default_factory=list, max_length=200)
    mediums: list[str] = Field(default_factory=list, max_length=200)
    referrers: list[str] = Field(default_factory=list, max_length=200)


def _group(key: str, zh: str, en: str, **globs: list[str]) -> ChannelGroup:
    return ChannelGroup(key=key, zh=zh, en=en, **globs)


# Order matters (as GA4's default grouping): paid before anything, social before search
# (zhihu/organic is social), a WeChat link is WeChat.
DEFAULT_GROUPS: tuple[ChannelGroup, ...] = (
    _group(
        "paid",
        "付费",
        "Paid",
        mediums=[
            "cpc",
            "ppc",
            "cpm",
            "cpv",
            "cpa",
            "sem",
            "paid*",
            "display",
            "banner",
            "ad",
            "ads",
        ],
    ),
    _group(
        "wechat",
        "微信",
        "WeChat",
        sources=[
            "wechat*",
            "weixin*",
            "wx",
            "wecom*",
            "wework*",
            "公众号*",
            "企业微信*",
            "视频号*",
        ],
        mediums=["wechat*", "wecom*", "contact_way"],
        referrers=["weixin.qq.com", "*.weixin.qq.com", "work.weixin.qq.com"],
    ),
    _group(
        "email",
        "邮件",
        "Email",
        sources=["email*", "edm*", "newsletter*", "mail"],
        mediums=["email", "e-mail", "edm", "newsletter"],
        referrers=["mail.*", "*.mail.*"],
    ),
    _group("sms", "短信", "SMS", sources=["sms"], mediums=["sms", "text"]),
    _group(
        "event",
        "活动",
        "Events",
        sources=["event*", "conference*", "booth*", "salon*", "webinar*", "expo*", "offline*"],
        mediums=["event", "offline", "conference", "booth", "salon", "webinar", "expo", "poster"],
    ),
    _group(
        "social",
        "社交",
        "Social",
        sources=[
            "zhihu",
            "weibo",
            "douyin",
            "xiaohongshu",
            "bilibili",
            "toutiao",
            "linkedin",
            "twitter",
            "x",
            "facebook",
            "community*",
            "group*",
        ],
        mediums=["social*", "sns", "community"],
        referrers=[
            "*.zhihu.com",
            "zhihu.com",
            "*.weibo.com",
            "weibo.com",
            "*.weibo.cn",
            "*.douyin.com",
            "*.xiaohongshu.com",
            "*.bilibili.com",
            "*.toutiao.com",
            "*.linkedin.com",
            "linkedin.com",
            "t.co",
            "*.twitter.com",
            "x.com",
            "*.facebook.com",
        ],
    ),
    _group(
        "search",
        "搜索",
        "Search",
        sources=[
            "baidu",
            "google",
            "bing",
            "sogou",
            "so",
            "360",
            "shenma",
            "sm",
            "yahoo",
            "yandex",
        ],
        mediums=["organic", "seo", "search"],
        referrers=[
            "*.baidu.com",
            "baidu.com",
            "*.google.*",
            "google.*",
            "*.bing.com",
            "bing.com",
            "*.sogou.com",
            "*.so.com",
            "so.com",
            "*.sm.cn",
            "*.yahoo.com",
            "*.yandex.*",
        ],
    ),
    _group("import", "导入", "Import", sources=["import", "crm*"]),
    _group("referral", "推荐", "Referral", mediums=["referral", "partner*"], referrers=["*"]),
)
# Touches no rule claims: a page with no source at all, and everything else.
BUILT_IN_GROUPS: tuple[ChannelGroup, ...] = (
    _group(DIRECT_GROUP, "直接", "Direct"),
    _group(OTHER_GROUP, "其他", "Other"),
)


class GroupingSettings(BaseModel):
    """A workspace's grouping: its own ordered groups replace the defaults."""

    model_config = ConfigDict(extra="forbid")

    groups: list[ChannelGroup] = Field(min_length=1, max_length=50)


@dataclass(frozen=True)
class Grouping:
    """Ordered groups, compiled: :meth:`group_of` names the first that matches."""

    groups: tuple[ChannelGroup, ...]

    def group_of(self, source: str, medium: str, referrer_host: str) -> str:
        """The key of the first group matching the source, medium or referrer host."""
        source, medium, host = source.lower(), medium.lower(), referrer_host.lower()
        for group in self.groups:
            if (
                (source and _any(source, group.sources))
                or (medium and _any(medium, group.mediums))
                or (host and _any(host, group.referrers))
            ):
                return group.key
        return OTHER_GROUP

    def labels(self, language: str) -> dict[str, str]:
        """Each group's label in ``zh`` or ``en`` (the built-in direct and other included)."""
        chinese = language.lower().startswith("zh")
        return {g.key: g.zh if chinese else g.en for g in (*self.groups, *BUILT_IN_GROUPS)}


def _any(value: str, globs: list[str]) -> bool:
    return any(fnmatch.fnmatchcase(value, glob.lower()) for glob in globs)


DEFAULT_GROUPING = Grouping(DEFAULT_GROUPS)


@lru_cache(maxsize=256)
def _compiled(raw: bytes) -> Grouping:
    return Grouping(tuple(GroupingSettings.model_validate_json(raw).groups))


def load_grouping(session: Session, workspace_id: uuid.UUID) -> Grouping:
    """The workspace's grouping (the default one unless it set its own)."""
    stored = session.get(ChannelGrouping, workspace_id)
    if stored is None or not stored.groups:
        return DEFAULT_GROUPING
    return _compiled(orjson.dumps({"groups": stored.groups}, option=orjson.OPT_SORT_KEYS))


def _text(value: object) -> str:
    return value.strip()[:FIELD_MAX] if isinstance(value, str) else ""


def _host(url: object) -> str:
    if not isinstance(url, str) or not url:
        return ""
    try:
        return (urlsplit(url.strip()).hostname or "").lower()
    except ValueError:
        return ""


def touch_of(
    event_type: str,
    payload: dict[str, Any],
    source: str,
    at: str,
    message_id: str,
    grouping: Grouping,
) -> dict[str, Any]:
    """The touch an event makes (a plain dict, as stored on the person)."""
    context = payload.get("context") if isinstance(payload.get("context"), dict) else {}
    assert isinstance(context, dict)
    properties = payload.get("properties") if isinstance(payload.get("properties"), dict) else {}
    assert isinstance(properties, dict)
    campaign = context.get("campaign") if isinstance(context.get("campaign"), dict) else {}
    assert isinstance(campaign, dict)
    page = context.get("page") if isinstance(context.get("page"), dict) else {}
    assert isinstance(page, dict)
    utm_source, medium = _text(campaign.get("source")), _text(campaign.get("medium"))
    referrer = page.get("referrer") or properties.get("referrer")
    host = _host(referrer)
    own = _host(page.get("url") or properties.get("url"))
    if host and host == own:
        host = ""  # a click inside the site is not how they came
    if utm_source:
        kind, channel = MARKED, _text(properties.get("channel")) or utm_source
        group = grouping.group_of(utm_source, medium, host)
    elif event_type == "page" and host:
        kind, channel, group = REFERRED, host[:FIELD_MAX], grouping.group_of("", medium, host)
    elif event_type == "page":
        kind, channel, group = DIRECT, DIRECT_GROUP, DIRECT_GROUP
    else:
        kind, channel, group = UNMARKED, source, grouping.group_of(source, "", "")
    return {
        "group": group,
        "channel": channel,
        "source": utm_source or (host if kind == REFERRED else source),
        "medium": medium or None,
        "campaign": _text(campaign.get("name")) or None,
        "content": _text(campaign.get("content")) or None,
        "at": at,
        "message_id": message_id,
        "kind": kind,
    }


def _first_key(touch: dict[str, Any]) -> tuple[int, str, str]:
    return (FIRST_RANK.get(touch.get("kind", ""), 1), str(touch["at"]), str(touch["message_id"]))


def _last_key(touch: dict[str, Any]) -> tuple[int, str, str]:
    return (LAST_RANK.get(touch.get("kind", ""), 0), str(touch["at"]), str(touch["message_id"]))


def first_of(current: dict[str, Any] | None, touch: dict[str, Any] | None) -> dict[str, Any] | None:
    """The first touch of the two (either may be missing)."""
    if current is None or touch is None:
        return current or touch
    return current if _first_key(current) <= _first_key(touch) else touch


def last_of(current: dict[str, Any] | None, touch: dict[str, Any] | None) -> dict[str, Any] | None:
    """The last touch of the two (either may be missing)."""
    if current is None or touch is None:
        return current or touch
    return current if _last_key(current) >= _last_key(touch) else touch


def save_grouping(
    session: Session, workspace_id: uuid.UUID, settings: GroupingSettings | None
) -> Grouping:
    """Keep the workspace's own grouping (None: back to the default one)."""
    stored = session.get(ChannelGrouping, workspace_id)
    groups = [g.model_dump() for g in settings.groups] if settings else []
    keys = [g["key"] for g in groups]
    reserved = {g.key for g in BUILT_IN_GROUPS}
    if len(set(keys)) != len(keys) or reserved & set(keys):
        raise InvalidInput(
            "group keys are unique and not direct or other (those are built in)", field="groups"
        )
    if stored is None:
        session.add(ChannelGrouping(workspace_id=workspace_id, groups=groups))
    else:
        stored.groups = groups
    session.flush()
    return Grouping(tuple(settings.groups)) if settings else DEFAULT_GROUPING
