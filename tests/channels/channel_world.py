"""A history of channel and site events played in a fresh workspace, and the whole state it
leaves, named alike in every workspace (``tests/channels/test_event_shapes.py``).

A :class:`Step` happens the way production makes it happen: a message is queued in the outbox
and sent by a deliverer (its sender a fake), a reader follows a signed link (the tracking
service, at the step's time), the SMS provider posts a receipt to the hook, the site calls the
tracking API. :func:`state_of` names a workspace's own ids (messages, people) by what the test
called them, and times stamped on arrival (a receipt, a subscription change) ``<arrival>``:
they are when the test ran, not part of the history.
"""

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from importlib import resources
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from leadpond.channels import outbox, tracking
from leadpond.channels.deliverer import Deliverer
from leadpond.channels.links import CLICK, OPEN, UNSUBSCRIBE
from leadpond.channels.models import Message, MessageEvent, MessageTemplate, Subscription
from leadpond.channels.receipts import sms_receipts_url
from leadpond.db.engine import read_only, unit_of_work
from leadpond.ingest.models import MESSAGE_SOURCE, Event
from leadpond.kit import yaml
from leadpond.kit.clock import isoformat, utcnow
from leadpond.kit.scope import owned
from leadpond.pipeline import worker
from leadpond.pipeline.fingerprint import Snapshot, snapshot
from leadpond.playbooks.service import apply_playbook, start_workspace
from leadpond.workspaces.service import NewWorkspace
from leadpond.workspaces.signing import sign
from tests.channels.conftest import SMTP, FakeSender
from tests.conftest import Tracker

READER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36"
SCANNER = "Barracuda Sentinel (EE)"
PEOPLE = {
    "u1": {
        "userId": "u1",
        "traits": {"email": "u1@bank.cn", "name": "张伟", "phone": "13812345678"},
    },
    "u2": {"userId": "u2", "traits": {"email": "u2@energy.cn", "phone": "13998765432"}},
    "u3": {"userId": "u3", "traits": {"email": "u3@bank.cn", "title": "CIO"}},
    "m": {"anonymousId": "cookie-m", "traits": {"email": "m@bank.cn", "company": "天津凯天银行"}},
}
TEMPLATES = (
    {
        "key": "news",
        "channel": "email",
        "purpose": "marketing",
        "subject": "{{ person.traits.name | default('您好') }}",
        "body": '<a href="https://leadpond.cn/a">a</a> <a href="{{ unsubscribe_url }}">x</a>',
    },
    {
        "key": "code",
        "channel": "sms",
        "purpose": "transactional",
        "body": '{"code": "2468"}',
        "provider_template": "SMS_100",
    },
)
# The template each kind of send uses.
TEMPLATE_OF = {"email": "news", "sms": "code"}
ALIYUN = {"access_key_id": "ak", "access_key_secret": "secret", "sign_name": "线索池"}


def _playbook() -> str:
    """The default playbook, with rules that read the channels' events."""
    default = resources.files("leadpond.playbooks").joinpath("default_b2b.yaml")
    document = yaml.load(default.read_text("utf-8"))
    human_click = {"event": "Email Clicked", "where": {"bot": False}}
    document["tag_categories"].append({"key": "channel", "name": "渠道互动"})
    document["tag_rules"] += [
        {"id": "email-clicker", "on": human_click, "then": {"add_tags": ["channel:clicker"]}},
        {
            "id": "email-opt-out",
            "on": {"event": "Email Unsubscribed"},
            "then": {"add_tags": ["channel:opt-out"], "remove_tags": ["channel:clicker"]},
        },
        {
            "id": "sms-reachable",
            "on": {"event": "SMS Delivered"},
            "then": {"add_tags": ["channel:sms"]},
        },
    ]
    document["score_models"][0]["rules"] += [
        {
            "id": "email-open",
            "on": {"event": "Email Opened", "where": {"bot": False}},
            "points": 1,
            "cap": {"points": 2, "per": "7d"},
        },
        {"id": "email-click", "on": human_click, "points": 4},
        {"id": "sms-bounce", "on": {"event": "SMS Bounced"}, "points": -1},
    ]
    document["key_events"].append(
        {
            "id": "email-engaged",
            "emit": "Email Engaged",
            "if": {**human_click, "count": {"gte": 2}, "within": "7d"},
            "once_per": "30d",
        }
    )
    document["segments"].append(
        {
            "key": "email-clickers",
            "name": "邮件点击",
            "if": {"event": "Email Clicked", "within": "30d"},
        }
    )
    return yaml.dump(document)


PLAYBOOK = _playbook()


@dataclass(frozen=True)
class Step:
    """One thing that happens ``at`` after the history starts.

    ``email``/``sms``: a message ``key`` sent to ``who``; ``open``/``click``/``unsubscribe``:
    the reader of message ``key`` follows its link; ``receipt``: the SMS provider reports on
    ``key``; ``site``: a Segment call of ``who`` (``call``) through the tracking API."""

    at: timedelta
    kind: str
    who: str = ""
    key: str = ""
    call: dict[str, Any] = field(default_factory=dict)
    agent: str = READER
    ok: bool = True


class Played:
    """A workspace where a history is played: its people, messages and clock."""

    def __init__(self, client: TestClient, start: datetime) -> None:
        self.run_start = utcnow()
        self.client, self.start, self.now = client, start, start
        with unit_of_work() as session:
            self.workspace: NewWorkspace = start_workspace(session, f"shape-{uuid.uuid4().hex[:8]}")
            apply_playbook(session, self.workspace.workspace_id, PLAYBOOK, actor="test")
        self.ws = self.workspace.workspace_id
        self.api = {"Authorization": f"Bearer {self.workspace.api_key}"}
        self.tracker = Tracker(client, self.workspace)
        self.sender = FakeSender()
        self.deliverer = Deliverer(
            senders={("email", "smtp"): self._sender, ("sms", "aliyun"): self._sender},
            clock=lambda: self.now,
            lease_s=60,
            workspace_id=self.ws,
        )
        self.people: dict[str, int] = {}
        self.messages: dict[str, int] = {}
        self._set_up()

    def _sender(self, _settings: dict[str, Any]) -> FakeSender:
        return self.sender

    def _set_up(self) -> None:
        for channel, provider, settings_ in (("email", "smtp", SMTP), ("sms", "aliyun", ALIYUN)):
            body = {"provider": provider, "settings": settings_}
            assert self.client.put(
                f"/api/v1/channels/{channel}", json=body, headers=self.api
            ).is_success
        for template in TEMPLATES:
            assert self.client.post("/api/v1/templates", json=template, headers=self.api).is_success
        at = isoformat(self.start - timedelta(hours=1))
        calls = [
            {"type": "identify", "messageId": f"setup-{who}", "timestamp": at, **call}
            for who, call in PEOPLE.items()
        ]
        self.tracker.batch(calls, drain=False)
        worker.drain()
        for who, call in PEOPLE.items():
            field_, value = (
                ("user_id", call["userId"])
                if "userId" in call
                else ("anonymous_id", call["anonymousId"])
            )
            found = self.client.get("/api/v1/people", params={field_: value}, headers=self.api)
            [person] = found.json()["items"]
            self.people[who] = person["id"]

    def play(self, step: Step) -> None:
        """Make ``step`` happen, the way production makes it happen."""
        self.now = max(self.now, self.start + step.at)
        at = self.start + step.at
        if step.kind in ("email", "sms"):
            self._send(step, at)
        elif step.kind == "site":
            call = {"messageId": f"site-{step.key}", "timestamp": isoformat(at), **step.call}
            self.tracker.batch([call], drain=False)
        elif step.kind == "receipt":
            self._receipt(step)
        else:
            self._follow(step, at)

    def _send(self, step: Step, at: datetime) -> None:
        with unit_of_work() as session:
            template = session.scalars(
                select(MessageTemplate).where(
                    owned(MessageTemplate, self.ws), MessageTemplate.key == TEMPLATE_OF[step.kind]
                )
            ).one()
            # A message scheduled for ``at`` (as a journey step queues one), sent when due.
            queued = outbox.enqueue(
                session,
                self.ws,
                {
                    "person_id": self.people[step.who],
                    "channel": step.kind,
                    "purpose": template.purpose,
                    "template_id": template.id,
                    "idempotency_key": step.key,
                    "origin": "test",
                    "variables": {},
                    "due_at": at,
                },
            )
            self.messages[step.key] = queued.id
        self.deliverer.run_pending()

    def _follow(self, step: Step, at: datetime) -> None:
        message_id = self.messages[step.key]
        visit = tracking.Visit(step.agent, "203.0.113.7", at)
        with unit_of_work() as session:
            if step.kind == "open":
                tracking.record_open(
                    session, sign(session, self.ws, OPEN, {"m": message_id}), visit
                )
            elif step.kind == "click":
                url = f"https://leadpond.cn/{step.call.get('page', 'a')}"
                token = sign(session, self.ws, CLICK, {"m": message_id, "u": url})
                tracking.record_click(session, token, visit)
            else:
                person_id = session.scalars(
                    select(Message.person_id).where(Message.id == message_id)
                ).one()
                data = {"m": message_id, "p": person_id, "c": "email"}
                link = tracking.unsubscribe_link(session, sign(session, self.ws, UNSUBSCRIBE, data))
                tracking.unsubscribe(session, link, "one_click", at)

    def _receipt(self, step: Step) -> None:
        with unit_of_work() as session:
            path = "/" + sms_receipts_url(session, self.ws, "aliyun").split("/", 3)[3]
            provider_id = session.scalars(
                select(Message.provider_id).where(Message.id == self.messages[step.key])
            ).one()
        report = {
            "biz_id": provider_id or "none",
            "success": step.ok,
            "err_code": "DELIVERED" if step.ok else "MK:0001",
        }
        assert self.client.post(path, json=[report]).json() == {"code": 0, "msg": "接收成功"}

    def close(self) -> None:
        self.deliverer.close()


Shape = Callable[[Played, list[Step]], None]

# What a workspace's ids and arrival times are replaced with before comparing.
_CHANNEL_EVENT_ID = re.compile(r"^message:(\d+):(.+):(\d{4}-\d\d-\d\dT[\d:.]+)$")
_TIME = re.compile(r"^\d{4}-\d\d-\d\dT[\d:.]+Z?$")
_PROVIDER_ID = re.compile(r"^p-(\d+)$")


@dataclass
class Names:
    """The test's names for one workspace's messages and people, and when its run began."""

    messages: dict[int, str]
    people: dict[int, str]
    since: datetime

    def time(self, value: datetime | str | None) -> str | None:
        if value is None:
            return None
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(value.rstrip("Z"))
        return "<arrival>" if moment >= self.since else isoformat(moment)

    def settled(self, value: Any) -> Any:
        """``value`` with this workspace's ids and arrival times named as in every other."""
        if isinstance(value, dict):
            return {
                k: self.messages.get(v, v) if k == "message_id" else self.settled(v)
                for k, v in value.items()
            }
        if isinstance(value, list | tuple):
            return type(value)(self.settled(v) for v in value)
        if not isinstance(value, str):
            return value
        if found := _CHANNEL_EVENT_ID.match(value):
            number, name, moment = found.groups()
            return f"message:{self.messages.get(int(number))}:{name}:{self.time(moment)}"
        if found := _PROVIDER_ID.match(value):
            return f"p-{self.messages.get(int(found.group(1)))}"
        return self.time(value) if _TIME.match(value) else value


@dataclass
class State:
    people: Snapshot
    channel_events: list[Any]
    subscriptions: list[Any]
    messages: dict[str, Any]


def state_of(played: Played) -> State:
    names = Names(
        {v: k for k, v in played.messages.items()},
        {v: k for k, v in played.people.items()},
        played.run_start,
    )
    with read_only() as session:
        people = {
            tuple(sorted(names.settled(list(key)))): names.settled(state)
            for key, state in snapshot(session, played.ws).items()
        }
        return State(
            people,
            _channel_events(session, played.ws, names),
            _subscriptions(session, played.ws, names),
            _messages(session, played.ws, names),
        )


def _channel_events(session: Session, ws: uuid.UUID, names: Names) -> list[Any]:
    rows = session.execute(
        select(
            Event.message_id,
            Event.event,
            Event.timestamp,
            Event.payload,
            Event.person_id,
            Event.processed_at,
            Event.failed_stage,
        ).where(owned(Event, ws), Event.source == MESSAGE_SOURCE)
    )
    found = [
        [
            names.settled(message_id),
            name,
            names.time(at),
            names.settled(payload.get("properties")),
            names.people.get(person_id, "someone new"),
            processed is not None,
            failed,
        ]
        for message_id, name, at, payload, person_id, processed, failed in rows
    ]
    return sorted(found, key=repr)


def _subscriptions(session: Session, ws: uuid.UUID, names: Names) -> list[Any]:
    rows = session.execute(
        select(
            Subscription.person_id,
            Subscription.channel,
            Subscription.status,
            Subscription.source,
            Subscription.detail,
            Subscription.changed_at,
        ).where(owned(Subscription, ws))
    )
    found = [
        [names.people.get(pid), channel, status, source, names.settled(detail), names.time(at)]
        for pid, channel, status, source, detail, at in rows
    ]
    return sorted(found, key=repr)


def _messages(session: Session, ws: uuid.UUID, names: Names) -> dict[str, Any]:
    history: dict[int, list[Any]] = {}
    for message_id, kind, detail, at in session.execute(
        select(MessageEvent.message_id, MessageEvent.kind, MessageEvent.detail, MessageEvent.at)
        .where(owned(MessageEvent, ws))
        .order_by(MessageEvent.id)
    ):
        history.setdefault(message_id, []).append([kind, names.settled(detail), names.time(at)])
    return {
        names.messages[m.id]: {
            "person": names.people.get(m.person_id),
            "status": m.status,
            "reason": m.reason,
            "address": m.address,
            "subject": m.subject,
            "attempts": m.attempts,
            "sent_at": names.time(m.sent_at),
            "provider_id": names.settled(m.provider_id),
            "history": history.get(m.id, []),
        }
        for m in session.scalars(select(Message).where(owned(Message, ws)))
    }


def state_after(client: TestClient, steps: list[Step], shape: Shape, start: datetime) -> State:
    played = Played(client, start)
    try:
        shape(played, steps)
    finally:
        played.close()
    return state_of(played)
