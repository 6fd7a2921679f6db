"""What WeCom and WeChat share: calls with a cached access token, and ``errcode`` answers.

Both answer HTTP 200 with ``{"errcode": N, "errmsg": "…"}``; 0 is success. A refused token
(40001 not the latest, 40014 invalid, 42001 expired) is dropped from the process-wide cache and
the call is made once more with a fresh one.
"""

from collections.abc import Collection, Mapping
from typing import Any

import httpx

from leadpond.channels.senders.base import Outcome, Result
from leadpond.channels.senders.provider_http import is_server_trouble, server_trouble, unreadable
from leadpond.channels.tokens_cache import TokenKey, access_tokens

TOKEN_REFUSED = frozenset({40001, 40014, 42001})
SYSTEM_BUSY = -1


class TokenUnavailable(Exception):
    """No access token: the provider refused the credentials or could not be reached."""

    def __init__(self, result: Result, detail: str) -> None:
        super().__init__(detail)
        self.result = result
        self.detail = detail


class TokenedApi:
    """An account's API at one endpoint, called with its cached access token."""

    def __init__(
        self,
        client: httpx.Client,
        endpoint: str,
        key: TokenKey,
        token_path: str,
        token_query: Mapping[str, str],
    ) -> None:
        self._client = client
        self._endpoint = endpoint.rstrip("/")
        self._key = key
        self._token_path = token_path
        self._token_query = dict(token_query)

    def post(self, path: str, body: Mapping[str, Any]) -> httpx.Response:
        """POST ``body`` to ``path``; a refused token is replaced and the call made again once."""
        token = access_tokens.get(self._key, self._fetch_token)
        response = self._post(path, token, body)
        if errcode_of(response) in TOKEN_REFUSED:
            access_tokens.invalidate(self._key, token)
            response = self._post(path, access_tokens.get(self._key, self._fetch_token), body)
        return response

    def get(self, path: str, query: Mapping[str, str]) -> httpx.Response:
        """GET ``path`` with ``query``; a refused token is replaced and the call made again once."""
        token = access_tokens.get(self._key, self._fetch_token)
        response = self._get(path, token, query)
        if errcode_of(response) in TOKEN_REFUSED:
            access_tokens.invalidate(self._key, token)
            response = self._get(path, access_tokens.get(self._key, self._fetch_token), query)
        return response

    def _get(self, path: str, token: str, query: Mapping[str, str]) -> httpx.Response:
        return self._client.get(f"{self._endpoint}{path}", params={**query, "access_token": token})

    def _post(self, path: str, token: str, body: Mapping[str, Any]) -> httpx.Response:
        return self._client.post(
            f"{self._endpoint}{path}", params={"access_token": token}, json=dict(body)
        )

    def _fetch_token(self) -> tuple[str, float]:
        try:
            response = self._client.get(
                f"{self._endpoint}{self._token_path}", params=self._token_query
            )
        except httpx.HTTPError as exc:
            raise TokenUnavailable(Result.TEMPORARY, f"access token: {exc!r}") from exc
        if is_server_trouble(response):
            raise TokenUnavailable(Result.TEMPORARY, f"access token: HTTP {response.status_code}")
        answer = _json(response)
        token = answer.get("access_token")
        if isinstance(token, str) and token:
            return token, float(answer.get("expires_in") or 7200)
        detail = f"access token refused: {answer.get('errcode')} {answer.get('errmsg', '')}"
        busy = answer.get("errcode") == SYSTEM_BUSY
        raise TokenUnavailable(Result.TEMPORARY if busy else Result.PERMANENT, detail)


def errcode_of(response: httpx.Response) -> int | None:
    """The answer's ``errcode``, or None when it has none."""
    code = _json(response).get("errcode")
    return code if isinstance(code, int) else None


def errcode_outcome(
    message_id: int,
    response: httpx.Response,
    temporary: Collection[int],
    retry_after_s: float | None = None,
) -> Outcome:
    """SENT for errcode 0 (``msgid`` as provider id), TEMPORARY for ``temporary`` codes (and
    HTTP 5xx/429), PERMANENT for every other code."""
    trouble = server_trouble(message_id, response)
    if trouble is not None:
        return trouble
    answer = _json(response)
    code = answer.get("errcode")
    detail = f"{code}: {answer.get('errmsg', '')}"
    if code == 0:
        msgid = answer.get("msgid")
        provider_id = None if msgid in (None, "") else str(msgid)
        return Outcome(message_id, Result.SENT, provider_id=provider_id, detail=detail)
    if code in temporary:
        return Outcome(message_id, Result.TEMPORARY, detail=detail, retry_after_s=retry_after_s)
    if code is None:
        detail = unreadable(response)
    return Outcome(message_id, Result.PERMANENT, detail=detail)


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        answer = response.json()
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}


def fits(text: str, max_bytes: int, what: str) -> str:
    """``text`` when its UTF-8 form is at most ``max_bytes``, else ValueError saying so."""
    size = len(text.encode())
    if size > max_bytes:
        raise ValueError(f"{what} is {size} bytes, the provider takes at most {max_bytes}")
    return text
