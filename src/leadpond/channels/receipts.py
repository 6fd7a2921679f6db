"""Public routes where SMS providers push delivery receipts.

The URL given to the provider's console carries a token signed for the workspace (purpose
"receipts", data ``{"c": "sms"}``): a stranger who does not know it cannot post receipts. Each
receipt is matched to its message by provider id and recorded by the outbox.
"""

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body
from sqlalchemy.orm import Session

from leadpond.channels.outbox import record_receipt
from leadpond.channels.receipt_reports import ACKNOWLEDGEMENTS, RECEIPT_READERS
from leadpond.config import get_settings
from leadpond.kit.http import WriteSession
from leadpond.workspaces.signing import BadToken, sign, unsign

RECEIPTS_PURPOSE = "receipts"
SMS_RECEIPTS = {"c": "sms"}
SmsProvider = Literal["aliyun", "tencent"]

receipts_router = APIRouter(tags=["channels"], include_in_schema=False)


def sms_receipts_url(session: Session, workspace_id: uuid.UUID, provider: SmsProvider) -> str:
    """The receipt URL to enter in the provider's console for this workspace."""
    token = sign(session, workspace_id, RECEIPTS_PURPOSE, SMS_RECEIPTS)
    return f"{get_settings().public_url.rstrip('/')}/hooks/sms/{provider}/{token}"


@receipts_router.post("/hooks/sms/{provider}/{token}")
def sms_receipts(
    provider: SmsProvider,
    token: str,
    reports: Annotated[list[Any], Body()],
    session: WriteSession,
) -> dict[str, Any]:
    """Record a batch of delivery receipts and answer as the provider expects."""
    workspace_id, data = unsign(session, token, RECEIPTS_PURPOSE)
    if data != SMS_RECEIPTS:
        raise BadToken("this link is not valid")
    for receipt in RECEIPT_READERS[provider](reports):
        record_receipt(
            session, workspace_id, "sms", receipt.provider_id, receipt.delivered, receipt.detail
        )
    return ACKNOWLEDGEMENTS[provider]
