"""Consent per person × channel, and addresses no message goes to.

Email and SMS follow the opt-out model Chinese marketing rules allow (a person with no row may
get marketing; an unsubscribe stops it, at once and for good until they subscribe again).
Transactional messages ignore unsubscribes but never go to a suppressed address. WeChat template
messages are service notices only: a marketing template on WeChat is refused when saved.

The ``unsubscribed`` / ``do_not_contact`` traits (the convention before this table; migrated to
rows by revision 20261206_1410) still count as an unsubscribe from every channel, so an identify
call that sets them keeps working without a pipeline stage writing rows behind it.
"""

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from leadpond.channels.models import (
    Purpose,
    Subscription,
    SubscriptionStatus,
    SuppressedAddress,
)
from leadpond.db.engine import dialect_insert
from leadpond.kit.clock import utcnow
from leadpond.kit.scope import owned
from leadpond.profiles.models import Person

# Statuses that stop marketing on a channel.
OPTED_OUT = (
    SubscriptionStatus.UNSUBSCRIBED.value,
    SubscriptionStatus.BOUNCED.value,
    SubscriptionStatus.COMPLAINED.value,
)
OPT_OUT_TRAITS = ("unsubscribed", "do_not_contact", "doNotContact")
_TRUE = {"true", "yes", "1", "y", "是"}


def trait_opted_out(traits: dict[str, Any]) -> bool:
    """The traits say the person must not get marketing (``unsubscribed``, ``do_not_contact``)."""
    for name in OPT_OUT_TRAITS:
        value = traits.get(name)
        if value is True or (isinstance(value, int | float) and value == 1):
            return True
        if isinstance(value, str) and value.strip().lower() in _TRUE:
            return True
    return False


def _of_person(person_id: int) -> Any:
    """The person and everyone merged into them: an unsubscribe survives a merge."""
    merged = select(Person.id).where(Person.merged_into_id == person_id)
    return or_(Subscription.person_id == person_id, Subscription.person_id.in_(merged))


def status(session: Session, workspace_id: uuid.UUID, person_id: int, channel: str) -> str | None:
    """The person's subscription status on a channel (None: they never said)."""
    found = list(
        session.execute(
            select(Subscription.status, Subscription.changed_at)
            .where(
                owned(Subscription, workspace_id),
                Subscription.channel == channel,
                _of_person(person_id),
            )
            .order_by(Subscription.changed_at.desc())
        )
    )
    # Any opt-out among merged people wins: nobody is re-subscribed by a merge.
    opted_out = [s for s, _ in found if s in OPTED_OUT]
    if opted_out:
        return opted_out[0]
    return found[0][0] if found else None


def _set(
    session: Session,
    workspace_id: uuid.UUID,
    person_id: int,
    channel: str,
    state: str,
    source: str,
    detail: dict[str, Any] | None,
) -> None:
    values = {
        "workspace_id": workspace_id,
        "person_id": person_id,
        "channel": channel,
        "status": state,
        "source": source[:255],
        "changed_at": utcnow(),
        "detail": detail or {},
    }
    statement = dialect_insert(session, Subscription).values(**values)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["workspace_id", "person_id", "channel"],
            set_={k: statement.excluded[k] for k in ("status", "source", "changed_at", "detail")},
        )
    )


def subscribe(
    session: Session,
    workspace_id: uuid.UUID,
    person_id: int,
    channel: str,
    source: str,
    detail: dict[str, Any] | None = None,
) -> None:
    """Record that the person asked for messages on a channel (source: the form and wording)."""
    _set(session, workspace_id, person_id, channel, SubscriptionStatus.SUBSCRIBED, source, detail)


def unsubscribe(
    session: Session,
    workspace_id: uuid.UUID,
    person_id: int,
    channel: str,
    source: str,
    detail: dict[str, Any] | None = None,
) -> None:
    """Record that the person opted out of a channel (source: the link, the console…)."""
    _set(session, workspace_id, person_id, channel, SubscriptionStatus.UNSUBSCRIBED, source, detail)


def suppress(
    session: Session,
    workspace_id: uuid.UUID,
    channel: str,
    address: str,
    reason: str,
    message_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Never send to this address again on this channel (a hard bounce, a complaint)."""
    session.execute(
        dialect_insert(session, SuppressedAddress)
        .values(
            workspace_id=workspace_id,
            channel=channel,
            address=_address_key(address),
            reason=reason[:32],
            message_id=message_id,
            created_at=utcnow(),
            detail=detail or {},
        )
        .on_conflict_do_nothing(index_elements=["workspace_id", "channel", "address"])
    )


def _address_key(address: str) -> str:
    return address.strip().lower()[:320]


def is_suppressed(session: Session, workspace_id: uuid.UUID, channel: str, address: str) -> bool:
    """True when no message may go to this address on this channel."""
    return bool(suppressed(session, workspace_id, [(channel, address)]))


def suppressed(
    session: Session, workspace_id: uuid.UUID, pairs: Iterable[tuple[str, str]]
) -> set[tuple[str, str]]:
    """Which of these (channel, address) pairs no message may go to (addresses as given)."""
    wanted = {(channel, _address_key(address)): (channel, address) for channel, address in pairs}
    if not wanted:
        return set()
    found = session.execute(
        select(SuppressedAddress.channel, SuppressedAddress.address).where(
            owned(SuppressedAddress, workspace_id),
            SuppressedAddress.channel.in_({channel for channel, _ in wanted}),
            SuppressedAddress.address.in_({key for _, key in wanted}),
        )
    )
    return {wanted[(channel, key)] for channel, key in found if (channel, key) in wanted}


def consent_problem(traits: dict[str, Any], purpose: str, opted_out: bool) -> str | None:
    """Why a message may not go to the person (``unsubscribed``), or None when it may;
    ``opted_out``: their subscription on the channel says so (:func:`opted_out_on`)."""
    if purpose != Purpose.MARKETING:
        return None
    if trait_opted_out(traits) or opted_out:
        return "unsubscribed"
    return None


def opted_out_on(
    session: Session,
    workspace_id: uuid.UUID,
    person_ids: Iterable[int],
    channels: Iterable[str],
) -> set[tuple[int, str]]:
    """Which (person, channel) pairs of these people and channels are opted out: by the
    person, or by anyone merged into them (as :func:`status` reads it)."""
    ids, wanted = set(person_ids), set(channels)
    if not ids or not wanted:
        return set()
    found = session.execute(
        select(Subscription.person_id, Person.merged_into_id, Subscription.channel)
        .join(Person, Person.id == Subscription.person_id)
        .where(
            owned(Subscription, workspace_id),
            or_(Subscription.person_id.in_(ids), Person.merged_into_id.in_(ids)),
            Subscription.channel.in_(wanted),
            Subscription.status.in_(OPTED_OUT),
        )
    )
    pairs = set()
    for person_id, merged_into_id, channel in found:
        for owner in (person_id, merged_into_id):
            if owner in ids:
                pairs.add((owner, channel))
    return pairs


def opted_out_people(
    session: Session, workspace_id: uuid.UUID, person_ids: Iterable[int]
) -> set[int]:
    """Which of these people opted out of email or SMS (for exports' suppression column)."""
    ids = list(person_ids)
    if not ids:
        return set()
    # Someone merged into one of them opted out: so did the person they became.
    found = session.scalars(
        select(func.coalesce(Person.merged_into_id, Person.id))
        .select_from(Subscription)
        .join(Person, Person.id == Subscription.person_id)
        .where(
            owned(Subscription, workspace_id),
            or_(Subscription.person_id.in_(ids), Person.merged_into_id.in_(ids)),
            Subscription.channel.in_(("email", "sms")),
            Subscription.status.in_(OPTED_OUT),
        )
    )
    return set(found) & set(ids)
