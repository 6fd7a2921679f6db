"""What an event sends through the channels outbox: the confirmation with the badge, and the
reminder before the start. Each message has an idempotency key per registration and channel,
so a retried job sends nothing twice."""

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadpond.channels import service as channels
from leadpond.engage import events as ev
from leadpond.engage.events_models import EventRegistration, MarketingEvent, RegistrationStatus
from leadpond.engage.events_registration import people_of


def variables(
    session: Session, event: MarketingEvent, registration: EventRegistration
) -> dict[str, Any]:
    """What the templates see besides the person: ``event`` and ``badge``."""
    start = ev.local(event, event.starts_at)
    token = ev.badge_token(session, registration)
    badge_url = ev.badge_url(session, registration, event)
    return {
        "event": {
            "name": event.name_zh,
            "name_en": event.name_en,
            "starts_at": f"{start:%Y-%m-%d %H:%M}",
            "city": event.city,
            "venue": event.venue,
            "url": ev.site_url(event),
            "live_url": event.live_url or "",
        },
        "badge": {"token": token, "url": badge_url, "qr_png_url": f"{badge_url}&format=png"},
        "registration": {"name": registration.name or "", "status": registration.status},
    }


def _send(
    session: Session,
    event: MarketingEvent,
    registration: EventRegistration,
    person_id: int,
    what: str,
) -> int:
    sent = 0
    for channel, address in (("email", registration.email), ("sms", registration.phone)):
        template = event.messages.get(f"{what}_{channel}")
        if not template or not address:
            continue
        channels.send(
            session,
            event.workspace_id,
            channel,
            str(template),
            person_id,
            idempotency_key=f"event-{what}:{registration.id}:{channel}",
            variables=variables(session, event, registration),
            origin=f"event:{event.id}:{what}",
        )
        sent += 1
    return sent


class NotYetProcessed(Exception):
    """The registration's events are not processed yet: the job tries again later."""


def confirm(session: Session, workspace_id: uuid.UUID, registration_id: int) -> int:
    """Queue the confirmation of an approved registration; how many messages were queued."""
    registration = session.scalar(
        select(EventRegistration).where(
            EventRegistration.workspace_id == workspace_id,
            EventRegistration.id == registration_id,
        )
    )
    if registration is None or registration.status != RegistrationStatus.APPROVED:
        return 0
    event = ev.get_event(session, workspace_id, registration.event_id)
    person = people_of(session, workspace_id, [registration]).get(registration.id)
    if person is None:
        raise NotYetProcessed(f"registration {registration_id} is not processed yet")
    return _send(session, event, registration, person, "confirm")


def remind(session: Session, event: MarketingEvent) -> tuple[int, int]:
    """Queue the reminder for every approved registration whose person is known; how many
    messages, and how many registrations were not processed yet (left out)."""
    approved = list(
        session.scalars(
            select(EventRegistration).where(
                EventRegistration.event_id == event.id,
                EventRegistration.status == RegistrationStatus.APPROVED.value,
            )
        )
    )
    people = people_of(session, event.workspace_id, approved)
    sent = sum(
        _send(session, event, registration, people[registration.id], "reminder")
        for registration in approved
        if registration.id in people
    )
    return sent, len(approved) - len(people)
