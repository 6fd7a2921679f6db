"""Which identifiers an event carries, in normal form."""

import re
from typing import Any

from leadpond.flow.batch import PipelineEvent
from leadpond.identity.config import IdentityConfig
from leadpond.normalise.contact import (
    is_landline,
    normalise_email,
    normalise_phone,
    phone_extension,
)

IdentifierKey = tuple[str, str]

_TRAIT_IDENTIFIERS = ("wechat_unionid", "wechat_openid", "crm_id")
_CUSTOM_TYPE = re.compile(r"[^a-z0-9_]+")


def custom_type_name(raw: str) -> str:
    """``context.externalIds`` types as lower_snake_case identifier types."""
    name = _CUSTOM_TYPE.sub("_", raw.strip().lower()).strip("_")
    return name[:64] or "external_id"


def _openid_scope(entry: dict[str, Any], context: dict[str, Any]) -> str | None:
    """OpenIDs are per official account / mini-program: scope them by app id when given."""
    for key in ("appId", "app_id", "appid"):
        value = entry.get(key)
        if isinstance(value, str) and value:
            return value
    wechat = context.get("wechat")
    if isinstance(wechat, dict):
        value = wechat.get("appId") or wechat.get("app_id") or wechat.get("appid")
        if isinstance(value, str) and value:
            return value
    return None


def normalise_identifier(id_type: str, raw: object) -> str | None:
    """The normal form of one identifier value, or None when it is unusable."""
    if raw is None or isinstance(raw, bool | dict | list):
        return None
    text = str(raw).strip()
    if not text:
        return None
    if id_type == "email":
        return normalise_email(text)
    if id_type in ("phone", "switchboard"):
        return normalise_phone(text)
    if id_type == "landline":
        number, _, extension = text.partition(";ext=")
        e164 = normalise_phone(number)
        extension = extension or (phone_extension(number) or "")
        return f"{e164};ext={extension}" if e164 and extension else e164
    return text[:512]


def _identifier(id_type: str, raw: object, config: IdentityConfig) -> IdentifierKey | None:
    """One raw value as an identifier key: normal form, desk line or switchboard, not blocked."""
    value = normalise_identifier(id_type, raw)
    if value is not None and id_type == "phone" and is_landline(value):
        extension = phone_extension(str(raw))
        id_type, value = (
            ("landline", f"{value};ext={extension}") if extension else ("switchboard", value)
        )
    if value is None or config.is_blocked(id_type, value):
        return None
    return (id_type, value)


def event_identifiers(event: PipelineEvent, config: IdentityConfig) -> list[IdentifierKey]:
    """Normalised, unblocked identifiers of an event, strongest first, without repeats."""
    found: list[IdentifierKey] = []
    payload = event.payload
    context = payload.get("context") if isinstance(payload.get("context"), dict) else {}
    assert isinstance(context, dict)

    memo = config.identifier_memo

    def add(id_type: str, raw: object) -> None:
        if raw is None:
            return
        memo_key = (id_type, raw if isinstance(raw, str) else repr(raw))
        if memo_key in memo:
            known = memo[memo_key]
        else:
            known = _identifier(id_type, raw, config)
            if len(memo) > 500_000:
                memo.clear()
            memo[memo_key] = known
        if known is not None:
            found.append(known)

    add("user_id", event.user_id)
    add("anonymous_id", event.anonymous_id)
    if event.type == "alias":
        add("anonymous_id", payload.get("previousId"))
    traits = payload.get("traits") if event.type in ("identify", "alias") else context.get("traits")
    if isinstance(traits, dict):
        add("email", traits.get("email"))
        add("phone", traits.get("phone") or traits.get("mobile"))
        for name in _TRAIT_IDENTIFIERS:
            add(name, traits.get(name))
    external = context.get("externalIds")
    if isinstance(external, list):
        for entry in external:
            if not isinstance(entry, dict) or not isinstance(entry.get("type"), str):
                continue
            id_type = custom_type_name(entry["type"])
            value = entry.get("id")
            if id_type == "wechat_openid" and value:
                scope = _openid_scope(entry, context)
                value = f"{scope}:{value}" if scope else value
            add(id_type, value)
    unique = list(dict.fromkeys(found))
    unique.sort(key=lambda key: config.rule(key[0]).priority)
    return unique
