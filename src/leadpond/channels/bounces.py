"""Bounces: delivery status notifications (RFC 3464) back to the message they are about.

The message is found by its VERP envelope sender (``bounces+<id>@…``, the DSN's recipient), else
by the ``Original-Envelope-Id`` or the Message-ID in the returned headers. The status decides:
5.x.x is a hard bounce (the message ``bounced``, the address suppressed, ``Email Bounced``), except
5.7.x — a policy or authentication refusal of our sending, not of the address: the message
bounced, the address stays; 4.x.x is a soft bounce, history only. DSNs that are not RFC 3464
(older MTAs' free text) are read by flufl.bounce's detectors.
"""

import email
import email.policy
import re
import uuid
from dataclasses import dataclass, field
from email.message import Message as MimeMessage
from typing import Any

from flufl.bounce import all_failures
from sqlalchemy.orm import Session

from leadpond.channels import consent, events, outbox
from leadpond.channels.email_mime import parse_rfc_message_id
from leadpond.channels.models import Channel, Message, MessageStatus
from leadpond.kit.clock import utcnow
from leadpond.kit.scope import in_workspace

_VERP = re.compile(r"bounces\+(\d+)@", re.IGNORECASE)
_STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")


@dataclass(frozen=True)
class Failure:
    """One recipient's block of a DSN."""

    address: str
    status: str  # "5.1.1"
    action: str  # failed | delayed | delivered | relayed | expanded
    diagnostic: str = ""

    @property
    def kind(self) -> str:
        """hard, policy, soft or delivered."""
        if self.status.startswith("5.7."):
            return "policy"
        return {"5": "hard", "4": "soft"}.get(self.status[:1], "delivered")


@dataclass
class Dsn:
    """What a DSN says, before it is matched to a message."""

    failures: list[Failure] = field(default_factory=list)
    verp_message_id: int | None = None
    original_message_id: int | None = None
    envelope_id: str | None = None


@dataclass
class BounceReport:
    """What :func:`process_dsn` did."""

    message_id: int | None
    kind: str  # hard | policy | soft | delivered | not_a_bounce | unknown_message
    address: str | None = None
    status: str | None = None
    suppressed: bool = False

    def to_body(self) -> dict[str, Any]:
        return {
            "message_id": self.message_id,
            "kind": self.kind,
            "address": self.address,
            "status": self.status,
            "suppressed": self.suppressed,
        }


def _address(value: str) -> str:
    # "rfc822; a@b.cn" → "a@b.cn"
    return value.partition(";")[2].strip().strip("<>").lower() if ";" in value else value.strip()


def _status_blocks(report: MimeMessage) -> list[MimeMessage]:
    # The delivery-status body is header blocks; the email package parses it into sub-messages.
    payload = report.get_payload()
    return [block for block in payload if isinstance(block, MimeMessage)] if payload else []


def _read_status(part: MimeMessage, dsn: Dsn) -> None:
    blocks = _status_blocks(part)
    if blocks and blocks[0].get("Original-Envelope-Id"):
        dsn.envelope_id = str(blocks[0]["Original-Envelope-Id"]).strip()
    for block in blocks[1:] or blocks:
        recipient = block.get("Final-Recipient") or block.get("Original-Recipient")
        status = _STATUS.search(str(block.get("Status", "")))
        if recipient is None or status is None:
            continue
        dsn.failures.append(
            Failure(
                address=_address(str(recipient)),
                status=status.group(0),
                action=str(block.get("Action", "")).strip().lower(),
                diagnostic=" ".join(str(block.get("Diagnostic-Code", "")).split()),
            )
        )


def _read_returned(part: MimeMessage, dsn: Dsn) -> None:
    returned = part.get_payload(0) if part.get_content_type() == "message/rfc822" else None
    if returned is None:  # text/rfc822-headers: the headers as the body text
        returned = email.message_from_string(str(part.get_payload()))
    if isinstance(returned, MimeMessage) and returned.get("Message-ID"):
        dsn.original_message_id = parse_rfc_message_id(str(returned["Message-ID"]))


def parse_dsn(raw: bytes) -> Dsn:
    """The recipients, statuses and our references in a DSN (nothing is looked up)."""
    mime = email.message_from_bytes(raw, policy=email.policy.compat32)
    dsn = Dsn()
    for header in ("To", "Delivered-To", "X-Original-To", "Envelope-To"):
        found = _VERP.search(str(mime.get(header, "")))
        if found:
            dsn.verp_message_id = int(found.group(1))
            break
    for part in mime.walk():
        content_type = part.get_content_type()
        if content_type == "message/delivery-status":
            _read_status(part, dsn)
        elif content_type in ("message/rfc822", "text/rfc822-headers"):
            _read_returned(part, dsn)
    if not dsn.failures:
        _detect(mime, dsn)
    return dsn


def _detect(mime: MimeMessage, dsn: Dsn) -> None:
    temporary, permanent = all_failures(mime)
    for address in sorted(permanent):
        dsn.failures.append(Failure(address.decode().lower(), "5.0.0", "failed"))
    for address in sorted(temporary - permanent):
        dsn.failures.append(Failure(address.decode().lower(), "4.0.0", "delayed"))


def _find_message(session: Session, dsn: Dsn, workspace_id: uuid.UUID | None) -> Message | None:
    envelope = dsn.envelope_id or ""
    candidates = [
        dsn.verp_message_id,
        int(envelope) if envelope.isdigit() else None,
        dsn.original_message_id,
    ]
    for message_id in candidates:
        if message_id is None:
            continue
        # Given a workspace (the API, the CLI), only that workspace's messages are candidates.
        message = (
            session.get(Message, message_id)
            if workspace_id is None
            else session.scalar(in_workspace(Message, workspace_id).where(Message.id == message_id))
        )
        if message is not None and message.channel == Channel.EMAIL.value:
            return message
    return None


def process_dsn(
    session: Session, raw: bytes, workspace_id: uuid.UUID | None = None
) -> BounceReport:
    """Apply one DSN to its message (only a message of ``workspace_id`` when given)."""
    dsn = parse_dsn(raw)
    if not dsn.failures:
        return BounceReport(None, "not_a_bounce")
    message = _find_message(session, dsn, workspace_id)
    failure = _worst(dsn.failures, message.address if message else None)
    if message is None:
        return BounceReport(None, "unknown_message", failure.address, failure.status)
    detail = {
        "status": failure.status,
        "action": failure.action,
        "diagnostic": failure.diagnostic[:500],
        "recipient": failure.address,
    }
    report = BounceReport(message.id, failure.kind, failure.address, failure.status)
    if failure.kind == "soft":
        outbox.record_event(session, message, "deferred", detail)
    elif failure.kind in ("hard", "policy"):
        _bounce(session, message, failure, detail)
        report.suppressed = failure.kind == "hard"
    return report


def _worst(failures: list[Failure], address: str | None) -> Failure:
    mine = [f for f in failures if address is None or f.address == address.lower()] or failures
    return min(mine, key=lambda f: {"hard": 0, "policy": 1, "soft": 2}.get(f.kind, 3))


def _bounce(session: Session, message: Message, failure: Failure, detail: dict[str, Any]) -> None:
    message.status = MessageStatus.BOUNCED.value
    message.last_error = f"{failure.status} {failure.diagnostic}".strip()[:2000]
    outbox.record_event(
        session, message, MessageStatus.BOUNCED.value, detail | {"type": failure.kind}
    )
    if failure.kind == "hard":
        consent.suppress(
            session,
            message.workspace_id,
            Channel.EMAIL.value,
            (message.address or failure.address).lower(),
            "hard_bounce",
            message.id,
            detail,
        )
    properties = {"status": failure.status, "type": failure.kind, "recipient": failure.address}
    events.record(session, message, "Email Bounced", properties, utcnow())
