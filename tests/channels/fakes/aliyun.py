"""A fake Alibaba Cloud SMS endpoint (dysmsapi 2017-05-25, RPC style) that checks signatures.

It verifies the v1 signature exactly as Aliyun documents it (sorted parameters, RFC 3986
percent-encoding with %20 and %2A, ``METHOD&%2F&<encoded query>``, HMAC-SHA1 keyed
``secret&``), refuses reused nonces and stale timestamps, and answers SendSms with ``OK`` and a
BizId, or with the next code queued in ``answers`` (an ``isv.*`` code or an HTTP status).
"""

import base64
import hashlib
import hmac
import json
import time
from calendar import timegm
from collections import deque
from typing import Any
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

ACCESS_KEY_ID = "LTAI-test-key"
ACCESS_KEY_SECRET = "test-secret"
COMMON = (
    "AccessKeyId",
    "Action",
    "Format",
    "RegionId",
    "SignatureMethod",
    "SignatureNonce",
    "SignatureVersion",
    "Timestamp",
    "Version",
)


def documented_signature(secret: str, method: str, params: dict[str, str]) -> str:
    """Aliyun's RPC signature v1, written from its documentation (help.aliyun.com 28839)."""

    def encode(text: str) -> str:
        # quote() keeps only unreserved characters (A-Z a-z 0-9 - _ . ~) with safe="".
        return quote(text.encode("utf-8"), safe="")

    canonical = "&".join(f"{encode(k)}={encode(v)}" for k, v in sorted(params.items()))
    string_to_sign = method + "&" + encode("/") + "&" + encode(canonical)
    key = (secret + "&").encode()
    return base64.b64encode(hmac.new(key, string_to_sign.encode(), hashlib.sha1).digest()).decode()


class FakeAliyun:
    """State of the fake: messages accepted, answers to give, nonces seen."""

    def __init__(self) -> None:
        self.sent: list[dict[str, str]] = []
        self.answers: deque[str | int] = deque()
        self.nonces: set[str] = set()
        self.app = Starlette(routes=[Route("/", self.endpoint, methods=["GET", "POST"])])

    async def endpoint(self, request: Request) -> JSONResponse:
        params = dict(request.query_params)
        if request.method == "POST":
            params.update({name: str(value) for name, value in (await request.form()).items()})
        refusal = self.refusal(request.method, params)
        if refusal is not None:
            return refusal
        answer = self.answers.popleft() if self.answers else "OK"
        if isinstance(answer, int):
            return JSONResponse({"Code": "ServiceUnavailable"}, status_code=answer)
        if answer != "OK":
            return JSONResponse({"Code": answer, "Message": answer, "RequestId": "r"})
        problem = self.send_sms_problem(params)
        if problem is not None:
            return JSONResponse({"Code": problem, "Message": problem, "RequestId": "r"})
        self.sent.append(params)
        biz_id = f"{900000 + len(self.sent)}^0"
        return JSONResponse({"Code": "OK", "Message": "OK", "BizId": biz_id, "RequestId": "r"})

    def refusal(self, method: str, params: dict[str, str]) -> JSONResponse | None:
        missing = [name for name in (*COMMON, "Signature") if not params.get(name)]
        if missing:
            return _error(400, "MissingParameter", f"missing {missing}")
        if params["AccessKeyId"] != ACCESS_KEY_ID:
            return _error(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
        unsigned = {k: v for k, v in params.items() if k != "Signature"}
        expected = documented_signature(ACCESS_KEY_SECRET, method, unsigned)
        if not hmac.compare_digest(expected, params["Signature"]):
            return _error(400, "SignatureDoesNotMatch", "Specified signature is not matched.")
        signed_at = timegm(time.strptime(params["Timestamp"], "%Y-%m-%dT%H:%M:%SZ"))
        if abs(time.time() - signed_at) > 900:
            return _error(400, "InvalidTimeStamp.Expired", "timestamp expired")
        if params["SignatureNonce"] in self.nonces:
            return _error(400, "SignatureNonceUsed", "nonce used")
        self.nonces.add(params["SignatureNonce"])
        if (params["Action"], params["Version"]) != ("SendSms", "2017-05-25"):
            return _error(400, "InvalidAction.NotFound", "no such action")
        return None

    @staticmethod
    def send_sms_problem(params: dict[str, str]) -> str | None:
        for name in ("PhoneNumbers", "SignName", "TemplateCode"):
            if not params.get(name):
                return "isv.INVALID_PARAMETERS"
        if not params["PhoneNumbers"].isdigit():
            return "isv.MOBILE_NUMBER_ILLEGAL"
        if "TemplateParam" in params:
            values: Any = json.loads(params["TemplateParam"])
            if not all(isinstance(value, str) for value in values.values()):
                return "isv.INVALID_JSON_PARAM"
        return None


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"Code": code, "Message": message, "RequestId": "r"}, status_code=status)
