"""Check-in: at the entrance (badge QR or the mobile typed by staff; a walk-in registers on
the spot) and at booth and session points (the attendee scans the point's QR). One row per
registration and point: a retry or a second scan records nothing and says so."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadpond.db.engine import dialect_insert
from leadpond.engage import events as ev
from leadpond.engage import events_registration as registrations
from leadpond.engage.events_models import (
    Attendance,
    EventCheckin,
    EventRegistration,
    MarketingEvent,
    RegistrationStatus,
)
from leadpond.engage.events_registration import Attendee, NotApproved

ENTRANCE = "entrance"


@dataclass(frozen=True)
class Checkin:
    registration: EventRegistration
    already: bool  # a repeat: nothing was recorded
    walk_in: bool = False


def _record(
    session: Session,
    registration: EventRegistration,
    point: str,
    method: str,
    now: datetime,
) -> bool:
    """Insert the check-in; False when this registration was already seen at this point."""
    new_id = session.scalar(
        dialect_insert(session, EventCheckin)
        .values(
            workspace_id=registration.workspace_id,
            event_id=registration.event_id,
            registration_id=registration.id,
            point=point,
            method=method,
            at=now,
        )
        .on_conflict_do_nothing(index_elements=["registration_id", "point"])
        .returning(EventCheckin.id)
    )
    return new_id is not None


def _enter(
    session: Session,
    event: MarketingEvent,
    registration: EventRegistration,
    method: str,
    now: datetime,
) -> bool:
    if registration.status != RegistrationStatus.APPROVED:
        raise NotApproved(f"this registration is {registration.status}, not approved")
    if not _record(session, registration, ENTRANCE, method, now):
        return False
    registration.attendance = Attendance.CHECKED_IN.value
    registration.checked_in_at = now
    properties = ev.base_properties(event) | {"checkin_point": ENTRANCE, "method": method}
    message_id = f"event-{event.id}-checkin-{registration.id}-{ENTRANCE}"
    ev.emit(session, registration, ev.CHECKED_IN, properties, message_id, now)
    return True


def check_in_badge(session: Session, event: MarketingEvent, token: str, now: datetime) -> Checkin:
    """Check the badge's holder in (``badge_qr``)."""
    registration = ev.registration_of_badge(session, event, token)
    return Checkin(registration, not _enter(session, event, registration, "badge_qr", now))


def check_in_mobile(
    session: Session, event: MarketingEvent, attendee: Attendee, now: datetime
) -> Checkin:
    """Check in by the mobile typed at the desk; someone not registered is registered as a
    walk-in (admitted: staff let them in) and checked in."""
    registration, created = registrations.register(
        session, event, attendee, source="walk_in", anonymous_id=None, now=now, admit=True
    )
    method = "walk_in" if created else "phone_lookup"
    entered = _enter(session, event, registration, method, now)
    return Checkin(registration, not entered, created)


def check_in_point(
    session: Session,
    event: MarketingEvent,
    registration: EventRegistration,
    point: str,
    now: datetime,
) -> bool:
    """Record the attendee at a booth (``booth:<key>``) or a session (``session:<key>``);
    False when they were already seen there."""
    kind, _, key = point.partition(":")
    item = ev.booth(event, key) if kind == "booth" else ev.event_session(event, key)
    if registration.status == RegistrationStatus.REJECTED:
        raise NotApproved("this registration was not accepted")
    if not _record(session, registration, point, "point_qr", now):
        return False
    properties: dict[str, Any]
    if kind == "booth":
        name, properties = (
            ev.BOOTH_CHECKED_IN,
            {
                "event_id": event.key,
                "booth_id": f"{event.key}-{key}",
                "booth_name": item.get("name", key),
                "product_line": item.get("product_line", ""),
                "points": item.get("points", 0),
            },
        )
    else:
        name, properties = (
            ev.SESSION_CHECKED_IN,
            ev.base_properties(event)
            | {
                "session_id": f"{event.key}-{key}",
                "session_title": item.get("title", key),
                "forum": item.get("forum", "main"),
                "speaker": item.get("speaker", ""),
            },
        )
    message_id = f"event-{event.id}-checkin-{registration.id}-{point}"
    ev.emit(session, registration, name, properties, message_id, now)
    return True


def points_of(session: Session, registration_ids: list[int]) -> dict[int, list[EventCheckin]]:
    """Each registration's check-ins, in time order."""
    found: dict[int, list[EventCheckin]] = {}
    if registration_ids:
        rows = session.scalars(
            select(EventCheckin)
            .where(EventCheckin.registration_id.in_(registration_ids))
            .order_by(EventCheckin.at, EventCheckin.id)
        )
        for row in rows:
            found.setdefault(row.registration_id, []).append(row)
    return found
