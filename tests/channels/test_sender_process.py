"""Email composed and sent in a child process: the messages arrive as the in-process sender
sends them (links signed there too), and a child that dies during a send is reported, not
silently taken for a refusal, and replaced at the next send."""

import socket
import threading
import time
import uuid
from collections.abc import Iterator

import pytest

from leadpond.channels.sender_process import ProcessSender, SenderGone
from leadpond.channels.senders.base import Outgoing, Result
from leadpond.workspaces.signing import TokenSigner
from tests.channels.smtp_sink import sink

SETTINGS = {"from": "艾克米 <news@acme.cn>", "pool_size": 2}


def _outgoing(message_id: int) -> Outgoing:
    return Outgoing(
        message_id=message_id,
        workspace_id=uuid.uuid4(),
        idempotency_key=f"k{message_id}",
        address=f"buyer{message_id}@example.cn",
        subject="新品发布会",
        body='<html><body><p>您好</p><a href="https://acme.cn/launch">报名</a></body></html>',
        extra={
            "click_base_url": "https://lp.example.cn/t/c/",
            "click_signer": TokenSigner(uuid.uuid4().hex, b"k" * 20),
        },
    )


def test_a_child_process_sends_what_the_sender_would() -> None:
    with sink() as (box, port):
        sender = ProcessSender(
            "email", "smtp", {**SETTINGS, "smtp_url": f"smtp://127.0.0.1:{port}"}, 2
        )
        try:
            outcomes = sender.send([_outgoing(i) for i in (1, 2, 3)])
            more = sender.send([_outgoing(4)])
        finally:
            sender.close()
    assert [(o.message_id, o.result) for o in outcomes + more] == [
        (i, Result.SENT) for i in (1, 2, 3, 4)
    ]
    assert sorted(r.recipients[0] for r in box.messages) == [
        f"buyer{i}@example.cn" for i in (1, 2, 3, 4)
    ]
    html = box.messages[0].parsed().get_body(("html",))
    assert html is not None and "https://lp.example.cn/t/c/" in html.get_content()


@pytest.fixture
def silent_server() -> Iterator[tuple[int, list[socket.socket]]]:
    """Accepts connections and never greets: a send waits on it until its timeout."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    yield listener.getsockname()[1], accepted
    listener.close()
    for connection in accepted:
        connection.close()


def test_a_child_that_dies_during_a_send_is_reported_and_replaced(
    silent_server: tuple[int, list[socket.socket]],
) -> None:
    port, accepted = silent_server
    settings = {**SETTINGS, "smtp_url": f"smtp://127.0.0.1:{port}?timeout=30"}
    sender = ProcessSender("email", "smtp", settings, 1)
    failure: list[BaseException] = []

    def send() -> None:
        try:
            sender.send([_outgoing(1)])
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=send)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not accepted and time.monotonic() < deadline:
            time.sleep(0.05)
        assert accepted, "the child never connected"
        first = sender._process
        first.kill()  # mid-send: it is waiting for the server's greeting
        thread.join(timeout=30)
        assert len(failure) == 1 and isinstance(failure[0], SenderGone)
        with sink() as (box, good_port):
            sender.settings["smtp_url"] = f"smtp://127.0.0.1:{good_port}"
            outcomes = sender.send([_outgoing(2)])
        assert sender._process is not first
        assert [o.result for o in outcomes] == [Result.SENT]
        assert len(box.messages) == 1
    finally:
        sender.close()
