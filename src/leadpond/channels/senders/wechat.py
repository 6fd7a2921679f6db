"""WeChat Official Account template messages (模板消息) to followers, by openid.

``message/template/send`` with the account's cached access token (``cgi-bin/token``,
client_credential). The idempotency key is sent as ``client_msg_id``, WeChat's de-duplication
id, so a message whose answer was lost may be handed over again. Not following (43004), a bad
openid (40003), a bad template or data (40037, 47003) and a refusal (43101) are permanent; the
quota (45009) and a busy system (-1) are temporary.
"""

import hashlib
from collections.abc import Sequence
from typing import Any

import httpx

from leadpond.channels.senders.base import Outcome, Outgoing, Result
from leadpond.channels.senders.provider_http import provider_client, unreachable
from leadpond.channels.senders.weixin_api import (
    SYSTEM_BUSY,
    TokenedApi,
    TokenUnavailable,
    errcode_outcome,
)
from leadpond.channels.tokens_cache import TokenKey

DEFAULT_ENDPOINT = "https://api.weixin.qq.com"
QUOTA_REACHED = 45009
TEMPORARY = frozenset({SYSTEM_BUSY, QUOTA_REACHED})
# Longer keys are sent as their digest: the same key always gives the same id.
CLIENT_MSG_ID_MAX = 64


class WeChatTemplateSender:
    """Sends template messages, one call each."""

    def __init__(self, settings: dict[str, Any]) -> None:
        self._client = provider_client(settings)
        endpoint = str(settings.get("endpoint") or DEFAULT_ENDPOINT)
        app_id, secret = str(settings["app_id"]), str(settings["app_secret"])
        self._api = TokenedApi(
            self._client,
            endpoint,
            TokenKey(endpoint, app_id, secret),
            "/cgi-bin/token",
            {"grant_type": "client_credential", "appid": app_id, "secret": secret},
        )

    def send(self, messages: Sequence[Outgoing]) -> list[Outcome]:
        """One outcome per message, each from its own template/send call."""
        return [self._send_one(message) for message in messages]

    def close(self) -> None:
        """Close the HTTP client."""
        self._client.close()

    def _send_one(self, message: Outgoing) -> Outcome:
        if not message.provider_template:
            return Outcome(message.message_id, Result.PERMANENT, detail="no template_id")
        try:
            response = self._api.post("/cgi-bin/message/template/send", template_message(message))
        except TokenUnavailable as exc:
            return Outcome(message.message_id, exc.result, detail=exc.detail)
        except httpx.HTTPError as exc:
            return unreachable(message.message_id, exc)
        return errcode_outcome(message.message_id, response, TEMPORARY)


def template_message(message: Outgoing) -> dict[str, Any]:
    """The template/send body of ``message``."""
    body: dict[str, Any] = {
        "touser": message.address,
        "template_id": message.provider_template,
        "data": dict(message.extra.get("data") or {}),
        "client_msg_id": client_msg_id(
            str(message.extra.get("client_msg_id") or "") or message.idempotency_key
        ),
    }
    for optional in ("url", "miniprogram"):
        if message.extra.get(optional):
            body[optional] = message.extra[optional]
    return body


def client_msg_id(key: str) -> str:
    """The de-duplication id for an idempotency key: the key itself when short enough."""
    if len(key) <= CLIENT_MSG_ID_MAX:
        return key
    return hashlib.sha256(key.encode()).hexdigest()
