"""Convert and retain (转 留): hand-raises, product accounts, the CRM and its deals, customers."""

from typing import TYPE_CHECKING, Any

from leadpond.demo.acquisition import scene_parts
from leadpond.demo.catalog import DAY, LINE_LABELS
from leadpond.demo.draw import cumulative, weighted_index
from leadpond.demo.messages import SERVER_LIBRARY, external_ids
from leadpond.demo.vocab import SALES_REPS

if TYPE_CHECKING:
    from leadpond.demo.journey import Journey

_DEAL_STAGES = ("qualification", "needs_analysis", "proposal", "negotiation")
_DEAL_REACH = cumulative((0.25, 0.2, 0.2, 0.35))  # how far a deal gets before it is decided
_BAND_VALUE = {"1-49": 0.3, "50-199": 0.6, "200-999": 1.0, "1000-4999": 2.0, "5000+": 4.0}
_SERVER = {"library": SERVER_LIBRARY}


def trial_or_demo(journey: "Journey", now: float) -> float:
    """The hand-raise: a trial or demo request, a product account, a CRM deal."""
    rng, person, out = journey.rng, journey.person, journey.out
    trial = rng.random() < 0.6
    fields = ("name", "email", "phone", "company", "title", "industry")
    anonymous_id, context = journey.submit_form(now, "trial" if trial else "demo", fields)
    product = person.interest
    properties: dict[str, Any] = {"product": product, "product_name": LINE_LABELS[product]}
    if trial:
        properties["edition"] = rng.choice(("community", "enterprise"))
    event = "Trial Requested" if trial else "Demo Requested"
    out.track(now + 2, event, properties, context, anonymous_id)
    journey.advance("opportunity")
    if trial:
        sign_up(journey, now + 600, anonymous_id, context)
    crm_contact(journey, now + DAY * rng.uniform(0.2, 3))
    deal(journey, now + DAY * rng.uniform(1, 5))
    return now + DAY


def sign_up(journey: "Journey", now: float, anonymous_id: str, context: dict[str, Any]) -> None:
    """The trial creates a product account: from now on the website knows the userId."""
    person, out = journey.person, journey.out
    journey.user_id = person.account_user_id
    traits = out.form_traits(("email", "name", "company"))
    out.identify(now, traits, context, anonymous_id, journey.user_id)
    tenant = {"name": person.company.written_name(journey.rng), "plan": "trial"}
    tenant |= {"industry": person.company.industry.label, "employees": person.company.size_band}
    if journey.rng.random() < 0.3:
        tenant["uscc"] = (
            person.company.uscc.lower() if journey.rng.random() < 0.2 else person.company.uscc
        )
    out.group(now + 1, f"tn_{person.account_user_id[2:]}", tenant, context, None, journey.user_id)


def crm_contact(journey: "Journey", now: float) -> None:
    """Sales enters the contact and the account into the CRM, which syncs them here."""
    if journey.in_crm:
        return
    journey.in_crm = True
    person, company, out = journey.person, journey.person.company, journey.out
    crm_id = person.crm_contact_id
    context = {"library": SERVER_LIBRARY, "externalIds": external_ids(("crm_id", crm_id))}
    email = person.corporate_email or person.free_email
    traits = {"name": person.name, "email": email, "company": company.legal_name}
    traits |= {
        "phone": person.phone_as_typed(journey.rng, journey.noise, "crm"),
        "title": person.title,
    }
    # The account's sales rep, by company (no draw: the rest of the world stays as it was).
    owner, owner_userid = SALES_REPS[company.index % len(SALES_REPS)]
    traits |= {"owner": owner, "owner_wecom_userid": owner_userid}
    out.identify(now, traits, context, f"crm:{crm_id}")
    account = {"name": company.legal_name, "uscc": company.uscc, "city": company.city.name}
    account |= {"industry": company.industry.label, "employees": company.size_band}
    if company.domain:
        account["website"] = f"https://www.{company.domain}"
    out.group(now + 1, company.crm_account_id, account, context, f"crm:{crm_id}")


def deal(journey: "Journey", now: float) -> None:
    """The opportunity moves through the deal stages, and is won or lost."""
    rng, person, out = journey.rng, journey.person, journey.out
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
    if won and now < journey.catalog.end:
        journey.advance("customer")
        for _ in range(1 + int(rng.expovariate(0.6))):
            now = retention(journey, journey.daytime(now + DAY * rng.uniform(7, 60)))


def retention(journey: "Journey", now: float) -> float:
    """Customers: certifications, mall orders and the user community."""
    rng, person, out = journey.rng, journey.person, journey.out
    roll = rng.random()
    if roll < 0.4:
        certification = rng.choice(journey.catalog.certifications[person.interest])
        if journey.user_id is None:
            journey.user_id = person.account_user_id
            traits = {"email": person.email_as_typed(rng, journey.noise), "name": person.name}
            out.identify(now, traits, {"library": SERVER_LIBRARY}, None, journey.user_id)
        properties: dict[str, Any] = {
            "certification_id": certification[0],
            "name": certification[1],
        }
        properties |= {"product_line": person.interest, "score": rng.randrange(70, 100)}
        out.track(now + 5, "Certification Earned", properties, _SERVER, None, journey.user_id)
    elif roll < 0.7:
        mall = out.wechat_context("mall")
        phone = person.phone_as_typed(rng, journey.noise, "plus86")
        out.identify(now, {"phone": phone}, mall, person.openid_mall)
        sku, name, price = rng.choice(journey.catalog.mall_items)
        quantity = 1 + int(rng.expovariate(2.0))
        properties = {"order_id": f"WX{rng.getrandbits(48):014d}", "currency": "CNY"}
        properties |= {"total": price * quantity, "products": [
            {"product_id": sku, "name": name, "price": price, "quantity": quantity}
        ]}  # fmt: skip
        out.track(now + 30, "Order Completed", properties, mall, person.openid_mall)
    else:
        properties, context = scene_parts(out.wechat_context(), f"community_{person.interest}")
        out.track(now, "QR Scanned", properties, context, person.openid_service)
        journey.engagement += 1
    if journey.engagement >= 6 or roll < 0.4:
        journey.advance("advocate")
    return now + 60
