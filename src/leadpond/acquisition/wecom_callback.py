"""WeCom's callback (接收事件服务器) for the app: customer contact changes.

Always encrypted (reference/channels.md §4): the URL carries a token signed for the workspace
(purpose "receipts", data ``{"c": "wecom"}``); ``msg_signature`` is the SHA-1 of the sorted
[Token, timestamp, nonce, Encrypt]; the message decrypts with the EncodingAESKey for the corp id.
``GET`` is WeCom's address check: the decrypted echostr comes back. A ``POST`` whose signature
fails, whose timestamp is stale, or that does not decrypt for this corp changes nothing (4xx).
"""

import time
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import PlainTextResponse
from sqlalchemy.orm import Session

from leadpond.acquisition.wecom_ways import contact_changed, wecom_settings
from leadpond.channels.wechat_callback import (
    CALLBACK_PURPOSE,
    REPLAY_WINDOW_S,
    CallbackNotConfigured,
    StaleCallback,
    callback_body,
)
from leadpond.channels.wechat_callback_crypto import check_signature, decrypt
from leadpond.channels.wechat_callback_xml import BadCallbackXml, read_xml
from leadpond.config import get_settings
from leadpond.kit.http import ReadSession, WriteSession
from leadpond.workspaces.signing import BadToken, sign, unsign

WECOM_CALLBACK = {"c": "wecom"}

router = APIRouter(tags=["acquisition"], include_in_schema=False)


def wecom_callback_url(session: Session, workspace_id: uuid.UUID) -> str:
    """The callback URL to enter in the WeCom app's 接收事件服务器 settings."""
    token = sign(session, workspace_id, CALLBACK_PURPOSE, WECOM_CALLBACK)
    return f"{get_settings().public_url.rstrip('/')}/hooks/wecom/{token}"


def _corp(session: Session, token: str) -> tuple[uuid.UUID, str, str, str]:
    workspace_id, data = unsign(session, token, CALLBACK_PURPOSE)
    if data != WECOM_CALLBACK:
        raise BadToken("this link is not valid")
    settings = wecom_settings(session, workspace_id)
    server_token, aes_key = settings.get("callback_token"), settings.get("callback_aes_key")
    if not server_token or not aes_key:
        raise CallbackNotConfigured("set the wecom channel's callback_token and callback_aes_key")
    return workspace_id, str(settings["corp_id"]), str(server_token), str(aes_key)


@router.get("/hooks/wecom/{token}", response_class=PlainTextResponse)
def verify_server(
    token: str, msg_signature: str, timestamp: str, nonce: str, echostr: str, session: ReadSession
) -> str:
    """WeCom checking the address: the echostr, decrypted, once its signature holds."""
    _ws, corp_id, server_token, aes_key = _corp(session, token)
    check_signature(msg_signature, server_token, timestamp, nonce, echostr)
    return decrypt(echostr, [aes_key], corp_id).decode()


@router.post("/hooks/wecom/{token}", response_class=PlainTextResponse)
def receive(
    token: str,
    body: Annotated[bytes, Depends(callback_body)],
    session: WriteSession,
    msg_signature: str,
    timestamp: str,
    nonce: str,
) -> str:
    """Check and open one event; contact changes are recorded. Answers an empty 200."""
    workspace_id, corp_id, server_token, aes_key = _corp(session, token)
    encrypted = read_xml(body).get("Encrypt")
    if not isinstance(encrypted, str) or not encrypted:
        raise BadCallbackXml("a WeCom callback has an <Encrypt> field")
    check_signature(msg_signature, server_token, timestamp, nonce, encrypted)
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > REPLAY_WINDOW_S:
        raise StaleCallback(f"the timestamp is not within {REPLAY_WINDOW_S} s of now")
    fields: dict[str, Any] = read_xml(decrypt(encrypted, [aes_key], corp_id))
    kind = str(fields.get("MsgType") or "").lower()
    event = str(fields.get("Event") or "").lower()
    if kind == "event" and event == "change_external_contact":
        contact_changed(session, workspace_id, corp_id, fields)
    return ""
