"""Channels fixtures: a scriptable test sender in place of the real ones, a deliverer on a clock
the test moves, and helpers to configure channels, save templates and send."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from leadpond.channels.deliverer import Deliverer
from leadpond.channels.senders.base import Outcome, Outgoing, Result
from leadpond.kit.clock import utcnow
from leadpond.workspaces.service import NewWorkspace
from tests.conftest import Tracker

SMTP = {"smtp_url": "smtp://user:s3cret@127.0.0.1:2525", "from": "线索池 <hi@leadpond.cn>"}
# Tomorrow 10:00 in Shanghai (02:00 UTC): after every message the test queues, outside any
# evening quiet hours.
START = (utcnow() + timedelta(days=1)).replace(hour=2, minute=0, second=0, microsecond=0)


@dataclass
class FakeSender:
    """Answers what the test scripted (SENT by default) and remembers what it was handed."""

    script: list[Result] = field(default_factory=list)
    handed: list[Outgoing] = field(default_factory=list)
    closed: int = 0

    def send(self, messages: Sequence[Outgoing]) -> list[Outcome]:
        outcomes = []
        for message in messages:
            self.handed.append(message)
            result = self.script.pop(0) if self.script else Result.SENT
            provider_id = f"p-{message.message_id}" if result == Result.SENT else None
            outcomes.append(Outcome(message.message_id, result, provider_id, detail=result.value))
        return outcomes

    def close(self) -> None:
        self.closed += 1


@dataclass
class Clock:
    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def sender() -> FakeSender:
    return FakeSender()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def deliverer(sender: FakeSender, clock: Clock, workspace: NewWorkspace) -> Deliverer:
    """A deliverer whose every provider is the test sender."""

    def factory(_settings: dict[str, Any]) -> FakeSender:
        return sender

    providers = ("smtp", "aliyun", "tencent", "app", "robot", "template", "http")
    channels = ("email", "sms", "wecom", "wechat", "webhook")
    return Deliverer(
        senders={(c, p): factory for c in channels for p in providers},
        clock=clock,
        lease_s=60,
        workspace_id=workspace.workspace_id,
    )


def person(track: Tracker, api: TestClient, user_id: str, **traits: Any) -> int:
    """Identify someone and answer their person id."""
    track.identify(user_id, traits=traits)
    items = api.get("/api/v1/people", params={"user_id": user_id}).json()["items"]
    assert len(items) == 1, items
    return int(items[0]["id"])


def set_channel(
    api: TestClient, channel: str, provider: str, settings: dict[str, Any], **more: Any
) -> None:
    response = api.put(
        f"/api/v1/channels/{channel}", json={"provider": provider, "settings": settings, **more}
    )
    assert response.status_code == 200, response.text


def template(api: TestClient, key: str, **parts: Any) -> dict[str, Any]:
    body = {
        "key": key,
        "channel": "email",
        "subject": "你好 {{ person.traits.name | default('朋友') }}",
        "body": "<p>Hi {{ person.traits.name }} of {{ account.name | default('your firm') }}</p>",
        **parts,
    }
    response = api.post("/api/v1/templates", json=body)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def send(api: TestClient, person_id: int, key: str, channel: str = "email", **more: Any) -> int:
    response = api.post(
        "/api/v1/sends", json={"channel": channel, "template": key, "person_id": person_id, **more}
    )
    assert response.status_code == 202, response.text
    return int(response.json()["message_id"])


def message(api: TestClient, message_id: int) -> dict[str, Any]:
    response = api.get(f"/api/v1/messages/{message_id}")
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


Send = Callable[..., int]
