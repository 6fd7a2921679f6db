"""The public receipt routes, end to end on both databases: a signed URL per workspace, receipts
matched to messages by provider id. Needs core's outbox (``record_receipt``): runs once the
channels branches are merged."""

import uuid
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

pytest.importorskip("leadpond.channels.outbox")

from leadpond.channels.models import Message
from leadpond.channels.receipts import SmsProvider, receipts_router, sms_receipts_url
from leadpond.db.engine import unit_of_work
from leadpond.kit.http import install_error_handlers
from leadpond.workspaces.signing import sign


@pytest.fixture
def hooks(backend: str) -> Iterator[TestClient]:
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(receipts_router)
    with TestClient(app) as client:
        yield client


def sent_message(workspace_id: uuid.UUID, provider_id: str) -> int:
    with unit_of_work() as session:
        message = Message(
            workspace_id=workspace_id,
            channel="sms",
            purpose="transactional",
            idempotency_key=f"receipt:{provider_id}",
            status="sent",
            address="+8613800000001",
            provider_id=provider_id,
        )
        session.add(message)
        session.flush()
        return message.id


def status_of(message_id: int) -> str:
    with unit_of_work() as session:
        return session.scalars(select(Message.status).where(Message.id == message_id)).one()


def path_of(workspace_id: uuid.UUID, provider: SmsProvider) -> str:
    with unit_of_work() as session:
        return "/" + sms_receipts_url(session, workspace_id, provider).split("/", 3)[3]


def test_aliyun_receipts_mark_messages_delivered_or_bounced(hooks, workspace) -> None:
    ws = workspace.workspace_id
    delivered, lost = sent_message(ws, "800001^0"), sent_message(ws, "800002^0")
    answer = hooks.post(
        path_of(ws, "aliyun"),
        json=[
            {"biz_id": "800001^0", "success": True, "err_code": "DELIVERED"},
            {"biz_id": "800002^0", "success": False, "err_code": "MK:0001"},
        ],
    )
    assert answer.status_code == 200 and answer.json() == {"code": 0, "msg": "接收成功"}
    assert (status_of(delivered), status_of(lost)) == ("delivered", "bounced")


def test_tencent_receipts_answer_result_zero(hooks, workspace) -> None:
    ws = workspace.workspace_id
    message = sent_message(ws, "2433:77")
    answer = hooks.post(
        path_of(ws, "tencent"), json=[{"sid": "2433:77", "report_status": "SUCCESS"}]
    )
    assert answer.json() == {"result": 0, "errmsg": "OK"}
    assert status_of(message) == "delivered"


def test_a_stranger_cannot_post_receipts(hooks, workspace) -> None:
    ws = workspace.workspace_id
    message = sent_message(ws, "800009^0")
    with unit_of_work() as session:
        wrong_purpose = sign(session, ws, "click", {"c": "sms"})
    for path in (f"/hooks/sms/aliyun/{ws.hex}.forged", f"/hooks/sms/aliyun/{wrong_purpose}"):
        answer = hooks.post(path, json=[{"biz_id": "800009^0", "success": True}])
        assert answer.status_code == 404 and answer.json()["code"] == "link_not_found"
    assert status_of(message) == "sent"
