"""Messages as core's deliverer hands them to a sender."""

import uuid
from typing import Any

from leadpond.channels.senders.base import Outgoing


def outgoing(message_id: int, address: str, **fields: Any) -> Outgoing:
    """A rendered message with defaults for what a test does not care about."""
    values: dict[str, Any] = {
        "workspace_id": uuid.UUID(int=1),
        "idempotency_key": f"test:{message_id}",
        "subject": None,
        "body": "",
        **fields,
    }
    return Outgoing(message_id=message_id, address=address, **values)
