"""WeChat web authorisation (网页授权), silent scope: inside WeChat, a reader of the viewer is
sent to ``open.weixin.qq.com/connect/oauth2/authorize`` with ``scope=snsapi_base`` and comes
back with a ``code``, which the server exchanges at ``/sns/oauth2/access_token`` (the
account's ``appid`` and ``secret``, ``grant_type=authorization_code``) for the reader's
``openid`` (and ``unionid`` when the account is bound to an Open Platform account). The
openid joins the reader to the identity graph (``wechat_openid``).

Only when the workspace has a WeChat official account configured (channels → wechat); any
failure is silent: the page is shown without the openid.
"""

import logging
import uuid
from dataclasses import dataclass
from urllib.parse import urlencode

import httpx
from sqlalchemy.orm import Session

from leadpond.channels.settings import get_channel

AUTHORIZE_URL = "https://open.weixin.qq.com/connect/oauth2/authorize"
DEFAULT_ENDPOINT = "https://api.weixin.qq.com"
TIMEOUT_S = 5.0
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OfficialAccount:
    app_id: str
    secret: str
    endpoint: str


@dataclass(frozen=True)
class WeChatReader:
    openid: str
    unionid: str | None


def in_wechat(user_agent: str) -> bool:
    """The page was opened in WeChat's browser."""
    return "MicroMessenger" in user_agent


def account_of(session: Session, workspace_id: uuid.UUID) -> OfficialAccount | None:
    """The workspace's official account (None: none configured, or switched off)."""
    row = get_channel(session, workspace_id, "wechat")
    if row is None or not row.enabled:
        return None
    settings = row.settings
    if not settings.get("app_id") or not settings.get("app_secret"):
        return None
    endpoint = str(settings.get("endpoint") or DEFAULT_ENDPOINT)
    return OfficialAccount(str(settings["app_id"]), str(settings["app_secret"]), endpoint)


def authorize_url(account: OfficialAccount, redirect_uri: str, state: str) -> str:
    """Where to send the reader for a silent authorisation (the fragment is required)."""
    query = urlencode(
        {
            "appid": account.app_id,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": "snsapi_base",
            "state": state,
        }
    )
    return f"{AUTHORIZE_URL}?{query}#wechat_redirect"


def exchange(account: OfficialAccount, code: str) -> WeChatReader | None:
    """The reader of an authorisation code, or None (a bad or used code, WeChat unreachable)."""
    query = {
        "appid": account.app_id,
        "secret": account.secret,
        "code": code,
        "grant_type": "authorization_code",
    }
    url = f"{account.endpoint.rstrip('/')}/sns/oauth2/access_token"
    try:
        with httpx.Client(timeout=TIMEOUT_S, follow_redirects=False) as client:
            answer = client.get(url, params=query)
        body = answer.json()
    except (httpx.HTTPError, ValueError) as exc:
        log.warning("WeChat code exchange failed: %s", exc)
        return None
    openid = body.get("openid") if isinstance(body, dict) else None
    if not isinstance(openid, str) or not openid:
        log.warning("WeChat code exchange refused: %s", body)
        return None
    unionid = body.get("unionid")
    return WeChatReader(openid, unionid if isinstance(unionid, str) and unionid else None)
