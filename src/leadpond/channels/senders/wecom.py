"""WeCom (企业微信): application messages to staff, and group-robot webhooks.

Application messages (``message/send``) go to one member by userid (notes to the sales rep)
with the app's cached access token. WeCom de-duplicates them itself when asked
(``enable_duplicate_check``), which is what lets a message whose answer was lost be handed over
again. Errcode 81013 (no such member) is permanent; 45009 (rate limit), 45033 (too many at once)
and -1 (busy) are temporary.

Robots (``webhook/send?key=…``) post into a group chat, no token; at most 20 messages a minute
per robot, text ≤ 2048 bytes and markdown ≤ 4096 bytes.
"""

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import httpx

from leadpond.channels.senders.base import Outcome, Outgoing, Result
from leadpond.channels.senders.provider_http import provider_client, unreachable
from leadpond.channels.senders.weixin_api import (
    SYSTEM_BUSY,
    TokenedApi,
    TokenUnavailable,
    errcode_outcome,
    fits,
)
from leadpond.channels.tokens_cache import TokenKey

DEFAULT_ENDPOINT = "https://qyapi.weixin.qq.com"
# WeCom's own default window for its duplicate check (it takes up to 4 hours).
DUPLICATE_CHECK_INTERVAL_S = 1800
APP_TEMPORARY = frozenset({SYSTEM_BUSY, 45009, 45033})
ROBOT_TEMPORARY = frozenset({SYSTEM_BUSY, 45009})
# A robot takes 20 messages a minute: after a refusal, the next minute is free again.
ROBOT_RETRY_AFTER_S = 60.0
# The byte limits of each message type's text.
APP_LIMITS = {"text": 2048, "markdown": 2048}
ROBOT_LIMITS = {"text": 2048, "markdown": 4096}
TEXTCARD_TITLE_MAX, TEXTCARD_DESCRIPTION_MAX = 128, 512


class WeComAppSender:
    """Sends application messages (text, markdown, textcard) to members, one call each."""

    def __init__(self, settings: dict[str, Any]) -> None:
        self._agent_id = int(settings["agent_id"])
        self._interval = int(settings.get("duplicate_check_interval") or DUPLICATE_CHECK_INTERVAL_S)
        self._client = provider_client(settings)
        endpoint = str(settings.get("endpoint") or DEFAULT_ENDPOINT)
        corp_id, secret = str(settings["corp_id"]), str(settings["corp_secret"])
        self._api = TokenedApi(
            self._client,
            endpoint,
            TokenKey(endpoint, corp_id, secret),
            "/cgi-bin/gettoken",
            {"corpid": corp_id, "corpsecret": secret},
        )

    def send(self, messages: Sequence[Outgoing]) -> list[Outcome]:
        """One outcome per message, each from its own message/send call."""
        return [self._send_one(message) for message in messages]

    def close(self) -> None:
        """Close the HTTP client."""
        self._client.close()

    def _send_one(self, message: Outgoing) -> Outcome:
        try:
            body = self._message(message)
        except ValueError as exc:
            return Outcome(message.message_id, Result.PERMANENT, detail=str(exc))
        try:
            response = self._api.post("/cgi-bin/message/send", body)
        except TokenUnavailable as exc:
            return Outcome(message.message_id, exc.result, detail=exc.detail)
        except httpx.HTTPError as exc:
            return unreachable(message.message_id, exc)
        return errcode_outcome(message.message_id, response, APP_TEMPORARY)

    def _message(self, message: Outgoing) -> dict[str, Any]:
        msgtype = str(message.extra.get("msgtype") or "text")
        return {
            "touser": message.address,
            "msgtype": msgtype,
            "agentid": self._agent_id,
            msgtype: app_content(msgtype, message.extra, message.text_body),
            "enable_duplicate_check": 1,
            "duplicate_check_interval": self._interval,
        }


def app_content(msgtype: str, extra: Mapping[str, Any], fallback: str | None) -> dict[str, Any]:
    """The typed part of an application message, within WeCom's byte limits."""
    content = str(extra.get("content") or fallback or "")
    if msgtype in APP_LIMITS:
        if not content:
            raise ValueError(f"a {msgtype} message needs content")
        return {"content": fits(content, APP_LIMITS[msgtype], f"{msgtype} content")}
    if msgtype != "textcard":
        raise ValueError(f"unknown WeCom message type {msgtype!r}")
    title, url = str(extra.get("title") or ""), str(extra.get("url") or "")
    if not title or not url:
        raise ValueError("a textcard needs a title and a url")
    card = {
        "title": fits(title, TEXTCARD_TITLE_MAX, "textcard title"),
        "description": fits(content, TEXTCARD_DESCRIPTION_MAX, "textcard description"),
        "url": url,
    }
    if extra.get("btntxt"):
        card["btntxt"] = str(extra["btntxt"])
    return card


class WeComRobotSender:
    """Posts messages into a group chat through its robot's webhook."""

    def __init__(self, settings: dict[str, Any]) -> None:
        self._url = str(settings["webhook_url"])
        self._client = provider_client(settings)

    def send(self, messages: Sequence[Outgoing]) -> list[Outcome]:
        """One outcome per message; once the robot answers "later" (rate limit, busy, down),
        the rest of the batch waits too rather than hitting the limit again."""
        outcomes: list[Outcome] = []
        for message in messages:
            waiting = next((o for o in outcomes if o.result is Result.TEMPORARY), None)
            if waiting is None:
                outcomes.append(self._send_one(message))
            else:
                outcomes.append(replace(waiting, message_id=message.message_id))
        return outcomes

    def close(self) -> None:
        """Close the HTTP client."""
        self._client.close()

    def _send_one(self, message: Outgoing) -> Outcome:
        msgtype = str(message.extra.get("msgtype") or "text")
        content = str(message.extra.get("content") or message.text_body or "")
        try:
            if msgtype not in ROBOT_LIMITS:
                raise ValueError(f"the robot sender sends text or markdown, not {msgtype!r}")
            if not content:
                raise ValueError(f"a {msgtype} message needs content")
            fits(content, ROBOT_LIMITS[msgtype], f"{msgtype} content")
        except ValueError as exc:
            return Outcome(message.message_id, Result.PERMANENT, detail=str(exc))
        body = {"msgtype": msgtype, msgtype: {"content": content}}
        try:
            response = self._client.post(self._url, json=body)
        except httpx.HTTPError as exc:
            return unreachable(message.message_id, exc)
        return errcode_outcome(
            message.message_id, response, ROBOT_TEMPORARY, retry_after_s=ROBOT_RETRY_AFTER_S
        )
