"""DSNs: parsed right (hard 5.1.1, soft 4.2.2, policy 5.7.1, a pre-RFC 3464 qmail notice) and
applied to their message through the API and the CLI."""

import uuid
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from leadpond.channels import bounces_cli
from leadpond.channels.bounces import parse_dsn
from leadpond.channels.email_mime import rfc_message_id
from leadpond.channels.models import Message, MessageEvent, SuppressedAddress
from leadpond.db.engine import read_only
from leadpond.kit.scope import owned
from leadpond.workspaces.service import NewWorkspace
from tests.channels.email_fixtures import Sent, new_message

DSN = Path(__file__).parent / "dsn"


def _dsn(name: str, sent: Sent | None = None, address: str = "li.lei@example.cn") -> bytes:
    text = (DSN / name).read_text()
    message_id = sent.message_id if sent else 77
    key = sent.outgoing.idempotency_key if sent else "k"
    workspace = sent.workspace_id if sent else "w"
    values = {
        "{MESSAGE_ID}": str(message_id),
        "{ADDRESS}": address,
        "{RFC_MESSAGE_ID}": rfc_message_id(workspace, key, message_id, "acme.cn"),
    }
    for placeholder, value in values.items():
        text = text.replace(placeholder, value)
    return text.replace("\n", "\r\n").encode()


def test_the_three_statuses_are_read_from_the_delivery_status_part() -> None:
    hard = parse_dsn(_dsn("hard_5_1_1.eml"))
    assert [(f.address, f.status, f.action, f.kind) for f in hard.failures] == [
        ("li.lei@example.cn", "5.1.1", "failed", "hard")
    ]
    assert "User unknown" in hard.failures[0].diagnostic
    assert hard.verp_message_id == 77 and hard.original_message_id == 77
    soft = parse_dsn(_dsn("soft_4_2_2.eml"))
    assert [(f.status, f.action, f.kind) for f in soft.failures] == [("4.2.2", "delayed", "soft")]
    assert soft.verp_message_id is None and soft.original_message_id == 77
    policy = parse_dsn(_dsn("policy_5_7_1.eml"))
    assert [(f.status, f.kind) for f in policy.failures] == [("5.7.1", "policy")]
    assert policy.envelope_id == "77" and policy.original_message_id is None


def test_a_notice_without_a_delivery_status_part_is_read_by_flufl_bounce() -> None:
    dsn = parse_dsn(_dsn("qmail_hard.eml"))
    assert [(f.address, f.kind) for f in dsn.failures] == [("li.lei@example.cn", "hard")]
    assert dsn.verp_message_id == 77


def _state(sent: Sent) -> tuple[str, list[str], list[str]]:
    with read_only() as session:
        message = session.get(Message, sent.message_id)
        assert message is not None
        kinds = session.scalars(
            select(MessageEvent.kind).where(
                owned(MessageEvent, sent.workspace_id), MessageEvent.message_id == sent.message_id
            )
        ).all()
        suppressed = session.scalars(
            select(SuppressedAddress.address).where(owned(SuppressedAddress, sent.workspace_id))
        ).all()
        return message.status, list(kinds), list(suppressed)


def _post(api: TestClient, raw: bytes) -> dict[str, Any]:
    answer = api.post("/api/v1/bounces", content=raw, headers={"Content-Type": "message/rfc822"})
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def test_a_hard_bounce_suppresses_the_address(api: TestClient, workspace: NewWorkspace) -> None:
    sent = new_message(workspace.workspace_id)
    report = _post(api, _dsn("hard_5_1_1.eml", sent))
    assert report == {
        "message_id": sent.message_id,
        "kind": "hard",
        "address": "li.lei@example.cn",
        "status": "5.1.1",
        "suppressed": True,
    }
    assert _state(sent) == ("bounced", ["bounced"], ["li.lei@example.cn"])


def test_a_soft_bounce_is_history_only(api: TestClient, workspace: NewWorkspace) -> None:
    sent = new_message(workspace.workspace_id)
    assert _post(api, _dsn("soft_4_2_2.eml", sent))["kind"] == "soft"
    assert _state(sent) == ("sent", ["deferred"], [])


def test_a_policy_refusal_bounces_the_message_but_keeps_the_address(
    api: TestClient, workspace: NewWorkspace
) -> None:
    sent = new_message(workspace.workspace_id)
    assert _post(api, _dsn("policy_5_7_1.eml", sent))["kind"] == "policy"
    assert _state(sent) == ("bounced", ["bounced"], [])


def test_another_workspaces_message_is_not_touched(
    api: TestClient, workspace: NewWorkspace
) -> None:
    from leadpond.db.engine import unit_of_work
    from leadpond.playbooks.service import start_workspace

    with unit_of_work() as session:
        other = start_workspace(session, f"other-{uuid.uuid4().hex[:8]}")
    sent = new_message(other.workspace_id)
    assert _post(api, _dsn("hard_5_1_1.eml", sent))["kind"] == "unknown_message"
    assert _state(sent) == ("sent", [], [])


def test_the_cli_applies_dsn_files(workspace: NewWorkspace, tmp_path: Path) -> None:
    sent = new_message(workspace.workspace_id)
    dsn = tmp_path / "bounce.eml"
    dsn.write_bytes(_dsn("hard_5_1_1.eml", sent))
    result = CliRunner().invoke(
        bounces_cli.app, ["bounces", str(dsn), "--workspace", str(workspace.workspace_id)]
    )
    assert result.exit_code == 0, result.output
    assert '"kind": "hard"' in result.output
    assert _state(sent)[0] == "bounced"
