"""Email through any SMTP relay: a pool of ``pool_size`` connections, one thread each.

``smtp_url`` is ``smtp://[user:pass@]host[:port]`` (``?starttls=1`` upgrades with STARTTLS) or
``smtps://…`` (TLS from the first byte, port 465 by default); ``?timeout=`` seconds (30) and
``?cafile=`` (a CA bundle for a relay with its own certificate authority) are optional.

A call to :meth:`SmtpSender.send` takes one free connection of the pool (waiting for one when
all are busy) and sends its batch over it, composing each message
(:mod:`leadpond.channels.email_mime`) just before it goes. The deliverer hands over as many
sub-batches at once as the pool has connections, so composing on one thread overlaps waiting for
the server on the others. smtplib in four threads and aiosmtplib on an event loop with four
connections send prebuilt messages equally fast to a loopback aiosmtpd (about 2,500 messages/s
on 2 cores, where the server is the limit). Outcomes: 2xx SENT (the server's queue id as
provider id), 4xx, timeouts and dropped connections TEMPORARY, 5xx PERMANENT.
"""

import re
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from queue import Queue
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from leadpond.channels.email_mime import Composed, EmailComposer
from leadpond.channels.senders.base import Outcome, Outgoing, Result

# What may stand between the angle brackets of MAIL FROM / RCPT TO: no spaces, brackets or
# line breaks (a recipient with a newline would be a second SMTP command).
_ENVELOPE_ADDRESS = re.compile(r"[^\s<>]+@[^\s<>@]+")
_QUEUED_AS = re.compile(r"queued as\s+<?([\w.@-]+)>?", re.IGNORECASE)
# What a connection that went away or stopped answering raises.
_DROPPED = (smtplib.SMTPServerDisconnected, OSError)


@dataclass(frozen=True)
class SmtpTarget:
    """Where and how to connect, from ``smtp_url``."""

    host: str
    port: int
    implicit_tls: bool
    starttls: bool
    username: str | None
    password: str | None
    timeout_s: float
    cafile: str | None

    @classmethod
    def from_url(cls, url: str) -> "SmtpTarget":
        """Parse ``smtp://`` / ``smtps://`` URLs; raises ValueError for anything else."""
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError(f"not an smtp:// or smtps:// URL: {url!r}")
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        implicit = parts.scheme == "smtps"
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if implicit else 25),
            implicit_tls=implicit,
            starttls=not implicit and query.get("starttls", "0").lower() in ("1", "true", "yes"),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            timeout_s=float(query.get("timeout", 30)),
            cafile=query.get("cafile"),
        )

    def tls_context(self) -> ssl.SSLContext | None:
        """A verifying TLS context (with ``cafile`` trusted) when the URL asks for TLS."""
        if not (self.implicit_tls or self.starttls):
            return None
        return ssl.create_default_context(cafile=self.cafile)


class _Refused(Exception):
    """The server answered a command with an error code."""

    def __init__(self, code: int, text: str) -> None:
        super().__init__(f"{code} {text}")
        self.code = code


class _NotSent(ConnectionError):
    """The connection was gone before the server had the message."""


def _text(reply: bytes | str) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else reply


def provider_id(answer: str) -> str:
    """The queue id in a ``250 … queued as ABC`` answer, else the answer itself (trimmed)."""
    found = _QUEUED_AS.search(answer)
    return found.group(1) if found else answer.strip()[:128]


class SmtpSender:
    """The email/smtp sender of the channel registry."""

    def __init__(self, settings: dict[str, Any]) -> None:
        self.target = SmtpTarget.from_url(str(settings["smtp_url"]))
        self.composer = EmailComposer(settings)
        self.pool_size = max(1, int(settings.get("pool_size") or 4))
        self._connections: list[smtplib.SMTP | None] = [None] * self.pool_size
        # The slots of connections nobody is using: an SMTP connection serves one thread.
        self._free: Queue[int] = Queue()
        for slot in range(self.pool_size):
            self._free.put(slot)

    def send(self, messages: Sequence[Outgoing]) -> list[Outcome]:
        """Send the batch over one free connection of the pool; one outcome each, in order."""
        slot = self._free.get()
        try:
            return [self._send_one(slot, message) for message in messages]
        finally:
            self._free.put(slot)

    def close(self) -> None:
        """Say QUIT on every connection."""
        for slot in range(self.pool_size):
            connection, self._connections[slot] = self._connections[slot], None
            if connection is not None:
                try:
                    connection.quit()
                except Exception:  # closing anyway
                    connection.close()

    def _send_one(self, slot: int, out: Outgoing) -> Outcome:
        try:
            composed = self.composer.compose(out)
        except Exception as exc:  # a message that cannot be built is not worth a retry
            return Outcome(out.message_id, Result.PERMANENT, detail=f"cannot build: {exc}")
        for address in (composed.envelope_from, composed.recipient):
            if not _ENVELOPE_ADDRESS.fullmatch(address):
                detail = f"not an envelope address: {address[:100]!r}"
                return Outcome(out.message_id, Result.PERMANENT, detail=detail)
        for attempt in (1, 2):
            try:
                answer = self._transaction(slot, composed)
            except _Refused as refused:
                self._reset(slot)
                result = Result.PERMANENT if refused.code >= 500 else Result.TEMPORARY
                return Outcome(out.message_id, result, detail=str(refused))
            except _DROPPED as exc:
                self._drop(slot)
                # Gone before the message was sent (an idle connection the server closed): a
                # fresh connection may take it, once. Gone later: the server may have it.
                if attempt == 1 and isinstance(exc, _NotSent):
                    continue
                return Outcome(out.message_id, Result.TEMPORARY, detail=f"connection: {exc}")
            return Outcome(out.message_id, Result.SENT, provider_id(answer), detail=answer)
        raise AssertionError("unreachable")

    def _transaction(self, slot: int, composed: Composed) -> str:
        connection = self._connection(slot)
        # MAIL and RCPT written directly: both addresses are checked already, and smtplib's
        # quoteaddr (an RFC 822 parse of each) cost a tenth of the time of the whole send.
        try:
            code, reply = connection.docmd("MAIL", f"FROM:<{composed.envelope_from}>")
        except _DROPPED as exc:
            raise _NotSent(str(exc) or type(exc).__name__) from exc
        if code >= 400:
            raise _Refused(code, _text(reply))
        code, reply = connection.docmd("RCPT", f"TO:<{composed.recipient}>")
        if code >= 400:
            raise _Refused(code, _text(reply))
        try:
            code, reply = connection.data(composed.data)
        except smtplib.SMTPDataError as exc:
            raise _Refused(exc.smtp_code, _text(exc.smtp_error)) from exc
        if code >= 400:
            raise _Refused(code, _text(reply))
        return f"{code} {_text(reply)}"

    def _connection(self, slot: int) -> smtplib.SMTP:
        connection = self._connections[slot]
        if connection is not None:
            return connection
        target = self.target
        context = target.tls_context()
        try:
            if target.implicit_tls:
                connection = smtplib.SMTP_SSL(
                    target.host, target.port, timeout=target.timeout_s, context=context
                )
            else:
                connection = smtplib.SMTP(target.host, target.port, timeout=target.timeout_s)
                if target.starttls:
                    connection.starttls(context=context)
            connection.ehlo()
            if target.username is not None:
                connection.login(target.username, target.password or "")
        except smtplib.SMTPResponseException as exc:
            raise _Refused(exc.smtp_code, _text(exc.smtp_error)) from exc
        except smtplib.SMTPException as exc:  # e.g. STARTTLS or AUTH not offered
            raise _Refused(530, str(exc)) from exc
        except _DROPPED as exc:
            raise _NotSent(str(exc) or type(exc).__name__) from exc
        self._connections[slot] = connection
        return connection

    def _reset(self, slot: int) -> None:
        connection = self._connections[slot]
        if connection is None:
            return
        try:
            connection.rset()
        except Exception:  # a connection that cannot RSET is replaced on its next message
            self._drop(slot)

    def _drop(self, slot: int) -> None:
        connection, self._connections[slot] = self._connections[slot], None
        if connection is not None:
            connection.close()
