"""One person's year: acquire, nurture, convert, retain (招 育 转 留), channel by channel."""

import random
from collections import Counter
from collections.abc import Callable
from typing import Any

from leadpond.demo import conversion
from leadpond.demo.catalog import DAY, Catalog, MarketingEvent, WebPage
from leadpond.demo.draw import cumulative, token, weighted_index
from leadpond.demo.messages import SERVER_LIBRARY, Emitter
from leadpond.demo.people import Person

STAGES = ("awareness", "visit", "registered", "engaged", "opportunity", "customer", "advocate")
_ROLE_BUYING = {"cio": 1.6, "department_head": 1.3, "project_manager": 1.4, "engineer": 0.6}
_ENTRIES = ("web", "wechat", "event", "sales")
_ENTRY_WEIGHTS = cumulative((0.55, 0.25, 0.12, 0.08))
_REGISTRATION_FIELDS = ("name", "phone", "company", "title")


class Journey:
    """Simulates one person and collects their messages; ``stage`` is how far they got."""

    def __init__(self, person: Person, catalog: Catalog, seed: int, noise: Counter[str]) -> None:
        self.person = person
        self.catalog = catalog
        self.rng = random.Random(f"{seed}/journey/{person.index}")
        self.out = Emitter(self.rng, person, noise)
        self.noise = noise
        self.stage = 0
        self.engagement = 0
        self.user_id: str | None = None  # analytics.js sends it once the person signed up
        self.followed = False
        self.in_crm = False
        self.subscribed: tuple[float, str] | None = None
        self.viewer_id = "vh_" + token(self.rng, 16, "0123456789abcdef")

    def advance(self, stage: str) -> None:
        """Record that the person reached ``stage`` (stages never go back)."""
        self.stage = max(self.stage, STAGES.index(stage))

    def daytime(self, moment: float) -> float:
        """The same day, at an hour a Beijing office worker is online (UTC+8)."""
        hour = self.rng.choice((1, 2, 2, 3, 5, 6, 6, 7, 8, 12, 13))  # 09:00-21:00 in Beijing
        return moment - moment % DAY + hour * 3600 + self.rng.random() * 3600

    def run(self) -> list[tuple[float, dict[str, Any]]]:
        """Play the journey from the first touch to the end of the world's year."""
        catalog, rng, person = self.catalog, self.rng, self.person
        now = self.daytime(catalog.start + rng.random() ** 0.85 * (catalog.end - catalog.start))
        entry = _ENTRIES[weighted_index(rng, _ENTRY_WEIGHTS)]
        if entry == "web" or (entry == "event" and not self.event(now, "salon")):
            now = self.web_session(now)
        elif entry == "wechat":
            now = self.wechat_follow(now, f"qrscene_poster_{rng.choice(('a', 'b', 'c'))}")
        elif entry == "sales":
            conversion.crm_contact(self, now)
        rounds = min(16, int(rng.expovariate(1.0 / (2.4 * person.propensity))))
        for _ in range(rounds):
            now = self.daytime(now + DAY + rng.expovariate(1.0 / (20 * DAY)))
            if now >= catalog.end:
                break
            now = self.activity(now)
        self.newsletters()
        return [item for item in self.out.items if item[0] < catalog.end]

    def activity(self, now: float) -> float:
        """One nurture round: the person picks what they do next."""
        rng, person = self.rng, self.person
        buying = _ROLE_BUYING.get(person.role, 1.0) * person.propensity
        choices: list[tuple[Callable[[float], float], float]] = [
            (self.web_session, 3.0),
            (self.article if self.followed else self._follow_from_article, 1.5),
            (self.whitepaper, 1.2 if self.stage < 3 else 0.5),
            (self.webinar, 1.0),
            (lambda t: self.event(t, "salon") or t, 0.5),
            (lambda t: self.event(t, "conference") or t, 0.4),
        ]
        if 2 <= self.stage < 4:
            choices.append(
                (lambda t: conversion.trial_or_demo(self, t), 0.12 * buying * (1 + self.engagement))
            )
        if self.stage >= 5:
            choices.append((lambda t: conversion.retention(self, t), 1.5))
        action = choices[weighted_index(rng, cumulative(w for _, w in choices))][0]
        return action(now)

    def _device(self, mobile: bool) -> str:
        person = self.person
        if not mobile and person.uses_shared_device and self.rng.random() < 0.35:
            self.noise["shared_device"] += 1
            return str(person.company.shared_device)
        return person.mobile_cookie if mobile else person.desktop_cookie

    def web_session(self, now: float, landing: WebPage | None = None) -> float:
        """A visit of one to five pages, the first carrying the campaign that brought them."""
        rng, catalog = self.rng, self.catalog
        mobile = rng.random() < 0.35
        cookie = self._device(mobile)
        campaign = None
        if rng.random() < 0.6:
            campaign = catalog.campaigns[weighted_index(rng, catalog.campaign_weights)]
        referrer = "" if campaign else rng.choice(("", "https://www.baidu.com/", ""))
        for number in range(1 + min(4, int(rng.expovariate(0.8)))):
            page = landing if number == 0 and landing else self._pick_page()
            self.out.page(now, page, cookie, mobile, self.user_id, campaign, referrer)
            if page.category == "case":
                self._content_view(now + 20, cookie, mobile, page)
            referrer, campaign = "https://www.turingdata.cn" + page.path, None
            now += rng.uniform(15, 240)
        self.advance("visit")
        return now

    def _pick_page(self) -> WebPage:
        rng, person, pages = self.rng, self.person, self.catalog.pages
        weights = {"home": 1.5, "product": 2.0, "case": 1.2, "blog": 1.0, "about": 0.3}
        weights["docs"] = 3.0 if person.role == "engineer" else 0.4
        weights["pricing"] = 2.0 if person.role in ("procurement", "project_manager") else 0.5
        if self.stage >= 3:
            weights["pricing"] *= 2
        kinds = list(weights)
        kind = kinds[weighted_index(rng, cumulative(weights.values()))]
        same_line = [p for p in pages[kind] if p.product_line in (None, person.interest)]
        return rng.choice(same_line if same_line and rng.random() < 0.7 else pages[kind])

    def _content_view(self, now: float, cookie: str, mobile: bool, page: WebPage) -> None:
        properties: dict[str, Any] = {
            "content_id": page.path.rsplit("/", 1)[-1],
            "content_type": "case",
            "content_category": "product",
        }
        properties |= {"title": page.title, "topic": page.product_line or "", "stage": "decision"}
        if page.industry:
            properties["industry"] = page.industry
        context = self.out.web_context(mobile, page)
        self.out.track(now, "Content Viewed", properties, context, cookie, self.user_id)
        self.engagement += 1 if self.rng.random() < 0.3 else 0

    def submit_form(
        self, now: float, form_id: str, fields: tuple[str, ...], in_wechat: bool = False
    ) -> tuple[str, dict[str, Any]]:
        """A form post: an identify with what was typed, then "Form Submitted"."""
        out = self.out
        traits = out.form_traits(fields)
        if in_wechat:
            anonymous_id, context = self.person.openid_service, out.wechat_context()
        else:
            mobile = self.rng.random() < 0.3
            anonymous_id, context = self._device(mobile), out.web_context(mobile)
        out.identify(now, traits, context, anonymous_id, self.user_id)
        properties: dict[str, Any] = {"form_id": form_id, "fields": sorted(traits)}
        out.track(now + 1, "Form Submitted", properties, context, anonymous_id, self.user_id)
        if "email" in traits and self.subscribed is None and self.rng.random() < 0.7:
            self.subscribed = (now, traits["email"])
        self.advance("registered")
        return anonymous_id, context

    def whitepaper(self, now: float) -> float:
        """Download a white paper on their topic through its gate form."""
        rng = self.rng
        papers = self.catalog.published("whitepaper", now) or self.catalog.content["whitepaper"]
        paper = rng.choice([p for p in papers if p.topic == self.person.interest] or papers)
        fields = ("name", "email", "company", "title") + (("phone",) if rng.random() < 0.5 else ())
        anonymous_id, context = self.submit_form(now, "whitepaper_gate", fields)
        properties: dict[str, Any] = {
            "content_id": paper.id,
            "title": paper.title,
            "topic": paper.topic,
        }
        self.out.track(now + 3, "Whitepaper Downloaded", properties, context, anonymous_id)
        self.engagement += 1
        return now + 60

    def register(self, now: float, event: MarketingEvent) -> tuple[str, dict[str, Any]]:
        """The registration form of an event, on the web or in WeChat."""
        in_wechat = self.rng.random() < 0.65
        fields = _REGISTRATION_FIELDS + (("email",) if self.rng.random() < 0.4 else ())
        anonymous_id, context = self.submit_form(now, f"register_{event.kind}", fields, in_wechat)
        properties: dict[str, Any] = {
            "event_id": event.id,
            "event_name": event.name,
            "event_type": event.kind,
        }
        properties |= {"city": event.city, "topic": event.topic}
        self.out.track(now + 2, "Event Registered", properties, context, anonymous_id)
        return anonymous_id, context

    def webinar(self, now: float) -> float:
        """Register for the next webinar; about half of the registrants watch it."""
        event = self.catalog.next_event("webinar", now, 45)
        if event is None:
            return now
        self.register(now, event)
        if self.rng.random() < 0.5:
            minutes = round(self.rng.triangular(2, 120, 35))
            properties: dict[str, Any] = {
                "event_id": event.id,
                "event_name": event.name,
                "topic": event.topic,
            }
            properties |= {"watch_minutes": minutes, "mode": "live"}
            phone = self.person.phone_as_typed(self.rng, self.noise, "events")
            context = {"library": SERVER_LIBRARY, "traits": {"phone": phone}}
            self.out.track(
                event.starts_at + 300, "Webinar Attended", properties, context, self.viewer_id
            )
            self.engagement += 1 + (minutes > 30)
            self._maybe_engaged()
            return event.starts_at + minutes * 60
        return now

    def event(self, now: float, kind: str) -> float | None:
        """Register for the next salon or conference; attend, check in, visit booths."""
        event = self.catalog.next_event(kind, now, 75)
        if event is None:
            return None
        anonymous_id, _ = self.register(now, event)
        if self.rng.random() > 0.62:
            return now
        rng, out = self.rng, self.out
        at = event.starts_at + rng.uniform(0, 3600)
        phone = self.person.phone_as_typed(rng, self.noise, "events")
        properties: dict[str, Any] = {
            "event_id": event.id,
            "event_name": event.name,
            "topic": event.topic,
            "checkin_point": "entrance",
        }
        properties["method"] = rng.choice(("badge_qr", "badge_qr", "phone_lookup"))
        context = {"library": SERVER_LIBRARY, "traits": {"phone": phone}}
        out.track(at, "Event Checked In", properties, context, anonymous_id)
        self.engagement += 2
        for booth in rng.sample(event.booths, min(len(event.booths), int(rng.expovariate(0.7)))):
            at += rng.uniform(300, 2400)
            if not self.followed:
                self.wechat_follow(at - 5, f"qrscene_booth_{booth.id}", read=False)
            properties = {"event_id": event.id, "booth_id": booth.id, "booth_name": booth.name}
            properties |= {"product_line": booth.product_line, "points": booth.points}
            out.track(
                at, "Booth Checked In", properties, out.wechat_context(), self.person.openid_service
            )
            if event.kiosk_cookies and rng.random() < 0.2:
                self.kiosk_lead(at + 60, rng.choice(event.kiosk_cookies), booth.id)
        if not self.in_crm and rng.random() < 0.3:
            conversion.crm_contact(self, at + 2 * DAY)
        self._maybe_engaged()
        return at

    def kiosk_lead(self, now: float, kiosk: str, booth_id: str) -> None:
        """A lead form on the booth's shared iPad: many people, one cookie."""
        self.noise["kiosk_form"] += 1
        traits = self.out.form_traits(("name", "email", "phone", "company", "title"))
        context = self.out.web_context(True)
        self.out.identify(now, traits, context, kiosk)
        properties: dict[str, Any] = {
            "form_id": "booth_lead",
            "booth_id": booth_id,
            "fields": sorted(traits),
        }
        self.out.track(now + 1, "Form Submitted", properties, context, kiosk)

    def wechat_follow(self, now: float, scene: str, read: bool = True) -> float:
        """Scan a parameterised QR code and follow the service account."""
        context = self.out.wechat_context(with_unionid=False)
        openid = self.person.openid_service
        self.out.track(now, "QR Scanned", {"scene": scene, "channel": "wechat"}, context, openid)
        if not self.followed:
            properties: dict[str, Any] = {"scene": scene, "account": "图灵数智服务号"}
            self.out.track(
                now + 2, "WeChat Followed", properties, self.out.wechat_context(), openid
            )
            self.followed = True
        self.advance("visit")
        return self.article(now + 30) if read else now + 2

    def _follow_from_article(self, now: float) -> float:
        return self.wechat_follow(now, "qrscene_article_footer")

    def article(self, now: float) -> float:
        """Read one or a few of the official account's articles."""
        rng, out = self.rng, self.out
        articles = self.catalog.published("article", now) or self.catalog.content["article"]
        for item in rng.sample(articles, min(len(articles), 1 + int(rng.expovariate(1.2)))):
            properties: dict[str, Any] = {
                "article_id": item.id,
                "title": item.title,
                "topic": item.topic,
            }
            properties["read_seconds"] = round(rng.triangular(5, 600, 90))
            out.track(
                now, "Article Read", properties, out.wechat_context(), self.person.openid_service
            )
            now += rng.uniform(60, 900)
        self.engagement += 1 if rng.random() < 0.4 else 0
        return now

    def _maybe_engaged(self) -> None:
        if self.stage >= 2 and self.engagement >= 3:
            self.advance("engaged")

    def newsletters(self) -> None:
        """Monthly newsletters to the address given on a form: opens and clicks."""
        if self.subscribed is None:
            return
        since, email = self.subscribed
        rng, person = self.rng, self.person
        context = {"library": SERVER_LIBRARY, "traits": {"email": email.strip()}}
        for letter in self.catalog.newsletters:
            if letter.sent_at < since or rng.random() > 0.22 * min(2.0, person.propensity):
                continue
            opened = self.daytime(letter.sent_at + DAY * rng.expovariate(1.0))
            properties: dict[str, Any] = {
                "email_id": letter.id,
                "subject": letter.subject,
                "topic": letter.topic,
            }
            self.out.track(opened, "Email Opened", properties, context, person.subscriber_id)
            if rng.random() < 0.25:
                link = f"https://www.turingdata.cn/blog?utm_source=edm&utm_campaign={letter.id}"
                clicked = properties | {"url": link}
                self.out.track(opened + 40, "Email Clicked", clicked, context, person.subscriber_id)
