"""A real SMTP server for the tests and the benchmark: aiosmtpd storing what it receives.

In process: ``with sink() as box: ... box.messages``. As its own process (the kill test, the
benchmark): ``python -m tests.channels.smtp_sink --port P --log FILE`` appends one line per
accepted message (``<Message-ID> <envelope sender> <recipient>``) and prints ``ready``.

Recipients whose local part says so are refused: ``hard…@`` with 550 5.1.1, ``soft…@`` with
451 4.2.2 — enough to pin the sender's outcome mapping. Variants: STARTTLS, implicit TLS and
AUTH PLAIN/LOGIN with a self-signed certificate made by :func:`self_signed`.
"""

import argparse
import asyncio
import datetime as dt
import email
import email.policy
import ssl
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session
from benchmarks.common import free_port


@dataclass
class Received:
    sender: str
    recipients: list[str]
    data: bytes

    def parsed(self) -> email.message.EmailMessage:
        message = email.message_from_bytes(self.data, policy=email.policy.default)
        assert isinstance(message, email.message.EmailMessage)
        return message


@dataclass
class Mailbox:
    """What the sink accepted, and where it appends its log (when run as a process)."""

    messages: list[Received] = field(default_factory=list)
    log: TextIO | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    count: int = 0

    async def handle_RCPT(
        self, server: SMTPServer, session: Session, envelope: Envelope, address: str, _: Any
    ) -> str:
        local = address.split("@", 1)[0].lower()
        if local.startswith("hard"):
            return "550 5.1.1 no such user"
        if local.startswith("soft"):
            return "451 4.2.2 mailbox full, try later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        data = envelope.original_content or b""
        with self.lock:
            self.count += 1
            queue_id = f"Q{self.count:08X}"
            if self.log is not None:
                message_id = _message_id(data)
                self.log.write(f"{message_id} {envelope.mail_from} {envelope.rcpt_tos[0]}\n")
                self.log.flush()  # the reader counts lines while the sink runs
            else:
                self.messages.append(
                    Received(str(envelope.mail_from), list(envelope.rcpt_tos), data)
                )
        return f"250 2.0.0 Ok: queued as {queue_id}"


def _message_id(data: bytes) -> str:
    head = data.split(b"\r\n\r\n", 1)[0]
    for line in head.split(b"\r\n"):
        if line[:11].lower() == b"message-id:":
            return line[11:].strip().decode()
    return "-"


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate and key for 127.0.0.1/localhost (needs ``cryptography``)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "sink.crt", directory / "sink.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def _authenticator(login: str, password: str) -> Any:
    def check(
        server: SMTPServer, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and (
            auth_data.login.decode() == login and auth_data.password.decode() == password
        )
        return AuthResult(success=ok, handled=False)

    return check


@contextmanager
def sink(
    *,
    port: int | None = None,
    log: TextIO | None = None,
    certificate: tuple[Path, Path] | None = None,
    implicit_tls: bool = False,
    auth: tuple[str, str] | None = None,
    loop: asyncio.AbstractEventLoop | None = None,
) -> Iterator[tuple[Mailbox, int]]:
    """A running sink on 127.0.0.1: the mailbox and the port. With ``certificate``, STARTTLS
    (or implicit TLS with ``implicit_tls``); with ``auth``, AUTH is required."""
    box = Mailbox(log=log)
    port = port or free_port()
    kwargs: dict[str, Any] = {"hostname": "127.0.0.1", "port": port, "loop": loop}
    if certificate is not None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(*certificate)
        if implicit_tls:
            kwargs["ssl_context"] = context
        else:
            kwargs["tls_context"] = context
            kwargs["require_starttls"] = True
    if auth is not None:
        kwargs["authenticator"] = _authenticator(*auth)
        kwargs["auth_required"] = True
        kwargs["auth_require_tls"] = certificate is not None
    controller = Controller(box, **kwargs)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


def main(argv: list[str] | None = None) -> None:
    """Run the sink until killed, logging each accepted message to ``--log``."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log", type=Path, required=True)
    args = parser.parse_args(argv)
    try:
        import uvloop

        loop: asyncio.AbstractEventLoop | None = uvloop.new_event_loop()
    except ImportError:
        loop = None
    with args.log.open("a") as log, sink(port=args.port, log=log, loop=loop):
        print("ready", flush=True)
        with suppress(KeyboardInterrupt):
            asyncio.run(asyncio.Event().wait())
    sys.exit(0)


if __name__ == "__main__":
    main()


@contextmanager
def sink_process(scratch: Path) -> Iterator[tuple[int, Path]]:
    """This sink in its own process (as the benchmark and the browser tests run it): its port
    and the log it appends a line to per message."""
    port, log = free_port(), scratch / f"sink-{uuid.uuid4().hex[:6]}.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.channels.smtp_sink", "--port", str(port), "--log", str(log)],
        cwd=Path(__file__).resolve().parents[2],
        stdout=subprocess.PIPE,
    )
    try:
        assert process.stdout is not None and process.stdout.readline().strip() == b"ready"
        yield port, log
    finally:
        process.kill()
        process.wait()
