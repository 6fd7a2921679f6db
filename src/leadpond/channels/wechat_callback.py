"""The official account's server callback (服务器配置): WeChat's messages and events to us.

The URL entered as the account's server address carries a token signed for the workspace
(purpose "receipts", data ``{"c": "wechat"}``), as SMS receipt URLs do; the Token and the
EncodingAESKey to check what arrives there are the wechat channel's settings.

- ``GET`` is WeChat's check of the address: the echostr comes back when the signature holds.
- ``POST`` carries one message or event, plaintext or (``encrypt_type=aes``) safe mode. The
  signature must hold, its timestamp be within :data:`REPLAY_WINDOW_S` of now, and in safe mode
  ``msg_signature`` hold and the message decrypt for this account's app id; else 4xx and
  nothing is done. The message then goes to the handler for its MsgType and Event
  (:data:`HANDLERS`); one nobody handles is accepted and ignored. The answer is ``success``, at
  once: WeChat waits 5 seconds and then posts the same message again (handlers are idempotent).

Handled here: ``TEMPLATESENDJOBFINISH``, the outcome of a template message, matched to its
message by the msgid the send answered (the message's ``provider_id``). What followers do
(follow, unfollow, scan a parameterised QR code, click the menu, send a message) is handled by
acquisition, whose handlers :mod:`leadpond.wiring` installs here (:func:`install_handlers`).
"""

import time
import uuid
from collections.abc import Callable, Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import PlainTextResponse
from sqlalchemy.orm import Session

from leadpond.channels.models import Channel
from leadpond.channels.outbox import record_receipt
from leadpond.channels.settings import get_channel
from leadpond.channels.wechat_callback_crypto import check_signature, decrypt
from leadpond.channels.wechat_callback_xml import (
    MAX_BODY_BYTES,
    BadCallbackXml,
    Inbound,
    read_message,
    read_xml,
)
from leadpond.config import get_settings
from leadpond.kit.errors import Forbidden, NotFound, PayloadTooLarge
from leadpond.kit.http import ReadSession, WriteSession
from leadpond.workspaces.signing import BadToken, sign, unsign

CALLBACK_PURPOSE = "receipts"
WECHAT_CALLBACK = {"c": "wechat"}
# A callback signed longer ago (or further ahead) than this is refused: a captured request
# cannot be posted again later. WeChat's own retries come within seconds.
REPLAY_WINDOW_S = 300
ACCEPTED = "success"

router = APIRouter(tags=["channels"], include_in_schema=False)


class CallbackNotConfigured(NotFound):
    code = "wechat_callback_not_configured"


class StaleCallback(Forbidden):
    code = "stale_callback"


class Account:
    """The workspace's official account, as far as its callback needs it."""

    def __init__(self, workspace_id: uuid.UUID, settings: dict[str, Any]) -> None:
        self.workspace_id = workspace_id
        self.app_id = str(settings["app_id"])
        self.server_token = str(settings["server_token"])
        # With its secret, the account's API can be called back (user/info for the unionid).
        self.has_api = bool(settings.get("app_secret"))
        self.aes_keys = [
            str(settings[name])
            for name in ("encoding_aes_key", "previous_encoding_aes_key")
            if settings.get(name)
        ]


Handler = Callable[[Session, Account, Inbound], None]


def wechat_callback_url(session: Session, workspace_id: uuid.UUID) -> str:
    """The server address (服务器地址 URL) to enter in the account's settings."""
    token = sign(session, workspace_id, CALLBACK_PURPOSE, WECHAT_CALLBACK)
    return f"{get_settings().public_url.rstrip('/')}/hooks/wechat/{token}"


def _account(session: Session, token: str) -> Account:
    workspace_id, data = unsign(session, token, CALLBACK_PURPOSE)
    if data != WECHAT_CALLBACK:
        raise BadToken("this link is not valid")
    row = get_channel(session, workspace_id, Channel.WECHAT)
    if row is None or not row.settings.get("server_token"):
        raise CallbackNotConfigured("set the wechat channel's server_token first")
    return Account(workspace_id, row.settings)


def _fresh(timestamp: str, now: float) -> None:
    if not timestamp.isdigit() or abs(now - int(timestamp)) > REPLAY_WINDOW_S:
        raise StaleCallback(f"the timestamp is not within {REPLAY_WINDOW_S} s of now")


async def callback_body(request: Request) -> bytes:
    """The raw body, refused past :data:`MAX_BODY_BYTES` before all of it is read."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise PayloadTooLarge(f"a callback is at most {MAX_BODY_BYTES} bytes")
    return bytes(body)


@router.get("/hooks/wechat/{token}", response_class=PlainTextResponse)
def verify_server(
    token: str,
    signature: str,
    timestamp: str,
    nonce: str,
    echostr: str,
    session: ReadSession,
) -> str:
    """WeChat checking the server address: the echostr back, as received."""
    account = _account(session, token)
    check_signature(signature, account.server_token, timestamp, nonce)
    return echostr


@router.post("/hooks/wechat/{token}", response_class=PlainTextResponse)
def receive(
    token: str,
    body: Annotated[bytes, Depends(callback_body)],
    session: WriteSession,
    signature: str,
    timestamp: str,
    nonce: str,
    encrypt_type: Annotated[str, Query()] = "raw",
    msg_signature: Annotated[str, Query()] = "",
) -> str:
    """Check, open and hand on one message or event; answer ``success``."""
    account = _account(session, token)
    check_signature(signature, account.server_token, timestamp, nonce)
    _fresh(timestamp, time.time())
    if encrypt_type.lower() == "aes":
        message = _opened(account, body, timestamp, nonce, msg_signature)
    else:
        message = read_message(body)
    handler = HANDLERS.get((message.msg_type, message.event)) or _installed.get(
        (message.msg_type, message.event)
    )
    if handler is not None:
        handler(session, account, message)
    return ACCEPTED


def _opened(
    account: Account, body: bytes, timestamp: str, nonce: str, msg_signature: str
) -> Inbound:
    """The message inside a safe-mode body, once its ``msg_signature`` holds."""
    if not account.aes_keys:
        raise CallbackNotConfigured("set the wechat channel's encoding_aes_key for safe mode")
    encrypted = read_xml(body).get("Encrypt")
    if not isinstance(encrypted, str) or not encrypted:
        raise BadCallbackXml("a safe-mode body has an <Encrypt> field")
    check_signature(msg_signature, account.server_token, timestamp, nonce, encrypted)
    return read_message(decrypt(encrypted, account.aes_keys, account.app_id))


def template_send_finished(session: Session, account: Account, message: Inbound) -> None:
    """A template message's outcome: ``success`` is delivered; ``failed:user block`` (the
    follower refused the account's messages), ``failed: system failed`` and any other
    failure are bounced, with WeChat's status as the detail."""
    msg_id = message.text("MsgID")
    if not msg_id:
        return
    status = message.text("Status")
    detail = {"status": status, "wechat_event": "TEMPLATESENDJOBFINISH"}
    record_receipt(
        session, account.workspace_id, Channel.WECHAT, msg_id, status == "success", detail
    )


# (MsgType, Event) -> its handler, lower case; messages that are not events have Event "".
HANDLERS: dict[tuple[str, str], Handler] = {
    ("event", "templatesendjobfinish"): template_send_finished,
}

_installed: dict[tuple[str, str], Handler] = {}


def install_handlers(handlers: Mapping[tuple[str, str], Handler]) -> None:
    """Add the handlers of packages above channels (acquisition's), by (MsgType, Event)."""
    _installed.clear()
    _installed.update(handlers)
