"""How the profile screens say things: the standard events, identity types, traits and sources
in words, values as a marketer reads them (never a Python list), and rule reasons in sentences.
A key without words (a custom event, a newer trait) is shown as it is.

Every text here is an English message id translated by the console catalogs;
``tests/console/test_catalogs.py`` fails when one lacks its Chinese.
"""

import json
import re
from typing import Any

from pydantic import ValidationError

from leadpond.console.i18n import Translate, catalog
from leadpond.kit.errors import RefusedValue
from leadpond.kit.names import name_in
from leadpond.rules.vocabulary import Labels

# docs/events.md's standard events (and the ones rules and journeys derive).
EVENT_NAMES = {
    "Page Viewed": "Page viewed",
    "Content Viewed": "Content viewed",
    "Article Read": "Article read",
    "Whitepaper Downloaded": "White paper downloaded",
    "Form Submitted": "Form submitted",
    "Trial Requested": "Trial requested",
    "Demo Requested": "Demo requested",
    "Event Registered": "Registered for an event",
    "Event Checked In": "Checked in at an event",
    "Booth Checked In": "Checked in at a booth",
    "Session Checked In": "Checked in at a session",
    "Webinar Attended": "Attended a webinar",
    "Certification Earned": "Certification earned",
    "Email Opened": "Email opened",
    "Email Clicked": "Email link clicked",
    "Email Bounced": "Email bounced",
    "Email Unsubscribed": "Unsubscribed from email",
    "WeChat Followed": "Followed the WeChat account",
    "WeChat Unfollowed": "Unfollowed the WeChat account",
    "WeChat Message Received": "Sent a WeChat message",
    "WeChat Menu Clicked": "Clicked a WeChat menu",
    "WeCom Contact Added": "Added as a WeCom contact",
    "WeCom Contact Deleted": "Removed as a WeCom contact",
    "QR Scanned": "QR code scanned",
    "Link Clicked": "Tracking link clicked",
    "Deal Updated": "Deal updated",
    "Order Completed": "Order completed",
    "Referral Made": "Referred someone",
    "Hand Raised": "Raised a hand",
    "Pricing Intent": "Pricing intent",
    "MQL Reached": "Became an MQL",
    "Segment Entered": "Entered a segment",
    "Segment Exited": "Left a segment",
}
# A message's timeline events (``channels.events.event_name``): its channel, what happened.
MESSAGE_CHANNELS = {
    "Email": "Email message",
    "SMS": "SMS",
    "WeChat Message": "WeChat",
    "WeCom Message": "WeCom",
    "Webhook": "Webhook",
}
MESSAGE_WHAT = {
    "Sent": "Sent",
    "Delivered": "Delivered",
    "Bounced": "Bounced",
    "Failed": "Failed",
    "Skipped": "Skipped",
    "In Doubt": "In doubt",
    "Opened": "Opened",
    "Clicked": "Clicked",
    "Unsubscribed": "Unsubscribed",
}
_MESSAGE_EVENT = re.compile(
    rf"^(?P<channel>{'|'.join(MESSAGE_CHANNELS)}) (?P<what>{'|'.join(MESSAGE_WHAT)})$"
)
# Calls that are not ``track`` events.
CALL_NAMES = {
    "identify": "Profile updated",
    "page": "Page viewed",
    "screen": "Screen viewed",
    "group": "Company updated",
    "alias": "IDs linked",
}
ID_TYPES = {
    "user_id": "User ID",
    "anonymous_id": "Browser (anonymous ID)",
    "email": "Email",
    "phone": "Mobile",
    "wechat_openid": "WeChat OpenID",
    "wechat_unionid": "WeChat UnionID",
    "wecom_external_userid": "WeCom contact",
    "crm_id": "CRM ID",
    "landline": "Desk phone",
    "switchboard": "Switchboard",
}
TRAIT_NAMES = {
    "name": "Name",
    "email": "Email",
    "phone": "Mobile",
    "mobile": "Mobile",
    "company": "Company",
    "title": "Title",
    "industry": "Industry",
    "city": "City",
    "province": "Province",
    "lead_status": "Lead status",
    "owner": "Owner",
    "gender": "Gender",
    "department": "Department",
    "owner_wecom_userid": "Owner's WeCom account",
    "uscc": "Unified social credit code",
}
SOURCE_NAMES = {
    "api": "API",
    "demo": "Demo data",
    "import": "Import",
    "links": "Tracking link",
    "derived": "Derived by a rule",
    "wechat": "WeChat",
    "channels": "Messages",
    "forms": "Form",
    "journey": "Journey",
    "console": "Console",
    "events": "Event site",
    "content": "Content library",
    "wecom": "WeCom",
    "journeys": "Journey",
}
# docs/events.md's event properties, as the timeline names them.
PROPERTY_NAMES = {
    "path": "Path",
    "url": "Link",
    "title": "Headline",
    "category": "Category",
    "product_line": "Product line",
    "referrer": "Came from",
    "content_id": "Content ID",
    "content_type": "Content type",
    "topic": "Topic",
    "stage": "Stage",
    "industry": "Industry",
    "form_id": "Form",
    "fields": "Fields filled",
    "booth_id": "Booth ID",
    "booth_name": "Booth",
    "event_id": "Event ID",
    "event_name": "Marketing event",
    "event_type": "Event type",
    "city": "City",
    "checkin_point": "Check-in point",
    "method": "Check-in method",
    "points": "Points",
    "session_id": "Session ID",
    "session_title": "Session",
    "forum": "Forum",
    "speaker": "Speaker",
    "watch_minutes": "Minutes watched",
    "mode": "Watched",
    "scene": "QR scene",
    "channel": "Channel",
    "campaign": "Campaign",
    "followed": "Followed",
    "account": "Official account",
    "kind": "Kind",
    "menu_key": "Menu item",
    "msg_type": "Message type",
    "msg_id": "Message ID",
    "content": "Content",
    "external_userid": "WeCom contact",
    "user_id": "Member",
    "state": "State",
    "change_type": "Change",
    "article_id": "Article ID",
    "read_seconds": "Seconds read",
    "email_id": "Email ID",
    "subject": "Subject",
    "product": "Product",
    "product_name": "Product name",
    "edition": "Edition",
    "deal_id": "Deal ID",
    "amount": "Amount",
    "currency": "Currency",
    "order_id": "Order ID",
    "total": "Total",
    "products": "Products",
    "product_id": "Product ID",
    "name": "Item name",
    "price": "Price",
    "quantity": "Quantity",
    "certification_id": "Certification ID",
    "score": "Score",
    "status": "Status",
}
# Properties whose values are fixed words (docs/events.md), by property.
PROPERTY_VALUES = {
    "method": {"badge_qr": "Badge QR code", "phone_lookup": "Phone number lookup"},
    "event_type": {"conference": "Conference", "salon": "Salon", "webinar": "Webinar"},
    "mode": {"live": "Live", "replay": "Replay"},
    "checkin_point": {"entrance": "Entrance"},
    "status": {"approved": "Approved", "pending": "Pending", "rejected": "Rejected"},
    "stage": {
        "qualification": "Qualification",
        "needs_analysis": "Needs analysis",
        "proposal": "Proposal",
        "negotiation": "Negotiation",
        "closed_won": "Won",
        "closed_lost": "Lost",
    },
}
# Properties whose values the playbook names as tag values (a topic, a product line).
PLAYBOOK_VALUES = frozenset({"topic", "product_line", "product", "industry"})
# A console user's role in the workspace (``users.service.Role``).
USER_ROLES = {"viewer": "Viewer", "sales": "Sales", "marketer": "Marketer", "admin": "Admin"}
# A person's role in an account's decision chain (``normalise.roles.ROLES``).
ACCOUNT_ROLES = {
    "executive": "Executive",
    "department_head": "Department head",
    "project_manager": "Project manager",
    "engineer": "Engineer",
    "procurement": "Procurement",
    "other": "Other",
}
# Who did something that is not a console user ("session:<email>", "user:<email>").
ACTORS = {
    "pipeline": "Automatically, on an event",
    "rebuild": "Identity rebuild",
    "leadpond:default": "leadpond (the default playbook)",
}
# Who put a tag on a person.
TAG_SOURCES = {"rule": "Rule", "manual": "By hand", "journey": "Journey", "import": "Import"}
_RULE_ON_EVENT = re.compile(r"^rule (?P<rule>\S+) on (?P<event>.+)$")
_RULE_IDLE = re.compile(r"^rule (?P<rule>\S+): no activity for (?P<idle>\S+)$")
# A score point's reason: ``event-registration (Event Registered)``.
_POINTS_RULE = re.compile(r"^(?P<rule>[\w:-]+) \((?P<event>[^()]+)\)$")
_STAGE_RULE = re.compile(r"^stage:(?P<stage>[^:]+):(?P<index>\d+)$")


def said(_: Translate, names: dict[str, str], key: str | None) -> str:
    """The words of a key, or the key itself when it has none."""
    if not key:
        return "–"
    return _(names[key]) if key in names else key


def actor_words(_: Translate, actor: str) -> str:
    """Who did it: a console user by their email, the pipeline, a rebuild or leadpond itself
    in words."""
    kind, _sep, name = actor.partition(":")
    return name if kind in ("session", "user") and name else said(_, ACTORS, actor)


def event_words(_: Translate, event_type: str, name: str | None) -> str:
    """An event as the timeline titles it: a standard track event in words, a message's
    (``SMS Delivered``) by its channel and what happened, a custom one by its name, another
    call by what it does."""
    if event_type != "track":
        return said(_, CALL_NAMES, event_type)
    message = _MESSAGE_EVENT.match(name or "")
    if name not in EVENT_NAMES and message:
        return _("{channel}: {what}").format(
            channel=_(MESSAGE_CHANNELS[message["channel"]]),
            what=_(MESSAGE_WHAT[message["what"]]),
        )
    return said(_, EVENT_NAMES, name or "track")


def in_language(name: Any, locale: str) -> str:
    """A name the playbook gives per language (``{zh: 等一天, en: One day later}``) in the
    viewer's language, else in the other; a single name as it is."""
    if isinstance(name, dict):
        return name_in(name, locale) or "–"
    return plain(name)


def plain(value: Any) -> str:
    """A value as a marketer reads it: lists joined with commas, objects as JSON, no quotes."""
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple):
        return ", ".join(plain(item) for item in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "–" if value is None else str(value)


def property_words(
    _: Translate, properties: dict[str, Any], labels: Labels, forms: dict[str, str]
) -> list[tuple[str, str, bool]]:
    """An event's properties as the timeline says them: (name, value, whether the value is an
    identifier shown as it is). Names and fixed values in words, topics and product lines by
    the playbook's names, forms by their names, traits filled in by theirs; an unknown form
    key, an ID or a link is an identifier."""
    shown: list[tuple[str, str, bool]] = []
    for key, value in properties.items():
        name = _(PROPERTY_NAMES[key]) if key in PROPERTY_NAMES else key
        if isinstance(value, dict):
            inner = property_words(_, value, labels, forms)
            shown.append((name, ", ".join(f"{n}: {v}" for n, v, _code in inner), False))
        elif isinstance(value, list) and all(isinstance(item, dict) for item in value):
            for item in value:
                inner = property_words(_, item, labels, forms)
                shown.append((name, ", ".join(f"{n}: {v}" for n, v, _code in inner), False))
        elif key == "fields" and isinstance(value, list):
            shown.append((name, ", ".join(said(_, TRAIT_NAMES, str(f)) for f in value), False))
        elif key == "form_id" and isinstance(value, str):
            shown.append((name, forms.get(value, value), value not in forms))
        elif key in PROPERTY_VALUES and isinstance(value, str):
            known = PROPERTY_VALUES[key].get(value)
            shown.append((name, _(known) if known else value, False))
        elif key in PLAYBOOK_VALUES and isinstance(value, str):
            shown.append((name, labels.value(value), False))
        else:
            code = key.endswith(("_id", "_key")) or key in ("url", "path", "referrer", "scene")
            shown.append((name, plain(value), code))
    return shown


def rule_words(_: Translate, rule: str, labels: Labels) -> str:
    """A rule by what a marketer knows of it: a stage rule the playbook left unnamed
    (``stage:visit:1``) as the second rule into 访问; a named rule by its id."""
    found = _STAGE_RULE.match(rule)
    if found:
        return _("rule {number} into “{stage}”").format(
            number=int(found["index"]) + 1, stage=labels.stage(found["stage"])
        )
    return _("rule {rule}").format(rule=rule)


def reason_words(_: Translate, reason: str | None, labels: Labels) -> str:
    """A rule's stored reason in a sentence: ``rule stage:visit:1 on Article Read`` reads
    "因「阅读文章」（进入「访问」的第 2 条规则）", a score point's ``certification (Certification
    Earned)`` "因「获得认证」（规则 certification）"; other reasons (a person's, a journey's) as
    written."""
    if not reason:
        return "–"
    found = _RULE_ON_EVENT.match(reason) or _POINTS_RULE.match(reason)
    if found:
        call = found["event"].lower()  # an identify call's reason names it "Identify"
        kind, name = (call, None) if call in CALL_NAMES else ("track", found["event"])
        return _("On “{event}” ({rule})").format(
            event=event_words(_, kind, name), rule=rule_words(_, found["rule"], labels)
        )
    found = _RULE_IDLE.match(reason)
    if found:
        return _("No activity for {idle} ({rule})").format(
            idle=found["idle"], rule=rule_words(_, found["rule"], labels)
        )
    return reason


# pydantic's error types, as a form says them (its English "Field required" is a developer's).
SCHEMA_ERRORS = {
    "missing": "Required",
    "string_too_short": "Too short (at least {min_length} characters)",
    "string_too_long": "Too long (at most {max_length} characters)",
    "string_pattern_mismatch": "Not in the expected format",
    "literal_error": "Must be one of: {expected}",
    "enum": "Must be one of: {expected}",
    "int_parsing": "Must be a whole number",
    "float_parsing": "Must be a number",
    "greater_than_equal": "Must be at least {ge}",
    "less_than_equal": "Must be at most {le}",
    "url_parsing": "Not a valid URL",
    "value_error": "Not a valid value",
    "extra_forbidden": "Not known here (check the spelling)",
    "bool_parsing": "Must be true or false",
    "list_type": "Must be a list",
    "dict_type": "Must be a mapping",
    "string_type": "Must be text",
    "time_parsing": "Must be a time (HH:MM)",
}


# Where a YAML text's whole document is (``conditions.source.format_path`` of no path).
TOP = "(top)"


def place_words(_: Translate, place: str) -> str:
    """A place in a YAML text (``journeys[0].key``) as written; the whole document in words."""
    return _("(top level)") if place == TOP else place


def refusal_words(_: Translate, words: str, params: dict[str, Any]) -> str:
    """A rule's own account of what is wrong (a condition's, a duration's, a schema's
    ``RefusedValue``) in the viewer's language: its message id translated, its values filled in
    (a list of them as one text, the top of a YAML text in words)."""
    return _(words).format(**{key: _value_words(_, value) for key, value in params.items()})


def _value_words(_: Translate, value: Any) -> Any:
    if isinstance(value, list | tuple):
        return ", ".join(map(str, value))
    return place_words(_, value) if isinstance(value, str) else value


def schema_error_words(_: Translate, error: Any) -> str:
    """One pydantic error in the user's language, its limits filled in; a validator's refusal
    by its words (or its constant message's translation); an error type without words keeps
    pydantic's message."""
    words = SCHEMA_ERRORS.get(str(error.get("type")))
    cause = (error.get("ctx") or {}).get("error")
    if isinstance(cause, RefusedValue):
        return refusal_words(_, cause.words, cause.params)
    if isinstance(cause, ValueError) and str(cause) in catalog("zh_CN"):
        return _(str(cause))
    if words is None:
        return str(error.get("msg", ""))
    context = {k: plain(v) for k, v in (error.get("ctx") or {}).items()}
    try:
        return _(words).format(**context)
    except (KeyError, IndexError):
        return _(words)


# The inputs of the console's forms by their schema's names (every field of the schemas the forms
# submit: tests/console/test_field_labels.py fails when one lacks its label or its words).
FIELD_LABELS = {
    "key": "Key",
    "name": "The name",
    "name_zh": "Name (Chinese)",
    "name_en": "Name (English)",
    "kind": "Kind",
    "level": "Level",
    "account_match": "Account match",
    "condition": "Condition",
    "people": "People",
    "channel": "Channel",
    "user_ids": "Staff members",
    "state": "State",
    "campaign": "Campaign",
    "remark": "Remark",
    "permanent": "Permanent",
    "expire_seconds": "Expires after (seconds)",
    "source": "Source",
    "medium": "Medium",
    "content": "Content",
    "url": "Link",
    "content_id": "Content item",
    "channels": "Channels",
    "subject": "Subject",
    "body": "Body",
    "text_body": "Text part",
    "purpose": "Purpose",
    "provider_template": "Provider template",
    "title": "Content title",
    "title_en": "Title (English)",
    "summary": "Summary",
    "body_format": "Body format",
    "format": "Format",
    "video_url": "Video link",
    "type": "Type",
    "author": "Author",
    "language": "Language",
    "status": "Status",
    "gate_form": "Gate form",
    "stages": "Stages",
    "topics": "Topics",
    "products": "Products",
    "industries": "Industries",
    "starts_at": "Start time",
    "ends_at": "End time",
    "time_zone": "Time zone",
    "city": "City",
    "venue": "Venue",
    "topic": "Topic",
    "capacity": "Capacity",
    "approval_required": "Approval required",
    "live_url": "Live stream link",
    "sessions": "Agenda",
    "booths": "Booths",
    "site": "Microsite",
    "modules": "Microsite modules",
    "messages": "Messages",
    "registration_form": "Registration form",
    "surveys": "Surveys",
    "reminder_hours": "Reminder (hours before)",
    "product_line": "Product line",
    "points": "Points",
    "forum": "Forum",
    "room": "Room",
    "speaker": "Speaker",
    "speaker_title": "Speaker's title",
    "intro": "Introduction",
    "intro_en": "Introduction (English)",
    "transport": "Transport",
    "speakers": "Speakers",
    "downloads": "Files to download",
    "bio": "Biography",
    "confirm_email": "Confirmation email",
    "confirm_sms": "Confirmation SMS",
    "reminder_email": "Reminder email",
    "reminder_sms": "Reminder SMS",
}


def validation_problem(_: Translate, exc: ValidationError) -> tuple[str | None, str]:
    """The field and message of a form's first schema error, in the user's words: the field
    by its label in ``FIELD_LABELS`` ("starts_at" → 开始时间：必填; one without a label by its
    name), the message from ``SCHEMA_ERRORS``."""
    error = exc.errors()[0]
    said = schema_error_words(_, error)
    field = _field_of(error["loc"])
    if field is None:
        return None, said
    label = FIELD_LABELS.get(field)
    return field, _("{place}: {problem}").format(place=_(label) if label else field, problem=said)


def _field_of(loc: tuple[int | str, ...]) -> str | None:
    """The field a pydantic error's place names: its last part that is a form's field. A union's
    member (``str``, ``dict[str,any]``, ``function-after[…]``, a model's name) and a mapping's key
    are no field (``('condition', 'str')`` is the condition); a place without a known field
    keeps its last name."""
    names = [str(part) for part in loc if not isinstance(part, int)]
    return next((n for n in reversed(names) if n in FIELD_LABELS), names[-1] if names else None)
