"""A fake Tencent Cloud SMS endpoint (API 3.0 SendSms, 2021-01-11) that checks TC3 signatures.

The TC3-HMAC-SHA256 check is written from Tencent's documented algorithm (cloud.tencent.com
document/api/382/52072): canonical request from the headers the client says it signed, credential
scope ``<date>/sms/tc3_request`` matching ``X-TC-Timestamp``, keys derived date → service →
"tc3_request". Per-number answers: "Ok" with a SerialNo, or the next code in ``answers``.
"""

import hashlib
import hmac
import json
import re
import time
from collections import deque
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

SECRET_ID = "AKID-test"
SECRET_KEY = "tencent-test-key"
AUTHORIZATION = re.compile(
    r"TC3-HMAC-SHA256 Credential=(?P<id>[^/]+)/(?P<date>\d{4}-\d\d-\d\d)/(?P<service>[^/]+)"
    r"/tc3_request, SignedHeaders=(?P<headers>[a-z0-9;-]+), Signature=(?P<signature>[0-9a-f]{64})"
)


def _sign(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).digest()


def documented_signature(
    request_headers: dict[str, str],
    signed: list[str],
    body: bytes,
    timestamp: str,
    date: str,
    service: str,
) -> str:
    """Tencent's TC3 signature of a POST to "/" as its documentation spells it out."""
    canonical_headers = "".join(
        f"{name}:{request_headers[name].strip().lower()}\n" for name in signed
    )
    canonical_request = (
        "POST\n/\n\n"
        + canonical_headers
        + "\n"
        + ";".join(signed)
        + "\n"
        + hashlib.sha256(body).hexdigest()
    )
    scope = f"{date}/{service}/tc3_request"
    string_to_sign = (
        "TC3-HMAC-SHA256\n"
        + timestamp
        + "\n"
        + scope
        + "\n"
        + hashlib.sha256(canonical_request.encode("utf-8")).hexdigest()
    )
    secret_date = _sign(("TC3" + SECRET_KEY).encode("utf-8"), date)
    secret_signing = _sign(_sign(secret_date, service), "tc3_request")
    return hmac.new(secret_signing, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


class FakeTencent:
    """State of the fake: requests accepted and per-number answers to give."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.answers: deque[str | int] = deque()
        self.app = Starlette(routes=[Route("/", self.endpoint, methods=["POST"])])

    async def endpoint(self, request: Request) -> JSONResponse:
        body = await request.body()
        headers = {name.lower(): value for name, value in request.headers.items()}
        problem = self.auth_problem(headers, body)
        if problem is not None:
            return _error(*problem)
        answer = self.answers.popleft() if self.answers else "Ok"
        if isinstance(answer, int):
            return JSONResponse({"message": "down"}, status_code=answer)
        request_body = json.loads(body)
        if answer == "Ok":
            self.sent.append(request_body)
        statuses = [
            {
                "SerialNo": f"2433:{len(self.sent)}" if answer == "Ok" else "",
                "PhoneNumber": number,
                "Fee": 1 if answer == "Ok" else 0,
                "SessionContext": request_body.get("SessionContext", ""),
                "Code": answer,
                "Message": "send success" if answer == "Ok" else answer,
                "IsoCode": "CN",
            }
            for number in request_body["PhoneNumberSet"]
        ]
        return JSONResponse({"Response": {"SendStatusSet": statuses, "RequestId": "r"}})

    @staticmethod
    def auth_problem(headers: dict[str, str], body: bytes) -> tuple[str, str] | None:
        found = AUTHORIZATION.fullmatch(headers.get("authorization", ""))
        if found is None:
            return "AuthFailure.SignatureFailure", "malformed Authorization"
        if found["id"] != SECRET_ID:
            return "AuthFailure.SecretIdNotFound", "unknown SecretId"
        timestamp = headers.get("x-tc-timestamp", "")
        if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > 300:
            return "AuthFailure.SignatureExpire", "signature expired"
        if time.strftime("%Y-%m-%d", time.gmtime(int(timestamp))) != found["date"]:
            return "AuthFailure.SignatureFailure", "scope date is not the timestamp's"
        signed = found["headers"].split(";")
        if signed != sorted(signed) or not {"content-type", "host"} <= set(signed):
            return "AuthFailure.SignatureFailure", "content-type and host must be signed"
        if any(name not in headers for name in signed):
            return "AuthFailure.SignatureFailure", "a signed header is missing"
        expected = documented_signature(
            headers, signed, body, timestamp, found["date"], found["service"]
        )
        if found["service"] != "sms" or not hmac.compare_digest(expected, found["signature"]):
            return "AuthFailure.SignatureFailure", "signature mismatch"
        wanted = {"x-tc-action": "SendSms", "x-tc-version": "2021-01-11"}
        if any(headers.get(name) != value for name, value in wanted.items()):
            return "InvalidAction", "not SendSms 2021-01-11"
        if not headers.get("x-tc-region"):
            return "MissingParameter", "X-TC-Region"
        return None


def _error(code: str, message: str) -> JSONResponse:
    return JSONResponse(
        {"Response": {"Error": {"Code": code, "Message": message}, "RequestId": "r"}}
    )
