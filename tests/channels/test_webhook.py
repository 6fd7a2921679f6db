"""Webhooks: a signed JSON document a receiver can verify, answers mapped to outcomes, and the
SSRF guard (private targets refused after DNS resolution, the checked address connected to)."""

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from leadpond.channels.senders import webhook
from leadpond.channels.senders.base import Outgoing, Result
from leadpond.channels.senders.provider_http import retry_after_s
from leadpond.channels.senders.webhook import WebhookSender
from tests.channels.fakes.messages import outgoing
from tests.channels.fakes.server import serving, too_slow
from tests.channels.fakes.webhook import SECRET, FakeReceiver


@pytest.fixture
def receiver() -> Iterator[tuple[FakeReceiver, str]]:
    fake = FakeReceiver()
    with serving(fake.app) as url:
        yield fake, url


def sender_for(url: str, **settings: Any) -> WebhookSender:
    return WebhookSender({"url": url, "secret": SECRET, "allow_private": True, **settings})


def hook(message_id: int, url: str = "", **document: Any) -> Outgoing:
    body = document or {"event": "Lead Qualified", "person": {"id": 42, "name": "王五"}}
    return outgoing(message_id, url, extra={"document": body})


def test_the_receiver_verifies_the_signature_and_gets_the_document(receiver) -> None:
    fake, url = receiver
    sender = sender_for(f"{url}/hooks/in")
    [outcome] = sender.send([hook(1)])
    sender.close()
    assert outcome.result is Result.SENT, outcome.detail
    assert fake.documents == {
        "test:1": {"event": "Lead Qualified", "person": {"id": 42, "name": "王五"}}
    }
    headers = fake.requests[0]
    assert headers["content-type"] == "application/json"
    assert headers["x-leadpond-signature"].startswith("sha256=")


def test_a_wrong_secret_is_refused_by_the_receiver(receiver) -> None:
    fake, url = receiver
    [outcome] = sender_for(url, secret="guess").send([hook(1)])
    assert outcome.result is Result.PERMANENT and outcome.detail.startswith("HTTP 401")
    assert fake.documents == {}


@pytest.mark.parametrize(
    ("status", "retry_after", "result", "wait"),
    [
        (500, None, Result.TEMPORARY, None),
        (503, "120", Result.TEMPORARY, 120.0),
        (429, "7", Result.TEMPORARY, 7.0),
        (408, None, Result.TEMPORARY, None),
        (400, None, Result.PERMANENT, None),
        (410, None, Result.PERMANENT, None),
        (302, None, Result.PERMANENT, None),
    ],
)
def test_answers_map_to_outcomes(
    receiver, status: int, retry_after: str | None, result: Result, wait: float | None
) -> None:
    fake, url = receiver
    fake.answers.append((status, retry_after))
    [outcome] = sender_for(url).send([hook(1)])
    assert (outcome.result, outcome.retry_after_s) == (result, wait)


def test_a_redirect_is_not_followed(receiver) -> None:
    fake, url = receiver
    fake.answers.append((307, None))
    [outcome] = sender_for(url).send([hook(1)])
    assert outcome.result is Result.PERMANENT and "not followed" in outcome.detail
    assert len(fake.requests) == 1


def test_a_timeout_is_temporary() -> None:
    with serving(too_slow) as url:
        [outcome] = sender_for(url, timeout_s=0.3).send([hook(1)])
    assert outcome.result is Result.TEMPORARY


@pytest.mark.parametrize(
    "target",
    [
        "http://127.0.0.1:{port}/",
        "http://10.1.2.3/",
        "http://192.168.1.10/",
        "http://169.254.169.254/latest/meta-data/",
        "http://localhost:{port}/",
        "http://[::1]:{port}/",
        "http://0.0.0.0:{port}/",
        "http://224.0.0.1/",
        "http://[::ffff:127.0.0.1]:{port}/",
        "ftp://127.0.0.1/",
        "http://[::1/",
    ],
)
def test_private_targets_are_refused_without_a_request(receiver, target: str) -> None:
    fake, url = receiver
    port = url.rsplit(":", 1)[1]
    target = target.format(port=port)
    [outcome] = WebhookSender({"url": target, "secret": SECRET}).send([hook(1)])
    assert outcome.result is Result.PERMANENT
    assert outcome.detail.startswith("refused:"), outcome.detail
    assert fake.requests == []


def test_allow_private_lets_loopback_through(receiver) -> None:
    fake, url = receiver
    [outcome] = WebhookSender({"url": url, "secret": SECRET, "allow_private": True}).send([hook(1)])
    assert outcome.result is Result.SENT
    assert len(fake.documents) == 1


def test_a_host_with_any_private_address_is_refused(monkeypatch) -> None:
    monkeypatch.setattr(webhook, "resolve", lambda host, port: ["93.184.216.34", "10.0.0.8"])
    [outcome] = WebhookSender({"url": "https://hooks.example.com/x"}).send([hook(1)])
    assert outcome.result is Result.PERMANENT
    assert "10.0.0.8 (private)" in outcome.detail


def test_the_connection_goes_to_the_address_that_was_checked(receiver, monkeypatch) -> None:
    # A name the system cannot resolve: the request only arrives if it is sent to the address
    # the guard resolved (once), with the name kept in the Host header.
    fake, url = receiver
    port = url.rsplit(":", 1)[1]
    answers = iter([["127.0.0.1"]])
    monkeypatch.setattr(webhook, "resolve", lambda host, port: next(answers))
    sender = sender_for(f"http://hooks.leadpond.invalid:{port}/in")
    [outcome] = sender.send([hook(1)])
    assert outcome.result is Result.SENT, outcome.detail
    assert fake.requests[0]["host"] == f"hooks.leadpond.invalid:{port}"


def test_public_addresses_pass_the_guard() -> None:
    assert webhook.private_kind("93.184.216.34") is None
    assert webhook.private_kind("2606:4700::1111") is None
    assert webhook.private_kind("100.64.0.1") == "not global"  # carrier-grade NAT


def test_retry_after_as_an_http_date() -> None:
    response = httpx.Response(503, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})
    assert retry_after_s(response) == 0.0
    assert retry_after_s(httpx.Response(503, headers={"Retry-After": "soon"})) is None
