"""Registering for an event: one registration per person (found again by phone, else email),
seats and the waitlist, optional approval, walk-ins; and finding the person each registration
became once the pipeline processed its events."""

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from leadpond.engage import events as ev
from leadpond.engage.events_models import EventRegistration, MarketingEvent
from leadpond.engage.events_models import RegistrationStatus as Status
from leadpond.ingest.models import Event
from leadpond.jobs import service as jobs
from leadpond.kit.errors import Conflict, InvalidInput, NotFound
from leadpond.kit.pagination import PageQuery, count
from leadpond.kit.scope import owned
from leadpond.normalise.contact import normalise_email, normalise_phone
from leadpond.profiles.models import Person

SEATED = (Status.APPROVED.value, Status.PENDING.value)


class RegistrationNotFound(NotFound):
    code = "registration_not_found"


class NotApproved(Conflict):
    code = "registration_not_approved"


@dataclass(frozen=True)
class FieldSpec:
    """One field of the registration page."""

    name: str
    label_zh: str
    label_en: str
    required: bool
    kind: str = "text"  # the input type


def registration_fields(event: MarketingEvent) -> list[FieldSpec]:
    """The event's own registration fields (until the form builder's forms replace them):
    name and mobile always; company and title for on-site events; email for webinars."""
    online = event.kind == "webinar"
    return [
        FieldSpec("name", "姓名", "Name", True),
        FieldSpec("mobile", "手机号", "Mobile", True, "tel"),
        FieldSpec("email", "邮箱", "Email", online, "email"),
        FieldSpec("company", "公司", "Company", not online),
        FieldSpec("title", "职位", "Job title", False),
    ]


@dataclass
class Attendee:
    """Who registers, checked: phone in E.164, email normalised."""

    phone: str | None = None
    email: str | None = None
    name: str | None = None
    company: str | None = None
    title: str | None = None
    answers: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"phone:{self.phone}" if self.phone else f"email:{self.email}"


def _text(values: Mapping[str, Any], name: str, limit: int) -> str | None:
    raw = values.get(name)
    if raw is None:
        return None
    text = str(raw).strip()
    if len(text) > limit:
        raise InvalidInput(f"{name} is longer than {limit} characters", field=name)
    return text or None


def attendee_from(values: Mapping[str, Any], required: Iterable[str] = ("mobile",)) -> Attendee:
    """The attendee of typed values (``mobile``/``phone``, ``email``, ``name``, ``company``,
    ``title``); a missing required field or a bad mobile or email names its field."""
    raw_phone = _text(values, "mobile", 40) or _text(values, "phone", 40)
    raw_email = _text(values, "email", 320)
    phone = normalise_phone(raw_phone) if raw_phone else None
    if raw_phone and phone is None:
        raise InvalidInput(f"{raw_phone!r} is not a mobile number", field="mobile")
    email = normalise_email(raw_email) if raw_email else None
    if raw_email and email is None:
        raise InvalidInput(f"{raw_email!r} is not an email address", field="email")
    attendee = Attendee(
        phone=phone,
        email=email,
        name=_text(values, "name", 200),
        company=_text(values, "company", 300),
        title=_text(values, "title", 200),
    )
    present = {
        "mobile": attendee.phone,
        "email": attendee.email,
        "name": attendee.name,
        "company": attendee.company,
        "title": attendee.title,
    }
    for name in required:
        if not present.get(name):
            raise InvalidInput(f"{name} is required", field=name)
    if not attendee.phone and not attendee.email:
        raise InvalidInput("a mobile number or an email is required", field="mobile")
    return attendee


def find(session: Session, event: MarketingEvent, attendee: Attendee) -> EventRegistration | None:
    """The event's registration of this person: by phone, else by email."""
    matches: list[Any] = []
    if attendee.phone:
        matches.append(EventRegistration.attendee_key == f"phone:{attendee.phone}")
    if attendee.email:
        matches.append(EventRegistration.email == attendee.email)
        matches.append(EventRegistration.attendee_key == f"email:{attendee.email}")
    if not matches:
        return None
    found = session.scalars(
        select(EventRegistration)
        .where(EventRegistration.event_id == event.id, or_(*matches))
        .order_by(EventRegistration.attendee_key.like("phone:%").desc(), EventRegistration.id)
    )
    return found.first()


def _seats_taken(session: Session, event: MarketingEvent) -> int:
    return int(
        session.scalar(
            select(func.count()).where(
                EventRegistration.event_id == event.id, EventRegistration.status.in_(SEATED)
            )
        )
        or 0
    )


def _lock(session: Session, event: MarketingEvent) -> None:
    # Registrations of one event are serialised (seats, one row per person): a row lock on
    # PostgreSQL; SQLite has one writer anyway.
    session.execute(
        select(MarketingEvent.id).where(MarketingEvent.id == event.id).with_for_update()
    )


def register(
    session: Session,
    event: MarketingEvent,
    attendee: Attendee,
    *,
    source: str,
    anonymous_id: str | None,
    now: datetime,
    admit: bool = False,
) -> tuple[EventRegistration, bool]:
    """Register the attendee (``admit``: a walk-in staff let in, past approval and seats).
    Registering again answers the first registration (its blanks filled) and records nothing.
    Returns the registration and whether it is new."""
    _lock(session, event)
    existing = find(session, event, attendee)
    if existing is not None:
        for name in ("phone", "email", "name", "company", "title"):
            if getattr(existing, name) is None and getattr(attendee, name):
                setattr(existing, name, getattr(attendee, name))
        return existing, False
    if admit:
        status = Status.APPROVED
    elif event.capacity is not None and _seats_taken(session, event) >= event.capacity:
        status = Status.WAITLISTED
    elif event.approval_required:
        status = Status.PENDING
    else:
        status = Status.APPROVED
    registration = EventRegistration(
        workspace_id=event.workspace_id,
        event_id=event.id,
        attendee_key=attendee.key,
        phone=attendee.phone,
        email=attendee.email,
        name=attendee.name,
        company=attendee.company,
        title=attendee.title,
        status=status.value,
        source=source,
        anonymous_id=anonymous_id or str(uuid.uuid4()),
        answers=attendee.answers,
        created_at=now,
    )
    session.add(registration)
    session.flush()
    properties = ev.base_properties(event) | {
        "event_type": event.kind,
        "city": event.city,
        "status": status.value,
        "source": source,
    }
    ev.emit(
        session,
        registration,
        ev.REGISTERED,
        properties,
        ev.registered_message_id(registration),
        now,
    )
    if status == Status.APPROVED:
        queue_confirmation(session, event, registration)
    return registration, True


def queue_confirmation(
    session: Session, event: MarketingEvent, registration: EventRegistration
) -> None:
    """The confirmation (with the badge) as a job: it is sent once the pipeline knows who the
    registration is (a message goes to a person)."""
    if event.messages.get("confirm_email") or event.messages.get("confirm_sms"):
        jobs.enqueue(
            session,
            ev.CONFIRM,
            f"confirm:{registration.id}",
            {"registration_id": registration.id},
            workspace_id=event.workspace_id,
            max_attempts=10,
        )


def get_registration(
    session: Session, event: MarketingEvent, registration_id: int
) -> EventRegistration:
    found = session.scalar(
        select(EventRegistration).where(
            owned(EventRegistration, event.workspace_id),
            EventRegistration.event_id == event.id,
            EventRegistration.id == registration_id,
        )
    )
    if found is None:
        raise RegistrationNotFound(f"no registration {registration_id} for this event")
    return found


def approve(session: Session, event: MarketingEvent, registration_id: int) -> EventRegistration:
    """Give the registration its seat and badge (a marketer may approve past the capacity)."""
    _lock(session, event)
    registration = get_registration(session, event, registration_id)
    if registration.status != Status.APPROVED:
        registration.status = Status.APPROVED.value
        session.flush()
        queue_confirmation(session, event, registration)
    return registration


def reject(session: Session, event: MarketingEvent, registration_id: int) -> EventRegistration:
    """Turn the registration down; a seat it held goes to the first on the waitlist."""
    _lock(session, event)
    registration = get_registration(session, event, registration_id)
    if registration.checked_in_at is not None:
        raise Conflict("this attendee has already checked in", field="registration")
    held = registration.status in SEATED
    registration.status = Status.REJECTED.value
    session.flush()
    if held:
        first = session.scalars(
            select(EventRegistration)
            .where(
                EventRegistration.event_id == event.id,
                EventRegistration.status == Status.WAITLISTED.value,
            )
            .order_by(EventRegistration.id)
            .limit(1)
        ).first()
        if first is not None:
            if event.approval_required:
                first.status = Status.PENDING.value
            else:
                first.status = Status.APPROVED.value
                queue_confirmation(session, event, first)
    return registration


def list_registrations(
    session: Session, event: MarketingEvent, page: PageQuery, status: str | None = None
) -> tuple[int, list[EventRegistration]]:
    """The event's registrations, oldest first (of one status, when given)."""
    stmt = select(EventRegistration).where(
        owned(EventRegistration, event.workspace_id), EventRegistration.event_id == event.id
    )
    if status is not None:
        stmt = stmt.where(EventRegistration.status == status)
    ordered = stmt.order_by(EventRegistration.id)
    return count(session, stmt), list(session.scalars(page.apply(ordered)))


def people_of(
    session: Session, workspace_id: uuid.UUID, registrations: Sequence[EventRegistration]
) -> dict[int, int]:
    """Registration id → the live person it became (after the pipeline processed its
    registration; merges followed to the survivor). Unprocessed ones are absent."""
    by_message = {ev.registered_message_id(r): r.id for r in registrations}
    found: dict[int, int] = {}
    keys = list(by_message)
    for start in range(0, len(keys), 500):
        rows = session.execute(
            select(Event.message_id, Event.person_id).where(
                owned(Event, workspace_id),
                Event.message_id.in_(keys[start : start + 500]),
                Event.person_id.is_not(None),
            )
        )
        for message_id, person_id in rows.tuples():
            if person_id is not None:
                found[by_message[message_id]] = person_id
    pending = set(found.values())
    survivors: dict[int, int] = {}
    for _ in range(8):  # merge chains are short; a survivor's survivor is followed
        if not pending:
            break
        merged = session.execute(
            select(Person.id, Person.merged_into_id).where(
                owned(Person, workspace_id), Person.id.in_(pending)
            )
        )
        pending = set()
        for pid, merged_into in merged.tuples():
            if merged_into is None:
                survivors[pid] = pid
            else:
                survivors[pid] = merged_into
                pending.add(merged_into)

    def last(pid: int) -> int:
        seen = 0
        while survivors.get(pid, pid) != pid and seen < 8:
            pid, seen = survivors[pid], seen + 1
        return pid

    return {rid: last(pid) for rid, pid in found.items()}
