"""What the email tests share: a person and a message in the outbox, their signed links, and
an Outgoing as core's render step would build it (contract §4)."""

import uuid
from dataclasses import dataclass
from typing import Any

from leadpond.channels.models import Message, MessageStatus
from leadpond.channels.senders.base import Outgoing
from leadpond.db.engine import unit_of_work
from leadpond.kit.clock import utcnow
from leadpond.profiles.models import Person
from leadpond.workspaces.signing import sign, signer

PUBLIC = "http://testserver"
TEMPLATE = """<html><head>
<style>p {{ color: #333333; }} .cta {{ background: #0066cc; }}</style></head>
<body><p>您好 {name}，欢迎了解 {company}。</p>
<p><a class="cta" href="https://acme.cn/demo?who={pid}&amp;x=1">预约演示</a>
<a href="mailto:sales@acme.cn">写信给我们</a></p>
<p><a href="{unsubscribe}">退订</a></p></body></html>"""


@dataclass
class Sent:
    workspace_id: uuid.UUID
    person_id: int
    message_id: int
    outgoing: Outgoing


def new_message(
    workspace_id: uuid.UUID,
    *,
    address: str = "li.lei@example.cn",
    traits: dict[str, Any] | None = None,
    marketing: bool = True,
    sent: bool = True,
) -> Sent:
    """A person and an email message (``sent`` long enough ago not to look like a bot's)."""
    traits = traits or {"name": "李雷", "company": "韩梅梅科技", "email": address}
    with unit_of_work() as session:
        person = Person(workspace_id=workspace_id, traits=traits)
        session.add(person)
        session.flush()
        message = Message(
            workspace_id=workspace_id,
            person_id=person.id,
            channel="email",
            purpose="marketing" if marketing else "transactional",
            idempotency_key=f"test:{uuid.uuid4().hex}",
            status=MessageStatus.SENT.value if sent else MessageStatus.QUEUED.value,
            address=address,
            subject="欢迎",
            sent_at=utcnow().replace(year=utcnow().year - 1) if sent else None,
        )
        session.add(message)
        session.flush()
        unsubscribe = f"{PUBLIC}/u/" + sign(
            session, workspace_id, "unsubscribe", {"m": message.id, "p": person.id, "c": "email"}
        )
        pixel = f"{PUBLIC}/t/o/" + sign(session, workspace_id, "open", {"m": message.id}) + ".gif"
        click_signer = signer(session, workspace_id, "click")
        body = TEMPLATE.format(
            name=traits.get("name", ""),
            company=traits.get("company", ""),
            pid=person.id,
            unsubscribe=unsubscribe,
        )
        outgoing = Outgoing(
            message_id=message.id,
            workspace_id=workspace_id,
            idempotency_key=message.idempotency_key,
            address=address,
            subject=f"{traits.get('name', '')}，欢迎",
            body=body,
            extra={
                "marketing": marketing,
                "unsubscribe_url": unsubscribe,
                "open_pixel_url": pixel,
                "click_base_url": f"{PUBLIC}/t/c/",
                "click_signer": click_signer,
                "return_path": None,
                "headers": {},
            },
        )
        return Sent(workspace_id, person.id, message.id, outgoing)
