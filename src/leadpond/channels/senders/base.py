"""What every sender takes and answers: rendered messages in, one outcome per message out.

A sender talks to one provider with the workspace's settings. It never touches the database: the
deliverer claims messages, renders them, hands them over in a batch and records the outcomes.
It must not raise for one bad message; it answers that message's outcome and goes on.
"""

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol


class Result(StrEnum):
    SENT = "sent"  # the provider accepted it
    TEMPORARY = "temporary"  # try again later (timeout, rate limit, 4xx SMTP, 5xx HTTP)
    PERMANENT = "permanent"  # never retry (bad address, rejected template, 5xx SMTP)


@dataclass(frozen=True)
class Outgoing:
    """A message ready to leave: addressed, rendered, with its idempotency key for providers
    that de-duplicate (Message-ID, OutId/SessionContext, client_msg_id, duplicate check)."""

    message_id: int
    workspace_id: uuid.UUID
    idempotency_key: str
    address: str
    subject: str | None
    body: str
    text_body: str | None = None
    provider_template: str | None = None
    # Channel-specific parts: email headers (List-Unsubscribe…), SMS template parameters,
    # WeChat template data, a webhook's JSON document.
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    message_id: int
    result: Result
    provider_id: str | None = None
    # The provider's answer or the error, for the message's history.
    detail: str = ""
    # For a temporary failure: when the provider asked to be tried again, in seconds.
    retry_after_s: float | None = None


class Sender(Protocol):
    """Sends a batch through one provider; one outcome per message, in any order."""

    def send(self, messages: Sequence[Outgoing]) -> list[Outcome]: ...

    def close(self) -> None:
        """Release connections (SMTP pool, HTTP client)."""
