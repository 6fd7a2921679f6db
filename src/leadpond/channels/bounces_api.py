"""``POST /api/v1/bounces``: a DSN (the raw ``message/rfc822``) from the relay's bounce mailbox."""

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool

from leadpond.channels import bounces
from leadpond.db.engine import unit_of_work
from leadpond.kit.errors import InvalidInput, PayloadTooLarge
from leadpond.users.permissions import ChannelsWrite

router = APIRouter(prefix="/api/v1", tags=["channels"])

# A DSN returns at most the original message: a few MB is plenty.
MAX_DSN_BYTES = 10 * 1024 * 1024
_RAW_BODY = {
    "requestBody": {
        "required": True,
        "content": {"message/rfc822": {"schema": {"type": "string", "format": "binary"}}},
    }
}


def _process(raw: bytes, workspace_id: uuid.UUID) -> dict[str, Any]:
    with unit_of_work() as session:
        return bounces.process_dsn(session, raw, workspace_id).to_body()


@router.post("/bounces", openapi_extra=_RAW_BODY, summary="Apply a bounce (DSN) to its message")
async def post_bounce(request: Request, actor: ChannelsWrite) -> dict[str, Any]:
    """A hard bounce marks the message bounced and suppresses the address; a soft one is
    history only. Answers what was found (``kind``: hard, policy, soft, not_a_bounce,
    unknown_message)."""
    raw = await request.body()
    if len(raw) > MAX_DSN_BYTES:
        raise PayloadTooLarge(f"a DSN may hold at most {MAX_DSN_BYTES} bytes")
    if not raw.strip():
        raise InvalidInput("send the DSN as the request body (message/rfc822)")
    return await run_in_threadpool(_process, raw, actor.workspace_id)
