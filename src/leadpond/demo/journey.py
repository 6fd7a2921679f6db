"""One person's year: acquire, nurture, convert, retain (招 育 转 留), channel by channel."""

import random
from collections import Counter
from collections.abc import Callable
from typing import Any

from leadpond.demo.catalog import DAY, LINE_LABELS, Catalog, MarketingEvent, WebPage
from leadpond.demo.draw import cumulative, token, weighted_index
from leadpond.demo.messages import SERVER_LIBRARY, Emitter, external_ids
from leadpond.demo.people import Person

STAGES = ("awareness", "visit", "registered", "engaged", "opportunity", "customer", "advocate")
_ROLE_BUYING = {"cio": 1.6, "department_head": 1.3, "project_manager": 1.4, "engineer": 0.6}
_ENTRIES = ("web", "wechat", "event", "sales")
_ENTRY_WEIGHTS = cumulative((0.55, 0.25, 0.12, 0.08))
_DEAL_STAGES = ("qualification", "needs_analysis", "proposal", "negotiation")
_DEAL_REACH = cumulative((0.25, 0.2, 0.2, 0.35))  # how far a deal gets before it is decided
_BAND_VALUE = {"1-49": 0.3, "50-199": 0.6, "200-999": 1.0, "1000-4999": 2.0, "5000+": 4.0}
_SERVER = {"library": SERVER_LIBRARY}
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
            self.crm_contact(now)
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
            (self.article if self.followed else self.follow_from_article, 1.5),
            (self.whitepaper, 1.2 if self.stage < 3 else 0.5),
            (self.webinar, 1.0),
            (lambda t: self.event(t, "salon") or t, 0.5),
            (lambda t: self.event(t, "conference") or t, 0.4),
        ]
        if 2 <= self.stage < 4:
            choices.append((self.trial_or_demo, 0.12 * buying * (1 + self.engagement)))
        if self.stage >= 5:
            choices.append((self.retention, 1.5))
        action = choices[weighted_index(rng, cumulative(w for _, w in choices))][0]
        return action(now)

    def device(self, mobile: bool) -> str:
        person = self.person
        if not mobile and person.uses_shared_device and self.rng.random() < 0.35:
            self.noise["shared_device"] += 1
            return str(person.company.shared_device)
        return person.mobile_cookie if mobile else person.desktop_cookie

    def web_session(self, now: float, landing: WebPage | None = None) -> float:
        """A visit of one to five pages, the first carrying the campaign that brought them."""
        rng, catalog = self.rng, self.catalog
        mobile = rng.random() < 0.35
        cookie = self.device(mobile)
        campaign = None
        if rng.random() < 0.6:
            campaign = catalog.campaigns[weighted_index(rng, catalog.campaign_weights)]
        referrer = "" if campaign else rng.choice(("", "https://www.baidu.com/", ""))
        for number in range(1 + min(4, int(rng.expovariate(0.8)))):
            page = landing if number == 0 and landing else self.pick_page()
            self.out.page(now, page, cookie, mobile, self.user_id, campaign, referrer)
            if page.category == "case":
                self.content_view(now + 20, cookie, mobile, page)
            referrer, campaign = "https://www.turingdata.cn" + page.path, None
            now += rng.uniform(15, 240)
        self.advance("visit")
        return now

    def pick_page(self) -> WebPage:
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

    def content_view(self, now: float, cookie: str, mobile: bool, page: WebPage) -> None:
        properties: dict[str, Any] = {
            "content_id": page.path.rsplit("/", 1)[-1],
            "content_type": "case",
        }
        properties |= {"title": page.title, "topic": page.product_line or "", "stage": "decision"}
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
            anonymous_id, context = self.device(mobile), out.web_context(mobile)
        out.identify(now, traits, context, anonymous_id, self.user_id)
        properties: dict[str, Any] = {"form_id": form_id, "fields": sorted(traits)}
        out.track(now + 1, "Form Submitted", properties, context, anonymous_id, self.user_id)
        if "email" in traits and self.subscribed is None and self.rng.random() < 0.7:
            self.subscribed = (now, traits["email"])
        self.advance("registered")
        return anonymous_id, context

    def whitepaper(self, now: float) -> float:
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
            self.maybe_engaged()
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
            self.crm_contact(at + 2 * DAY)
        self.maybe_engaged()
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

    def follow_from_article(self, now: float) -> float:
        return self.wechat_follow(now, "qrscene_article_footer")

    def article(self, now: float) -> float:
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

    def maybe_engaged(self) -> None:
        if self.stage >= 2 and self.engagement >= 3:
            self.advance("engaged")

    def trial_or_demo(self, now: float) -> float:
        """The hand-raise: a trial or demo request, a product account, a CRM deal."""
        rng, person, out = self.rng, self.person, self.out
        trial = rng.random() < 0.6
        fields = ("name", "email", "phone", "company", "title", "industry")
        anonymous_id, context = self.submit_form(now, "trial" if trial else "demo", fields)
        product = person.interest
        properties: dict[str, Any] = {"product": product, "product_name": LINE_LABELS[product]}
        if trial:
            properties["edition"] = rng.choice(("community", "enterprise"))
        event = "Trial Requested" if trial else "Demo Requested"
        out.track(now + 2, event, properties, context, anonymous_id)
        self.advance("opportunity")
        if trial:
            self.sign_up(now + 600, anonymous_id, context)
        self.crm_contact(now + DAY * rng.uniform(0.2, 3))
        self.deal(now + DAY * rng.uniform(1, 5))
        return now + DAY

    def sign_up(self, now: float, anonymous_id: str, context: dict[str, Any]) -> None:
        """The trial creates a product account: from now on the website knows the userId."""
        person, out = self.person, self.out
        self.user_id = person.account_user_id
        traits = out.form_traits(("email", "name", "company"))
        out.identify(now, traits, context, anonymous_id, self.user_id)
        tenant = {"name": person.company.written_name(self.rng), "plan": "trial"}
        tenant |= {"industry": person.company.industry.label, "employees": person.company.size_band}
        if self.rng.random() < 0.3:
            tenant["uscc"] = (
                person.company.uscc.lower() if self.rng.random() < 0.2 else person.company.uscc
            )
        out.group(now + 1, f"tn_{person.account_user_id[2:]}", tenant, context, None, self.user_id)

    def crm_contact(self, now: float) -> None:
        """Sales enters the contact and the account into the CRM, which syncs them here."""
        if self.in_crm:
            return
        self.in_crm = True
        person, company, out = self.person, self.person.company, self.out
        crm_id = person.crm_contact_id
        context = {"library": SERVER_LIBRARY, "externalIds": external_ids(("crm_id", crm_id))}
        email = person.corporate_email or person.free_email
        traits = {"name": person.name, "email": email, "company": company.legal_name}
        traits |= {
            "phone": person.phone_as_typed(self.rng, self.noise, "crm"),
            "title": person.title,
        }
        out.identify(now, traits, context, f"crm:{crm_id}")
        account = {"name": company.legal_name, "uscc": company.uscc, "city": company.city.name}
        account |= {"industry": company.industry.label, "employees": company.size_band}
        if company.domain:
            account["website"] = f"https://www.{company.domain}"
        out.group(now + 1, company.crm_account_id, account, context, f"crm:{crm_id}")

    def deal(self, now: float) -> None:
        """The opportunity moves through the deal stages, and is won or lost."""
        rng, person, out = self.rng, self.person, self.out
        crm_id = person.crm_contact_id
        context = {"library": SERVER_LIBRARY, "externalIds": external_ids(("crm_id", crm_id))}
        amount = round(rng.uniform(80_000, 600_000) * _BAND_VALUE[person.company.size_band], -3)
        deal_id = f"006D{person.index:011d}"
        base = {"deal_id": deal_id, "product": person.interest, "amount": amount, "currency": "CNY"}
        reached = 1 + weighted_index(rng, _DEAL_REACH)
        for stage in _DEAL_STAGES[:reached]:
            out.track(now, "Deal Updated", base | {"stage": stage}, context, f"crm:{crm_id}")
            now += DAY * rng.uniform(5, 30)
        won = reached == len(_DEAL_STAGES) and rng.random() < 0.6 * min(2.0, person.propensity)
        if reached == len(_DEAL_STAGES) or rng.random() < 0.5:
            final = "closed_won" if won else "closed_lost"
            out.track(now, "Deal Updated", base | {"stage": final}, context, f"crm:{crm_id}")
        if won and now < self.catalog.end:
            self.advance("customer")
            for _ in range(1 + int(rng.expovariate(0.6))):
                now = self.retention(self.daytime(now + DAY * rng.uniform(7, 60)))

    def retention(self, now: float) -> float:
        """Customers: certifications, mall orders and the user community."""
        rng, person, out = self.rng, self.person, self.out
        roll = rng.random()
        if roll < 0.4:
            certification = rng.choice(self.catalog.certifications[person.interest])
            if self.user_id is None:
                self.user_id = person.account_user_id
                traits = {"email": person.email_as_typed(rng, self.noise), "name": person.name}
                out.identify(now, traits, {"library": SERVER_LIBRARY}, None, self.user_id)
            properties: dict[str, Any] = {
                "certification_id": certification[0],
                "name": certification[1],
            }
            properties |= {"product_line": person.interest, "score": rng.randrange(70, 100)}
            out.track(now + 5, "Certification Earned", properties, _SERVER, None, self.user_id)
        elif roll < 0.7:
            mall = out.wechat_context("mall")
            phone = person.phone_as_typed(rng, self.noise, "plus86")
            out.identify(now, {"phone": phone}, mall, person.openid_mall)
            sku, name, price = rng.choice(self.catalog.mall_items)
            quantity = 1 + int(rng.expovariate(2.0))
            properties = {"order_id": f"WX{rng.getrandbits(48):014d}", "currency": "CNY"}
            properties |= {"total": price * quantity, "products": [
                {"product_id": sku, "name": name, "price": price, "quantity": quantity}
            ]}  # fmt: skip
            out.track(now + 30, "Order Completed", properties, mall, person.openid_mall)
        else:
            scene = f"community_{person.interest}"
            properties = {"scene": scene, "channel": "community"}
            out.track(now, "QR Scanned", properties, out.wechat_context(), person.openid_service)
            self.engagement += 1
        if self.engagement >= 6 or roll < 0.4:
            self.advance("advocate")
        return now + 60

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
