"""Calls to the WeChat and WeCom APIs acquisition makes: ``qrcode/create`` and ``user/info``
of the official account and ``externalcontact/add_contact_way`` of WeCom.

The channels' senders hold the credentials and the process-wide access tokens; these calls reuse
them (a refused token is fetched again and the call made once more, ``TokenedApi``). The API
answers a refusal with HTTP 200 and an ``errcode``: that becomes a 502 naming WeChat's code.
"""

from typing import Any

import httpx

from leadpond.channels.senders import wechat, wecom
from leadpond.channels.senders.base import Result
from leadpond.channels.senders.provider_http import is_server_trouble, provider_client
from leadpond.channels.senders.weixin_api import SYSTEM_BUSY, TokenedApi, TokenUnavailable
from leadpond.channels.tokens_cache import TokenKey
from leadpond.kit.errors import LeadpondError


class WeixinRefused(LeadpondError):
    """The provider answered with an error code (or could not be reached)."""

    status_code, code = 502, "provider_refused"


class WeixinBusy(WeixinRefused):
    """Worth trying again later: the provider was unreachable, answered 5xx, or -1 (busy)."""


def _call(
    api: TokenedApi,
    client: httpx.Client,
    path: str,
    body: dict[str, Any],
    query: dict[str, str] | None = None,
) -> dict[str, Any]:
    """POST ``body`` (or GET with ``query``) and the answer, or :class:`WeixinRefused`."""
    try:
        response = api.get(path, query) if query is not None else api.post(path, body)
    except TokenUnavailable as exc:
        if exc.result is Result.TEMPORARY:
            raise WeixinBusy(exc.detail) from exc
        raise WeixinRefused(exc.detail) from exc
    except httpx.HTTPError as exc:
        raise WeixinBusy(f"{path}: {type(exc).__name__}: {exc}") from exc
    finally:
        client.close()
    if is_server_trouble(response):
        raise WeixinBusy(f"{path}: HTTP {response.status_code}")
    try:
        answer = response.json()
    except ValueError as exc:
        raise WeixinRefused(f"{path}: HTTP {response.status_code}, not JSON") from exc
    if not isinstance(answer, dict) or answer.get("errcode", 0) != 0:
        code = answer.get("errcode") if isinstance(answer, dict) else None
        message = answer.get("errmsg", "") if isinstance(answer, dict) else ""
        refused = WeixinBusy if code == SYSTEM_BUSY else WeixinRefused
        raise refused(f"{path} refused: errcode {code} {message}".strip())
    return answer


def _official_account(settings: dict[str, Any]) -> tuple[TokenedApi, httpx.Client]:
    endpoint = str(settings.get("endpoint") or wechat.DEFAULT_ENDPOINT)
    app_id, secret = str(settings["app_id"]), str(settings["app_secret"])
    client = provider_client(settings)
    api = TokenedApi(
        client,
        endpoint,
        TokenKey(endpoint, app_id, secret),
        "/cgi-bin/token",
        {"grant_type": "client_credential", "appid": app_id, "secret": secret},
    )
    return api, client


def create_qrcode(settings: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """``cgi-bin/qrcode/create`` with the official account's token: ticket, url, expiry."""
    api, client = _official_account(settings)
    return _call(api, client, "/cgi-bin/qrcode/create", body)


def user_info(settings: dict[str, Any], openid: str) -> dict[str, Any]:
    """``cgi-bin/user/info`` of one follower: ``subscribe``, ``unionid`` (when the account is
    bound to an Open Platform account), ``subscribe_scene``, ``qr_scene_str``…"""
    api, client = _official_account(settings)
    return _call(api, client, "/cgi-bin/user/info", {}, {"openid": openid, "lang": "zh_CN"})


def add_contact_way(settings: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """``externalcontact/add_contact_way`` with the 客户联系 token: config_id, qr_code."""
    endpoint = str(settings.get("endpoint") or wecom.DEFAULT_ENDPOINT)
    corp_id = str(settings["corp_id"])
    secret = str(settings.get("contact_secret") or settings["corp_secret"])
    client = provider_client(settings)
    api = TokenedApi(
        client,
        endpoint,
        TokenKey(endpoint, corp_id, secret),
        "/cgi-bin/gettoken",
        {"corpid": corp_id, "corpsecret": secret},
    )
    return _call(api, client, "/cgi-bin/externalcontact/add_contact_way", body)
