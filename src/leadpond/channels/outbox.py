"""The outbox: messages written in the transaction that decides them, claimed under a lease,
handed over at most once, their outcomes recorded with a history entry for every change.

The scheme (docs/channels.md, "Kill -9"): a claim sets ``sending`` with a lease; ``handed_at`` is
committed just before a sub-batch goes to the provider and cleared with its outcomes. A lease
that lapses with ``handed_at`` set means the provider may have the message: it becomes
``in_doubt`` (never sent twice) unless the provider de-duplicates by our key.
"""

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, insert, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from leadpond.channels import events
from leadpond.channels.models import (
    ChannelSettings,
    Message,
    MessageEvent,
    MessageStatus,
)
from leadpond.channels.registry import DEDUPLICATING
from leadpond.channels.senders.base import Outcome, Result
from leadpond.config import get_settings
from leadpond.db.claim import claim_ids
from leadpond.db.engine import dialect_insert, is_postgres
from leadpond.db.wakeup import OUTBOX, ring_after_commit
from leadpond.kit.clock import utcnow
from leadpond.kit.scope import owned

BACKOFF_CAP_S = 6 * 3600.0
ERROR_MAX_LENGTH = 2000
S = MessageStatus


def backoff_s(attempts: int, retry_after_s: float | None = None) -> float:
    """The wait after the ``attempts``-th temporary failure: the base doubled each time, capped,
    and never less than the provider asked for."""
    wait = min(get_settings().channels_backoff_s * 2.0 ** max(attempts - 1, 0), BACKOFF_CAP_S)
    return max(wait, retry_after_s or 0.0)


def record_event(
    session: Session,
    message: Message,
    kind: str,
    detail: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    """Add to the message's history (a status, or opened / clicked / unsubscribed…)."""
    session.add(
        MessageEvent(
            workspace_id=message.workspace_id,
            message_id=message.id,
            kind=kind,
            at=at or utcnow(),
            detail=detail or {},
        )
    )


def set_status(
    session: Session,
    message: Message,
    status: str,
    *,
    reason: str | None = None,
    detail: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    """Move the message to ``status`` and write it in the history (and, for skipped and failed
    messages, on the person's timeline: every message not sent says why)."""
    message.status = status
    message.reason = reason
    message.locked_by = message.locked_until = None
    if status != S.SENDING:
        message.handed_at = None
    history = {**({"reason": reason} if reason else {}), **(detail or {})}
    record_event(session, message, status, history, at)
    if status in (S.SKIPPED, S.FAILED, S.IN_DOUBT):
        what = {S.SKIPPED: "Skipped", S.FAILED: "Failed", S.IN_DOUBT: "In Doubt"}[S(status)]
        properties = {"reason": reason or message.last_error}
        events.record(session, message, events.event_name(message.channel, what), properties, at)


def enqueue(session: Session, workspace_id: uuid.UUID, values: dict[str, Any]) -> Message:
    """Write a queued message (``values``: the Message columns); a message with the same
    idempotency key in the workspace is returned instead, and nothing new is written."""
    new_id = session.scalar(
        dialect_insert(session, Message)
        .values(workspace_id=workspace_id, status=S.QUEUED.value, **values)
        .on_conflict_do_nothing(index_elements=["workspace_id", "idempotency_key"])
        .returning(Message.id)
    )
    message = session.scalars(
        select(Message).where(
            owned(Message, workspace_id),
            Message.idempotency_key == values["idempotency_key"],
        )
    ).one()
    if new_id is not None:
        record_event(session, message, S.QUEUED, {"origin": message.origin})
        ring_after_commit(session, OUTBOX)  # the deliverer claims it once committed
    return message


def claim(
    session: Session,
    deliverer: str,
    lease_s: float,
    limit: int,
    now: datetime,
    workspace_id: uuid.UUID | None = None,
) -> list[Message]:
    """Take up to ``limit`` due messages (of one workspace, when given) under a lease: queued
    and due, or sending with a lapsed lease; a lapsed one the provider may already have goes
    ``in_doubt`` instead."""
    due: Any = or_(
        and_(Message.status == S.QUEUED.value, Message.due_at <= now),
        and_(Message.status == S.SENDING.value, Message.locked_until < now),
    )
    if workspace_id is not None:
        due = and_(due, owned(Message, workspace_id))
    ids = claim_ids(session, Message.id, due, limit)
    if not ids:
        return []
    claimed = []
    rows = session.scalars(select(Message).where(Message.id.in_(ids)).order_by(Message.id))
    for message in rows:
        lapsed = message.status == S.SENDING
        if lapsed and message.handed_at is not None and not _deduplicates(session, message):
            set_status(
                session,
                message,
                S.IN_DOUBT.value,
                detail={"why": "the deliverer stopped after handing it over"},
                at=now,
            )
            continue
        if lapsed and message.attempts >= message.max_attempts:
            message.last_error = "the deliverer of its last attempt stopped without an outcome"
            set_status(session, message, S.FAILED.value, at=now)
            continue
        claimed.append(message)
    _take(session, claimed, deliverer, now + timedelta(seconds=lease_s))
    write_history(
        session,
        [(m.workspace_id, m.id, S.SENDING.value, {"attempt": m.attempts}) for m in claimed],
        now,
    )
    return claimed


def _take(session: Session, claimed: list[Message], deliverer: str, until: datetime) -> None:
    """A new attempt of each claimed message, not handed over yet (a de-duplicating provider's
    doubtful message too): one UPDATE for the batch, mirrored on the loaded objects without
    making them dirty (a flush would write them again, row by row)."""
    if not claimed:
        return
    session.execute(
        update(_messages)
        .where(_messages.c.id.in_([m.id for m in claimed]))
        .values(
            status=S.SENDING.value,
            attempts=_messages.c.attempts + 1,
            handed_at=None,
            locked_by=deliverer,
            locked_until=until,
        )
    )
    for message in claimed:
        set_committed_value(message, "status", S.SENDING.value)
        set_committed_value(message, "attempts", message.attempts + 1)
        set_committed_value(message, "handed_at", None)
        set_committed_value(message, "locked_by", deliverer)
        set_committed_value(message, "locked_until", until)


def _deduplicates(session: Session, message: Message) -> bool:
    provider = session.scalar(
        select(ChannelSettings.provider).where(
            owned(ChannelSettings, message.workspace_id),
            ChannelSettings.channel == message.channel,
        )
    )
    return (message.channel, provider) in DEDUPLICATING


def hand_over(
    session: Session, deliverer: str, ids: Sequence[int], now: datetime, lease_s: float
) -> set[int]:
    """Mark messages as handed to the provider (commit this before calling the sender) and
    renew their lease for the send; returns the ids this deliverer may send: those it still
    holds and nobody handed over yet. A claim whose lease lapsed while its batch was prepared or
    waited for a connection is still ours unless another deliverer claimed it since (then
    ``locked_by`` names that one): only one hand-over of a message ever succeeds."""
    marked = session.scalars(
        update(Message)
        .where(
            Message.id.in_(ids),
            Message.status == S.SENDING.value,
            Message.locked_by == deliverer,
            Message.handed_at.is_(None),
        )
        .values(handed_at=now, locked_until=now + timedelta(seconds=lease_s))
        .returning(Message.id)
        .execution_options(synchronize_session=False)
    )
    return set(marked)


def abandon(session: Session, deliverer: str, ids: Sequence[int], why: str, now: datetime) -> None:
    """Messages this deliverer handed over without learning their outcome become ``in_doubt``
    (or, for a provider that de-duplicates, wait for their lease to lapse and go again)."""
    held = session.scalars(
        select(Message).where(
            Message.id.in_(ids),
            Message.status == S.SENDING.value,
            Message.locked_by == deliverer,
        )
    )
    for message in held:
        if not _deduplicates(session, message):
            set_status(session, message, S.IN_DOUBT.value, detail={"why": why}, at=now)


def hold(session: Session, message: Message, until: datetime, why: str) -> None:
    """Put a claimed message back in the queue until ``until`` (a cap or quiet hours);
    the attempt does not count."""
    message.due_at = until
    message.attempts = max(message.attempts - 1, 0)
    set_status(session, message, S.QUEUED.value, detail={"held": why, "until": until.isoformat()})


def record_outcomes(
    session: Session, deliverer: str, outcomes: Sequence[Outcome], now: datetime
) -> int:
    """Record what the provider answered; returns how many were sent.

    Sent messages, nearly all of them, are written set-wise (one UPDATE, one history INSERT,
    one timeline INSERT for the batch); retries and failures go one by one through
    :func:`set_status`."""
    stmt = select(*_OUTCOME_COLUMNS).where(Message.id.in_([o.message_id for o in outcomes]))
    if is_postgres(session):
        stmt = stmt.with_for_update()
    found = {row.id: row for row in session.execute(stmt)}
    sent: list[tuple[Any, Outcome]] = []
    others: dict[int, Outcome] = {}
    for outcome in outcomes:
        row = found.get(outcome.message_id)
        if row is None:
            continue
        mine = row.status == S.SENDING and row.locked_by == deliverer
        # Declared in doubt after our lease lapsed, and now we know: the answer settles it.
        doubted = row.status == S.IN_DOUBT
        if not (mine or doubted):
            continue
        if outcome.result == Result.SENT:
            sent.append((row, outcome))
        else:
            others[row.id] = outcome
    _record_sent(session, sent, now)
    if others:
        for message in session.scalars(select(Message).where(Message.id.in_(others))):
            _record_unsent(session, message, others[message.id], now)
    return len(sent)


# What recording an outcome reads of a message.
_OUTCOME_COLUMNS = (
    Message.id,
    Message.workspace_id,
    Message.person_id,
    Message.channel,
    Message.template_id,
    Message.status,
    Message.locked_by,
)


_messages = cast(Table, Message.__table__)
_history = cast(Table, MessageEvent.__table__)
_SENT = (
    update(_messages)
    .where(_messages.c.id == bindparam("mid"))
    .values(
        status=S.SENT.value,
        sent_at=bindparam("at"),
        provider_id=bindparam("provider_id"),
        reason=None,
        locked_by=None,
        locked_until=None,
        handed_at=None,
        updated_at=bindparam("at"),
    )
)


def _record_sent(session: Session, sent: list[tuple[Any, Outcome]], now: datetime) -> None:
    if not sent:
        return
    session.execute(
        _SENT, [{"mid": row.id, "at": now, "provider_id": o.provider_id} for row, o in sent]
    )
    write_history(
        session, [(row.workspace_id, row.id, S.SENT.value, _detail(o)) for row, o in sent], now
    )
    events.record_many(
        session, [(row, events.event_name(row.channel, "Sent"), None, now) for row, _ in sent]
    )


def write_history(
    session: Session, entries: Sequence[tuple[uuid.UUID, int, str, dict[str, Any]]], at: datetime
) -> None:
    """Many history entries (workspace, message, kind, detail) at ``at``, in one statement."""
    if entries:
        session.execute(
            insert(_history),
            [
                {"workspace_id": ws, "message_id": mid, "kind": kind, "at": at, "detail": detail}
                for ws, mid, kind, detail in entries
            ],
        )


def _record_unsent(session: Session, message: Message, outcome: Outcome, now: datetime) -> None:
    message.last_error = outcome.detail[:ERROR_MAX_LENGTH]
    if outcome.result == Result.TEMPORARY and message.attempts < message.max_attempts:
        wait = backoff_s(message.attempts, outcome.retry_after_s)
        message.due_at = now + timedelta(seconds=wait)
        set_status(session, message, S.QUEUED.value, detail=_detail(outcome), at=now)
    else:
        set_status(session, message, S.FAILED.value, detail=_detail(outcome), at=now)


def _detail(outcome: Outcome) -> dict[str, Any]:
    detail: dict[str, Any] = {"result": outcome.result.value}
    if outcome.provider_id:
        detail["provider_id"] = outcome.provider_id
    if outcome.detail:
        detail["answer"] = outcome.detail[:ERROR_MAX_LENGTH]
    if outcome.retry_after_s is not None:
        detail["retry_after_s"] = outcome.retry_after_s
    return detail


def record_receipt(
    session: Session,
    workspace_id: uuid.UUID,
    channel: str,
    provider_id: str,
    delivered: bool,
    detail: dict[str, Any],
) -> bool:
    """A provider's delivery receipt: the message (of this workspace, found by the provider's
    id) becomes delivered or bounced, with a history entry and a timeline event. A receipt
    for an unknown id, or one repeated, changes nothing; returns whether it matched."""
    message = session.scalars(
        select(Message).where(
            owned(Message, workspace_id),
            Message.channel == channel,
            Message.provider_id == provider_id,
        )
    ).first()
    if message is None:
        return False
    status = S.DELIVERED if delivered else S.BOUNCED
    if message.status == status:
        return True
    if message.status not in (S.SENT, S.DELIVERED, S.IN_DOUBT):
        # A receipt never revives a failed or skipped message; it is history only.
        record_event(session, message, f"receipt:{status.value}", detail)
        return True
    set_status(session, message, status, detail=detail)
    what = "Delivered" if delivered else "Bounced"
    events.record(session, message, events.event_name(channel, what), detail)
    return True
