"""Segment-spec messages for one true person, as each channel's system would send them."""

import random
import time
from collections import Counter
from typing import Any

from leadpond.demo.catalog import SITE, Campaign, WebPage
from leadpond.demo.draw import uuid4
from leadpond.demo.people import Person

_DESKTOP_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/124.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 Version/17.4 Safari/605",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/122.0 Edg/122.0",
)
_MOBILE_AGENTS = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) Mobile/15E148 MicroMessenger/8.0.47",
    "Mozilla/5.0 (Linux; Android 14; V2309A) Mobile Safari/537.36 MicroMessenger/8.0.45",
    "Mozilla/5.0 (Linux; Android 13; 22081212C) Mobile Safari/537.36",
)
WEB_LIBRARY = {"name": "analytics.js", "version": "npm:next-1.70.0"}
SERVER_LIBRARY = {"name": "analytics-python", "version": "2.3.3"}
WECHAT_LIBRARY = {"name": "wechat-connector", "version": "1.4.0"}
SERVICE_APP_ID = "wx8f3a2c61d5b04e97"  # the official (service) account
MALL_APP_ID = "wx51c0e7a9b2d6f413"  # the mall mini-program


def iso(moment: float) -> str:
    """Epoch seconds as the ISO-8601 UTC text Segment libraries send."""
    whole = int(moment)
    g = time.gmtime(whole)
    millis = int((moment - whole) * 1000)
    return (
        f"{g.tm_year:04d}-{g.tm_mon:02d}-{g.tm_mday:02d}T"
        f"{g.tm_hour:02d}:{g.tm_min:02d}:{g.tm_sec:02d}.{millis:03d}Z"
    )


def external_ids(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    """``context.externalIds`` entries, as Segment's destinations write them."""
    return [
        {"id": value, "type": kind, "collection": "users", "encoding": "none"}
        for kind, value in pairs
    ]


class Emitter:
    """Collects one person's messages (with their times) and counts the identity noise in them."""

    def __init__(self, rng: random.Random, person: Person, noise: Counter[str]) -> None:
        self.rng = rng
        self.person = person
        self.noise = noise
        self.items: list[tuple[float, dict[str, Any]]] = []
        self._desktop_agent = rng.choice(_DESKTOP_AGENTS)
        self._mobile_agent = rng.choice(_MOBILE_AGENTS)

    def _emit(
        self,
        kind: str,
        moment: float,
        body: dict[str, Any],
        anonymous_id: str | None,
        user_id: str | None,
        context: dict[str, Any],
    ) -> None:
        message: dict[str, Any] = {"type": kind, "messageId": uuid4(self.rng)}
        if user_id:
            message["userId"] = user_id
        if anonymous_id:
            message["anonymousId"] = anonymous_id
        message["timestamp"] = iso(moment)
        message.update(body)
        message["context"] = context
        self.items.append((moment, message))

    def web_context(
        self,
        mobile: bool,
        page: WebPage | None = None,
        campaign: Campaign | None = None,
        referrer: str = "",
    ) -> dict[str, Any]:
        """What analytics.js puts in ``context`` on the vendor's website."""
        context: dict[str, Any] = {
            "library": WEB_LIBRARY,
            "locale": "zh-CN",
            "userAgent": self._mobile_agent if mobile else self._desktop_agent,
        }
        if page is not None:
            context["page"] = {
                "path": page.path,
                "url": SITE + page.path,
                "title": page.title,
                "referrer": referrer,
            }
        if campaign is not None:
            utm = {"name": campaign.name, "source": campaign.source, "medium": campaign.medium}
            if campaign.content:
                utm["content"] = campaign.content
            context["campaign"] = utm
        return context

    def wechat_context(self, app: str = "service", with_unionid: bool = True) -> dict[str, Any]:
        """A WeChat callback: the app's openid, and the unionid once the user authorised it."""
        person = self.person
        openid = person.openid_mall if app == "mall" else person.openid_service
        pairs = [("wechat_openid", openid)]
        if with_unionid:
            pairs.append(("wechat_unionid", person.unionid))
        return {
            "library": WECHAT_LIBRARY,
            "app": {"name": "图灵数智商城" if app == "mall" else "图灵数智服务号"},
            "wechat": {"appId": MALL_APP_ID if app == "mall" else SERVICE_APP_ID},
            "externalIds": external_ids(*pairs),
        }

    def page(
        self,
        moment: float,
        page: WebPage,
        anonymous_id: str,
        mobile: bool,
        user_id: str | None = None,
        campaign: Campaign | None = None,
        referrer: str = "",
    ) -> None:
        """A page call (the standard event "Page Viewed")."""
        properties: dict[str, Any] = {
            "path": page.path,
            "url": SITE + page.path,
            "title": page.title,
            "category": page.category,
        }
        if page.product_line:
            properties["product_line"] = page.product_line
        if referrer:
            properties["referrer"] = referrer
        context = self.web_context(mobile, page, campaign, referrer)
        body = {"name": page.name, "properties": properties}
        self._emit("page", moment, body, anonymous_id, user_id, context)

    def track(
        self,
        moment: float,
        event: str,
        properties: dict[str, Any],
        context: dict[str, Any],
        anonymous_id: str | None = None,
        user_id: str | None = None,
    ) -> None:
        """A track call with one of the standard event names (docs/events.md)."""
        body = {"event": event, "properties": properties}
        self._emit("track", moment, body, anonymous_id, user_id, context)

    def identify(
        self,
        moment: float,
        traits: dict[str, Any],
        context: dict[str, Any],
        anonymous_id: str | None = None,
        user_id: str | None = None,
    ) -> None:
        """An identify call carrying what a form, a CRM or an app knows about the person."""
        self._emit("identify", moment, {"traits": traits}, anonymous_id, user_id, context)

    def group(
        self,
        moment: float,
        group_id: str,
        traits: dict[str, Any],
        context: dict[str, Any],
        anonymous_id: str | None = None,
        user_id: str | None = None,
    ) -> None:
        """A group call tying the person to a company record of some system."""
        body = {"groupId": group_id, "traits": traits}
        self._emit("group", moment, body, anonymous_id, user_id, context)

    def form_traits(self, fields: tuple[str, ...]) -> dict[str, Any]:
        """The traits one form submission asserts, written the way this person writes them."""
        person, rng = self.person, self.rng
        traits: dict[str, Any] = {}
        for name in fields:
            if name == "name":
                traits["name"] = person.name_as_typed(rng)
            elif name == "email":
                traits["email"] = person.email_as_typed(rng, self.noise)
            elif name == "phone":
                traits["phone"] = person.phone_as_typed(rng, self.noise)
            elif name == "company":
                traits["company"] = person.company.written_name(rng)
            elif name == "title":
                traits["title"] = person.title
            elif name == "industry":
                industry = person.company.industry
                label = industry.label if rng.random() < 0.7 else rng.choice(industry.aliases)
                traits["industry"] = label
        return traits
