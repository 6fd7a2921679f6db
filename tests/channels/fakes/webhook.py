"""A webhook receiver that checks what a receiver should: the HMAC signature over
``<timestamp>.<body>``, a recent timestamp, and de-duplication by ``Idempotency-Key``. It
answers the next status in ``answers`` (with a Retry-After when given) or 200."""

import hashlib
import hmac
import json
import time
from collections import deque
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

SECRET = "webhook-secret"
TOLERANCE_S = 300


def receiver_accepts(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """What a receiver does with a leadpond webhook: recompute the HMAC and compare."""
    timestamp = headers.get("x-leadpond-timestamp", "")
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > TOLERANCE_S:
        return False
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return hmac.compare_digest(
        f"sha256={expected.hexdigest()}", headers.get("x-leadpond-signature", "")
    )


class FakeReceiver:
    """State of the receiver: documents accepted (once per key), headers seen, answers."""

    def __init__(self) -> None:
        self.documents: dict[str, Any] = {}
        self.requests: list[dict[str, str]] = []
        self.answers: deque[tuple[int, str | None]] = deque()
        self.app = Starlette(routes=[Route("/{path:path}", self.receive, methods=["POST"])])

    async def receive(self, request: Request) -> Response:
        body = await request.body()
        headers = {name.lower(): value for name, value in request.headers.items()}
        self.requests.append(headers)
        if self.answers:
            status, retry_after = self.answers.popleft()
            extra = {"Retry-After": retry_after} if retry_after else {}
            return JSONResponse({"status": status}, status_code=status, headers=extra)
        if not receiver_accepts(SECRET, headers, body):
            return JSONResponse({"error": "bad signature"}, status_code=401)
        self.documents.setdefault(headers["idempotency-key"], json.loads(body))
        return JSONResponse({"ok": True})
