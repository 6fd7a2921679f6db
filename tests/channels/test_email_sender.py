"""The SMTP sender against a real SMTP server (aiosmtpd): outcomes, TLS, AUTH, reconnects."""

import uuid
from pathlib import Path

import pytest

from leadpond.channels.senders.base import Outgoing, Result
from leadpond.channels.senders.email import SmtpSender, SmtpTarget
from tests.channels.smtp_sink import sink

try:
    import cryptography  # noqa: F401

    from tests.channels.smtp_sink import self_signed

    HAVE_CRYPTOGRAPHY = True
except ImportError:  # TLS tests need a certificate
    HAVE_CRYPTOGRAPHY = False
needs_tls = pytest.mark.skipif(not HAVE_CRYPTOGRAPHY, reason="cryptography is not installed")

FROM = "艾克米 <news@acme.cn>"


def _mail(message_id: int, address: str) -> Outgoing:
    return Outgoing(
        message_id, uuid.uuid4(), f"key-{message_id}", address, "你好", f"<p>第 {message_id} 封</p>"
    )


def test_outcomes_follow_the_smtp_answer() -> None:
    with sink() as (box, port):
        sender = SmtpSender({"smtp_url": f"smtp://127.0.0.1:{port}", "from": FROM, "pool_size": 2})
        try:
            outcomes = sender.send(
                [
                    _mail(1, "a@x.cn"),
                    _mail(2, "hard@x.cn"),
                    _mail(3, "soft@x.cn"),
                    _mail(4, "b@x.cn"),
                ]
            )
        finally:
            sender.close()
    assert [o.message_id for o in outcomes] == [1, 2, 3, 4]
    assert [o.result for o in outcomes] == [
        Result.SENT,
        Result.PERMANENT,
        Result.TEMPORARY,
        Result.SENT,
    ]
    assert outcomes[0].provider_id is not None and outcomes[0].provider_id.startswith("Q")
    assert "5.1.1" in outcomes[1].detail and "4.2.2" in outcomes[2].detail
    assert sorted(m.recipients[0] for m in box.messages) == ["a@x.cn", "b@x.cn"]


def test_a_dropped_connection_is_reopened() -> None:
    with sink() as (_, port):
        sender = SmtpSender({"smtp_url": f"smtp://127.0.0.1:{port}", "from": FROM, "pool_size": 1})
        assert sender.send([_mail(1, "a@x.cn")])[0].result is Result.SENT
    with sink(port=port) as (box, _):  # the server restarted: the pooled connection is dead
        try:
            assert sender.send([_mail(2, "b@x.cn")])[0].result is Result.SENT
        finally:
            sender.close()
    assert [m.recipients for m in box.messages] == [["b@x.cn"]]


def test_no_server_is_a_temporary_failure() -> None:
    with sink() as (_, port):
        pass
    sender = SmtpSender({"smtp_url": f"smtp://127.0.0.1:{port}?timeout=2", "from": FROM})
    try:
        outcome = sender.send([_mail(1, "a@x.cn")])[0]
    finally:
        sender.close()
    assert outcome.result is Result.TEMPORARY


def test_the_url_says_how_to_connect() -> None:
    target = SmtpTarget.from_url("smtps://u%40x.cn:p%3Aw@relay.x.cn?timeout=5")
    assert (target.host, target.port, target.implicit_tls, target.starttls) == (
        "relay.x.cn",
        465,
        True,
        False,
    )
    assert (target.username, target.password, target.timeout_s) == ("u@x.cn", "p:w", 5.0)
    assert SmtpTarget.from_url("smtp://h:2525?starttls=1").starttls
    with pytest.raises(ValueError):
        SmtpTarget.from_url("http://h")


@needs_tls
def test_starttls_with_auth(tmp_path: Path) -> None:
    certificate = self_signed(tmp_path)
    with sink(certificate=certificate, auth=("mailer", "s3cret")) as (box, port):
        url = f"smtp://mailer:s3cret@127.0.0.1:{port}?starttls=1&cafile={certificate[0]}"
        sender = SmtpSender({"smtp_url": url, "from": FROM})
        wrong = SmtpSender({"smtp_url": url.replace("s3cret", "nope"), "from": FROM})
        try:
            assert sender.send([_mail(1, "a@x.cn")])[0].result is Result.SENT
            assert wrong.send([_mail(2, "b@x.cn")])[0].result is Result.PERMANENT
        finally:
            sender.close()
            wrong.close()
    assert len(box.messages) == 1


@needs_tls
def test_implicit_tls(tmp_path: Path) -> None:
    certificate = self_signed(tmp_path)
    with sink(certificate=certificate, implicit_tls=True) as (box, port):
        url = f"smtps://127.0.0.1:{port}?cafile={certificate[0]}"
        sender = SmtpSender({"smtp_url": url, "from": FROM})
        try:
            assert sender.send([_mail(1, "a@x.cn")])[0].result is Result.SENT
        finally:
            sender.close()
    assert len(box.messages) == 1


@needs_tls
def test_an_untrusted_certificate_is_refused(tmp_path: Path) -> None:
    certificate = self_signed(tmp_path)
    with sink(certificate=certificate) as (box, port):
        sender = SmtpSender({"smtp_url": f"smtp://127.0.0.1:{port}?starttls=1", "from": FROM})
        try:
            assert sender.send([_mail(1, "a@x.cn")])[0].result is not Result.SENT
        finally:
            sender.close()
    assert box.messages == []


def test_an_address_that_would_inject_a_command_is_refused() -> None:
    with sink() as (box, port):
        sender = SmtpSender({"smtp_url": f"smtp://127.0.0.1:{port}", "from": FROM, "pool_size": 1})
        try:
            [outcome] = sender.send([_mail(1, "a@acme.cn>\r\nRCPT TO:<b@acme.cn")])
            [fine] = sender.send([_mail(2, "a@acme.cn")])
        finally:
            sender.close()
    assert outcome.result == Result.PERMANENT and "envelope address" in outcome.detail
    assert fine.result == Result.SENT
    assert [m.recipients for m in box.messages] == [["a@acme.cn"]]
