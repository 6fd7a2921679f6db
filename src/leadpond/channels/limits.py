"""Frequency caps and quiet hours, for marketing messages only.

Both answer "not now, but at this moment": the deliverer then holds the message until then
(``wait``) or skips it (``drop``, reason ``capped`` / ``quiet_hours``), as the channel says.
"""

import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadpond.channels.models import Message, MessageStatus, Purpose
from leadpond.channels.settings import Caps, QuietHours
from leadpond.kit.scope import owned

# Messages that count against a cap: they left (or may have left) for the person.
COUNTED = (
    MessageStatus.SENT.value,
    MessageStatus.DELIVERED.value,
    MessageStatus.BOUNCED.value,
    MessageStatus.IN_DOUBT.value,
)


def quiet_until(now: datetime, quiet: QuietHours | None) -> datetime | None:
    """When the quiet hours around ``now`` (naive UTC) end, or None outside them.

    ``start`` to ``end`` in the window's time zone; an end before the start wraps past
    midnight (21:00–08:00). Equal start and end mean no quiet hours.
    """
    if quiet is None or quiet.start == quiet.end:
        return None
    zone = quiet.zone()
    local = now.replace(tzinfo=UTC).astimezone(zone)
    clock = local.time().replace(tzinfo=None)
    if quiet.start < quiet.end:
        inside = quiet.start <= clock < quiet.end
        end_day = local.date()
    else:
        inside = clock >= quiet.start or clock < quiet.end
        end_day = local.date() + timedelta(days=1) if clock >= quiet.start else local.date()
    if not inside:
        return None
    # Wall-clock end on that day; zoneinfo resolves a DST gap or fold for us.
    end = datetime.combine(end_day, quiet.end, tzinfo=zone)
    return end.astimezone(UTC).replace(tzinfo=None)


def sent_times(
    session: Session,
    workspace_id: uuid.UUID,
    person_ids: Iterable[int],
    channel: str,
    since: datetime,
) -> dict[int, list[datetime]]:
    """When marketing messages on the channel left for each of these people since ``since``."""
    found = session.execute(
        select(Message.person_id, Message.sent_at).where(
            owned(Message, workspace_id),
            Message.person_id.in_(set(person_ids)),
            Message.channel == channel,
            Message.purpose == Purpose.MARKETING.value,
            Message.status.in_(COUNTED),
            Message.sent_at >= since,
        )
    )
    times: dict[int, list[datetime]] = {}
    for person_id, sent_at in found:
        if person_id is not None and sent_at is not None:
            times.setdefault(person_id, []).append(sent_at)
    return times


def in_flight(
    session: Session,
    workspace_id: uuid.UUID,
    person_ids: Iterable[int],
    channel: str,
    besides: Sequence[int],
) -> dict[int, list[datetime]]:
    """Marketing messages on the channel being sent to each of these people (claimed, no outcome
    yet), other than ``besides`` (the batch asking), with when their lease ends."""
    found = session.execute(
        select(Message.person_id, Message.locked_until).where(
            owned(Message, workspace_id),
            Message.person_id.in_(set(person_ids)),
            Message.channel == channel,
            Message.purpose == Purpose.MARKETING.value,
            Message.status == MessageStatus.SENDING.value,
            Message.id.not_in(besides),
        )
    )
    leases: dict[int, list[datetime]] = {}
    for person_id, locked_until in found:
        if person_id is not None and locked_until is not None:
            leases.setdefault(person_id, []).append(locked_until)
    return leases


def longest_window(caps: Caps) -> timedelta | None:
    """How far back the caps look (None: no caps)."""
    return max((timedelta(days=rule.days) for rule in caps.marketing), default=None)


def cap_until(caps: Caps, now: datetime, sent: Iterable[datetime]) -> datetime | None:
    """When the person is under every cap again, or None when they are now; ``sent``: when
    their marketing messages on the channel left (recorded, and let through by this batch)."""
    if not caps.marketing:
        return None
    times = sorted(sent, reverse=True)
    until: datetime | None = None
    for rule in caps.marketing:
        window = timedelta(days=rule.days)
        recent = [t for t in times if t > now - window]
        if len(recent) >= rule.max:
            # The window frees a place when the max-th most recent message leaves it.
            free_at = recent[rule.max - 1] + window
            until = free_at if until is None else max(until, free_at)
    return until
