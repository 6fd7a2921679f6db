"""Fixtures for the channel senders: fake providers served on loopback, a clean token cache."""

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from leadpond.channels.senders.base import Outgoing
from leadpond.channels.tokens_cache import access_tokens


@pytest.fixture(autouse=True)
def fresh_tokens() -> Iterator[None]:
    """Each test starts with no cached WeCom/WeChat token."""
    access_tokens.clear()
    yield
    access_tokens.clear()


def outgoing(message_id: int, address: str, **fields: Any) -> Outgoing:
    """A rendered message as core's deliverer hands it to a sender."""
    values: dict[str, Any] = {
        "workspace_id": uuid.UUID(int=1),
        "idempotency_key": f"test:{message_id}",
        "subject": None,
        "body": "",
        **fields,
    }
    return Outgoing(message_id=message_id, address=address, **values)
