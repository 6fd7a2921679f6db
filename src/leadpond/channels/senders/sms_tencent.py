"""Tencent Cloud SMS (API 3.0, SendSms, Version 2021-01-11), signed with TC3-HMAC-SHA256.

One call per message (template parameters and ``SessionContext`` are per call); the idempotency
key rides as ``SessionContext`` and comes back in the answer. Per-number ``Code`` "Ok" (mixed
case, unlike Aliyun) is accepted with its ``SerialNo``; rate limits (``LimitExceeded.*``),
internal errors, HTTP 5xx and timeouts are temporary; bad numbers, templates, signatures,
balance and authentication are permanent.
"""

import hashlib
import hmac
import json
import time
from collections.abc import Sequence
from typing import Any

import httpx

from leadpond.channels.senders.base import Outcome, Outgoing, Result
from leadpond.channels.senders.provider_http import (
    provider_client,
    server_trouble,
    unreachable,
)
from leadpond.channels.senders.sms import template_values

DEFAULT_ENDPOINT = "https://sms.tencentcloudapi.com"
SERVICE = "sms"
API_VERSION = "2021-01-11"
ALGORITHM = "TC3-HMAC-SHA256"
CONTENT_TYPE = "application/json; charset=utf-8"
SESSION_CONTEXT_MAX_BYTES = 512
# When a temporary error code says the provider takes the number again.
RETRY_AFTER_S = {
    "LimitExceeded.PhoneNumberThirtySecondLimit": 30.0,
    "LimitExceeded.PhoneNumberOneHourLimit": 3600.0,
    "LimitExceeded.PhoneNumberDailyLimit": 3600.0,
}
TEMPORARY_PREFIXES = ("LimitExceeded.", "InternalError", "RequestLimitExceeded")


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def tc3_authorization(
    secret_id: str,
    secret_key: str,
    *,
    headers: dict[str, str],
    payload: bytes,
    timestamp: int,
    service: str = SERVICE,
) -> str:
    """The ``Authorization`` header of a POST to ``/`` with ``headers`` signed (TC3-HMAC-SHA256).

    Canonical request: method, URI "/", empty query, the signed headers as lowercase
    ``name:value`` lines (names sorted), their names joined by ";", the hex SHA-256 of the body.
    The key is derived as HMAC("TC3"+key, date) → service → "tc3_request".
    """
    names = sorted(name.lower() for name in headers)
    values = {name.lower(): value.strip().lower() for name, value in headers.items()}
    canonical_headers = "".join(f"{name}:{values[name]}\n" for name in names)
    signed_headers = ";".join(names)
    canonical_request = "\n".join(
        ["POST", "/", "", canonical_headers, signed_headers, hashlib.sha256(payload).hexdigest()]
    )
    date = time.strftime("%Y-%m-%d", time.gmtime(timestamp))
    scope = f"{date}/{service}/tc3_request"
    string_to_sign = "\n".join(
        [ALGORITHM, str(timestamp), scope, hashlib.sha256(canonical_request.encode()).hexdigest()]
    )
    key = _hmac(_hmac(_hmac(f"TC3{secret_key}".encode(), date), service), "tc3_request")
    signature = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    return (
        f"{ALGORITHM} Credential={secret_id}/{scope}, "
        f"SignedHeaders={signed_headers}, Signature={signature}"
    )


class TencentSmsSender:
    """Sends SMS through Tencent Cloud, one signed SendSms call per message."""

    def __init__(self, settings: dict[str, Any]) -> None:
        self._secret_id = str(settings["secret_id"])
        self._secret_key = str(settings["secret_key"])
        self._app_id = str(settings["sdk_app_id"])
        self._sign_name = str(settings["sign_name"])
        self._region = str(settings.get("region") or "ap-guangzhou")
        self._url = httpx.URL(str(settings.get("endpoint") or DEFAULT_ENDPOINT))
        self._client = provider_client(settings)

    def send(self, messages: Sequence[Outgoing]) -> list[Outcome]:
        """One outcome per message, each from its own SendSms call."""
        return [self._send_one(message) for message in messages]

    def close(self) -> None:
        """Close the HTTP client."""
        self._client.close()

    def _send_one(self, message: Outgoing) -> Outcome:
        if not message.provider_template:
            return Outcome(message.message_id, Result.PERMANENT, detail="no TemplateId")
        try:
            payload = json.dumps(self._request(message), ensure_ascii=False).encode()
        except ValueError as exc:
            return Outcome(message.message_id, Result.PERMANENT, detail=str(exc))
        try:
            response = self._client.post(self._url, content=payload, headers=self._headers(payload))
        except httpx.HTTPError as exc:
            return unreachable(message.message_id, exc)
        return answer_outcome(message.message_id, response)

    def _request(self, message: Outgoing) -> dict[str, Any]:
        context = message.idempotency_key.encode()[:SESSION_CONTEXT_MAX_BYTES]
        values = template_values(message.extra.get("params"))
        return {
            "PhoneNumberSet": [message.address],
            "SmsSdkAppId": self._app_id,
            "SignName": self._sign_name,
            "TemplateId": str(message.provider_template),
            "TemplateParamSet": [value for _, value in values],
            "SessionContext": context.decode(errors="ignore"),
        }

    def _headers(self, payload: bytes) -> dict[str, str]:
        timestamp = int(time.time())
        signed = {
            "Content-Type": CONTENT_TYPE,
            "Host": self._url.netloc.decode(),
            "X-TC-Action": "SendSms",
        }
        authorization = tc3_authorization(
            self._secret_id, self._secret_key, headers=signed, payload=payload, timestamp=timestamp
        )
        return {
            **signed,
            "Authorization": authorization,
            "X-TC-Timestamp": str(timestamp),
            "X-TC-Version": API_VERSION,
            "X-TC-Region": self._region,
        }


def answer_outcome(message_id: int, response: httpx.Response) -> Outcome:
    """What Tencent's answer to one SendSms (one number) means for the message."""
    trouble = server_trouble(message_id, response)
    if trouble is not None:
        return trouble
    try:
        answer = response.json()["Response"]
        error = answer.get("Error")
        status = error or answer["SendStatusSet"][0]
        code, text = str(status["Code"]), str(status.get("Message", ""))
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        return Outcome(
            message_id, Result.PERMANENT, detail=f"unreadable answer: {response.text[:200]}"
        )
    detail = f"{code}: {text}"
    if code == "Ok" and not error:
        return Outcome(message_id, Result.SENT, provider_id=str(status["SerialNo"]), detail=detail)
    if code.startswith(TEMPORARY_PREFIXES):
        return Outcome(
            message_id, Result.TEMPORARY, detail=detail, retry_after_s=RETRY_AFTER_S.get(code)
        )
    return Outcome(message_id, Result.PERMANENT, detail=detail)
