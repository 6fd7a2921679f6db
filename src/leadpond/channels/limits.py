"""Frequency caps and quiet hours, for marketing messages only.

Both answer "not now, but at this moment": the deliverer then holds the message until then
(``wait``) or skips it (``drop``, reason ``capped`` / ``quiet_hours``), as the channel says.
"""

import uuid
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
    person_id: int,
    channel: str,
    since: datetime,
) -> list[datetime]:
    """When marketing messages on the channel left for the person since ``since``."""
    return list(
        session.scalars(
            select(Message.sent_at).where(
                owned(Message, workspace_id),
                Message.person_id == person_id,
                Message.channel == channel,
                Message.purpose == Purpose.MARKETING.value,
                Message.status.in_(COUNTED),
                Message.sent_at >= since,
            )
        )
    )


def cap_until(
    session: Session,
    workspace_id: uuid.UUID,
    person_id: int,
    channel: str,
    caps: Caps,
    now: datetime,
    also_sent: list[datetime] | None = None,
) -> datetime | None:
    """When the person is under every cap again, or None when they are now.

    ``also_sent``: messages this deliverer just let through for the person (not recorded yet).
    """
    if not caps.marketing:
        return None
    longest = max(rule.days for rule in caps.marketing)
    times = sent_times(session, workspace_id, person_id, channel, now - timedelta(days=longest))
    times = sorted([*times, *(also_sent or [])], reverse=True)
    until: datetime | None = None
    for rule in caps.marketing:
        window = timedelta(days=rule.days)
        recent = [t for t in times if t > now - window]
        if len(recent) >= rule.max:
            # The window frees a place when the max-th most recent message leaves it.
            free_at = recent[rule.max - 1] + window
            until = free_at if until is None else max(until, free_at)
    return until
