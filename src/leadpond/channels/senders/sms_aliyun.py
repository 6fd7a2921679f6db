"""Alibaba Cloud SMS (dysmsapi 2017-05-25): SendSms, one call per message, RPC signature v1.

Sends are not idempotent at Aliyun: a message is handed over once (``OutId`` carries our message
id back in delivery receipts). Answers: ``Code`` "OK" is accepted (``BizId`` is the provider id);
``isv.BUSINESS_LIMIT_CONTROL`` (the number's rate limit), ``isp.SYSTEM_ERROR``, throttling, HTTP
5xx and timeouts are temporary; every other ``isv.*`` code (bad number, template, signature,
balance) and an authentication refusal are permanent.
"""

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

import httpx

from leadpond.channels.senders.base import Outcome, Outgoing, Result
from leadpond.channels.senders.provider_http import (
    provider_client,
    server_trouble,
    unreachable,
)
from leadpond.channels.senders.sms import template_values

DEFAULT_ENDPOINT = "https://dysmsapi.aliyuncs.com"
API_VERSION = "2017-05-25"
# The per-number limit answers within a minute (Aliyun: 1/min, 5/h, 10/day by default).
BUSINESS_LIMIT_RETRY_S = 60.0
TEMPORARY_CODES = frozenset({"isv.BUSINESS_LIMIT_CONTROL", "isp.SYSTEM_ERROR", "Throttling.User"})


def percent_encode(text: str) -> str:
    """Aliyun's RPC encoding: UTF-8, only ``A–Z a–z 0–9 - _ . ~`` kept (space → %20, * → %2A)."""
    return quote(text, safe="~")


def rpc_signature(secret: str, method: str, params: Mapping[str, str]) -> str:
    """Signature v1: base64 HMAC-SHA1 (key ``secret&``) of ``METHOD&%2F&<encoded sorted query>``."""
    query = "&".join(
        f"{percent_encode(name)}={percent_encode(params[name])}" for name in sorted(params)
    )
    string_to_sign = f"{method}&{percent_encode('/')}&{percent_encode(query)}"
    digest = hmac.new(f"{secret}&".encode(), string_to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


class AliyunSmsSender:
    """Sends SMS through Aliyun, one signed SendSms call per message."""

    def __init__(self, settings: dict[str, Any]) -> None:
        self._key_id = str(settings["access_key_id"])
        self._secret = str(settings["access_key_secret"])
        self._sign_name = str(settings["sign_name"])
        self._region = str(settings.get("region_id") or "cn-hangzhou")
        self._url = str(settings.get("endpoint") or DEFAULT_ENDPOINT).rstrip("/") + "/"
        self._client = provider_client(settings)

    def send(self, messages: Sequence[Outgoing]) -> list[Outcome]:
        """One outcome per message, each from its own SendSms call."""
        return [self._send_one(message) for message in messages]

    def close(self) -> None:
        """Close the HTTP client."""
        self._client.close()

    def _send_one(self, message: Outgoing) -> Outcome:
        if not message.provider_template:
            return Outcome(message.message_id, Result.PERMANENT, detail="no TemplateCode")
        try:
            params = self._signed(self._send_sms(message))
        except ValueError as exc:
            return Outcome(message.message_id, Result.PERMANENT, detail=str(exc))
        try:
            response = self._client.post(self._url, data=params)
        except httpx.HTTPError as exc:
            return unreachable(message.message_id, exc)
        return answer_outcome(message.message_id, response)

    def _send_sms(self, message: Outgoing) -> dict[str, str]:
        params = {
            "Action": "SendSms",
            # Aliyun takes the country code without "+" (86 optional for mainland numbers).
            "PhoneNumbers": message.address.removeprefix("+"),
            "SignName": self._sign_name,
            "TemplateCode": str(message.provider_template),
            "OutId": str(message.extra.get("out_id") or message.message_id),
        }
        values = template_values(message.extra.get("params"))
        if values:
            # Values must be strings (isv.INVALID_JSON_PARAM otherwise).
            params["TemplateParam"] = json.dumps(dict(values), ensure_ascii=False)
        return params

    def _signed(self, params: dict[str, str]) -> dict[str, str]:
        common = {
            "AccessKeyId": self._key_id,
            "Format": "JSON",
            "RegionId": self._region,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": uuid.uuid4().hex,
            "SignatureVersion": "1.0",
            "Timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "Version": API_VERSION,
        }
        signed = {**common, **params}
        signed["Signature"] = rpc_signature(self._secret, "POST", signed)
        return signed


def answer_outcome(message_id: int, response: httpx.Response) -> Outcome:
    """What Aliyun's answer to one SendSms means for the message."""
    trouble = server_trouble(message_id, response)
    if trouble is not None:
        return trouble
    try:
        answer = response.json()
        code = str(answer.get("Code", ""))
    except (ValueError, AttributeError):
        return Outcome(
            message_id, Result.PERMANENT, detail=f"unreadable answer: {response.text[:200]}"
        )
    detail = f"{code}: {answer.get('Message', '')}"
    if code == "OK":
        return Outcome(message_id, Result.SENT, provider_id=str(answer.get("BizId")), detail=detail)
    if code == "isv.BUSINESS_LIMIT_CONTROL":
        return Outcome(
            message_id, Result.TEMPORARY, detail=detail, retry_after_s=BUSINESS_LIMIT_RETRY_S
        )
    if code in TEMPORARY_CODES or code.startswith("Throttling"):
        return Outcome(message_id, Result.TEMPORARY, detail=detail)
    return Outcome(message_id, Result.PERMANENT, detail=detail)
