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

from leadpond.console.i18n import Translate
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
}
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
# Who put a tag on a person.
TAG_SOURCES = {"rule": "Rule", "manual": "By hand", "journey": "Journey", "import": "Import"}
_RULE_ON_EVENT = re.compile(r"^rule (?P<rule>\S+) on (?P<event>.+)$")
_RULE_IDLE = re.compile(r"^rule (?P<rule>\S+): no activity for (?P<idle>\S+)$")


def said(_: Translate, names: dict[str, str], key: str | None) -> str:
    """The words of a key, or the key itself when it has none."""
    if not key:
        return "–"
    return _(names[key]) if key in names else key


def event_words(_: Translate, event_type: str, name: str | None) -> str:
    """An event as the timeline titles it: a standard track event in words, a custom one by
    its name, another call by what it does."""
    if event_type == "track":
        return said(_, EVENT_NAMES, name or "track")
    return said(_, CALL_NAMES, event_type)


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


def reason_words(_: Translate, reason: str | None, labels: Labels) -> str:
    """A rule's stored reason in a sentence: ``rule stage:visit:1 on Article Read`` reads
    "On 文章阅读 (rule stage:visit:1)"; other reasons (a person's, a journey's) as written."""
    if not reason:
        return "–"
    found = _RULE_ON_EVENT.match(reason)
    if found:
        return _("On “{event}” (rule {rule})").format(
            event=event_words(_, "track", found["event"]), rule=found["rule"]
        )
    found = _RULE_IDLE.match(reason)
    if found:
        return _("No activity for {idle} (rule {rule})").format(
            idle=found["idle"], rule=found["rule"]
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
}


def schema_error_words(_: Translate, error: Any) -> str:
    """One pydantic error in the user's language, its limits filled in; an error type without
    words keeps pydantic's message."""
    words = SCHEMA_ERRORS.get(str(error.get("type")))
    if words is None:
        return str(error.get("msg", ""))
    context = {k: plain(v) for k, v in (error.get("ctx") or {}).items()}
    try:
        return _(words).format(**context)
    except (KeyError, IndexError):
        return _(words)


def validation_problem(_: Translate, exc: ValidationError) -> tuple[str | None, str]:
    """The field and message of a form's first schema error, in the user's words: the field
    as the form labels it ("campaign" → 活动), the message from ``SCHEMA_ERRORS``."""
    error = exc.errors()[0]
    path = [str(p) for p in error["loc"] if not isinstance(p, int)]
    field = path[-1] if path else None
    said = schema_error_words(_, error)
    if field is None:
        return None, said
    return field, f"{_(field.replace('_', ' ').capitalize())}: {said}"
