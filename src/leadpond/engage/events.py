"""Events: the record (sessions, booths, microsite modules), its public URLs and signed tokens,
and the events it sends through the ingest path (docs/event-marketing.md).

Every event an attendee causes is a Segment message with a deterministic ``messageId``, so a
retried request (or a second scan) writes nothing new to the event log.
"""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit
from zoneinfo import ZoneInfo

import segno
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from leadpond.config import get_settings
from leadpond.engage import forms
from leadpond.engage.events_models import (
    Attendance,
    EventCheckin,
    EventRegistration,
    MarketingEvent,
)
from leadpond.engage.events_schemas import EventBody
from leadpond.engage.forms_render import form_fields
from leadpond.ingest.service import append_events
from leadpond.ingest.spec import normalise
from leadpond.jobs import service as jobs
from leadpond.jobs.models import Job, JobState
from leadpond.kit.clock import isoformat, naive_utc
from leadpond.kit.errors import Conflict, InvalidInput, LeadpondError, NotFound, RefusedValue
from leadpond.kit.pagination import PageQuery, count
from leadpond.kit.scope import owned
from leadpond.workspaces.service import zone_of
from leadpond.workspaces.signing import BadToken, sign, unsign

EVENTS_SOURCE = "events"  # the event log's source of what events record
BADGE, STAFF, POINT = "event-badge", "event-staff", "event-point"
STAFF_LINK_DAYS = 60
REMIND, CLOSE, CONFIRM = "events.remind", "events.close", "events.confirm"
REGISTERED, CHECKED_IN = "Event Registered", "Event Checked In"
BOOTH_CHECKED_IN, SESSION_CHECKED_IN = "Booth Checked In", "Session Checked In"
WEBINAR_ATTENDED = "Webinar Attended"


class EventNotFound(NotFound):
    code = "event_not_found"


class EventKeyTaken(Conflict):
    code = "event_key_taken"


def public_base() -> str:
    return get_settings().public_url.rstrip("/")


def site_url(event: MarketingEvent) -> str:
    return f"{public_base()}/e/{event.key}"


def zone(event: MarketingEvent) -> ZoneInfo:
    return ZoneInfo(event.time_zone)


def local(event: MarketingEvent, moment: datetime) -> datetime:
    """A stored naive-UTC time in the event's time zone."""
    return moment.replace(tzinfo=UTC).astimezone(zone(event))


def _utc(value: datetime, time_zone: str) -> datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(time_zone))
    return naive_utc(value)


def _apply(session: Session, event: MarketingEvent, body: EventBody) -> None:
    time_zone = body.time_zone or zone_of(session, event.workspace_id).key
    starts, ends = _utc(body.starts_at, time_zone), _utc(body.ends_at, time_zone)
    if ends <= starts:
        raise InvalidInput("the event must end after it starts", field="ends_at")
    event.key = body.key
    event.name_zh, event.name_en, event.kind = body.name_zh, body.name_en, body.kind
    event.starts_at, event.ends_at, event.time_zone = starts, ends, time_zone
    event.city, event.venue, event.topic = body.city, body.venue, body.topic
    event.capacity, event.approval_required = body.capacity, body.approval_required
    event.live_url = body.live_url
    event.sessions = [s.model_dump(mode="json") for s in body.sessions]
    event.booths = [b.model_dump(mode="json") for b in body.booths]
    event.site = body.site.model_dump(mode="json")
    event.messages = body.messages.model_dump(mode="json", exclude_none=True)
    event.reminder_hours = body.reminder_hours
    event.registration_form = body.registration_form
    event.surveys = list(dict.fromkeys(body.surveys))


def _key_free(session: Session, key: str, event_id: int | None) -> None:
    taken = session.scalar(select(MarketingEvent.id).where(MarketingEvent.key == key))
    if taken is not None and taken != event_id:
        raise EventKeyTaken(RefusedValue("the event key {key!r} is taken", key=key), field="key")


def _refused(exc: LeadpondError) -> str | RefusedValue:
    """A refusal's message, with its words when it has them (to refuse again in them)."""
    return exc.message if exc.words is None else RefusedValue(exc.words, **exc.params)


def check_form(session: Session, event: MarketingEvent) -> None:
    """An event's registration form must exist in its workspace and ask a mobile or an email
    (a registration is found again by them); its surveys must be forms of its workspace."""
    for index, key in enumerate(event.surveys or []):
        try:
            forms.get_form(session, event.workspace_id, key)
        except LeadpondError as exc:
            raise InvalidInput(_refused(exc), field=f"surveys[{index}]") from exc
    if not event.registration_form:
        return
    try:
        form = forms.get_form(session, event.workspace_id, event.registration_form)
    except LeadpondError as exc:
        raise InvalidInput(_refused(exc), field="registration_form") from exc
    if not any(f.trait() in ("phone", "email") for f in form_fields(form)):
        raise InvalidInput(
            "the registration form must ask a mobile or an email", field="registration_form"
        )


def create_event(
    session: Session, workspace_id: uuid.UUID, body: EventBody, actor: str
) -> MarketingEvent:
    """A new event, with its reminder and its no-show marking scheduled as jobs."""
    _key_free(session, body.key, None)
    event = MarketingEvent(workspace_id=workspace_id, created_by=actor[:128])
    _apply(session, event, body)
    check_form(session, event)
    session.add(event)
    session.flush()
    schedule(session, event)
    return event


def update_event(
    session: Session, workspace_id: uuid.UUID, event_id: int, body: EventBody
) -> MarketingEvent:
    """Replace the event's fields (its key may change: the old URLs stop working)."""
    event = get_event(session, workspace_id, event_id)
    _key_free(session, body.key, event.id)
    _apply(session, event, body)
    check_form(session, event)
    session.flush()
    schedule(session, event)
    return event


def _at(session: Session, event: MarketingEvent, kind: str, key: str, due: datetime) -> None:
    payload = {"event_id": event.id, "starts_at": isoformat(event.starts_at)}
    payload["ends_at"] = isoformat(event.ends_at)
    job = jobs.enqueue(session, kind, key, payload, workspace_id=event.workspace_id, max_attempts=8)
    if job.state == JobState.QUEUED and job.attempts == 0:
        session.execute(update(Job).where(Job.id == job.id).values(run_at=due))


def schedule(session: Session, event: MarketingEvent) -> None:
    """Queue the reminder (``reminder_hours`` before the start) and the no-show marking (at
    the end). The job keys carry the times: moving the event queues new ones, and the old
    ones find nothing to do when they run (the times in their payload are not the event's)."""
    if event.reminder_hours and event.messages:
        due = event.starts_at - timedelta(hours=event.reminder_hours)
        _at(session, event, REMIND, f"remind:{event.id}:{event.starts_at:%Y%m%d%H%M}", due)
    _at(session, event, CLOSE, f"close:{event.id}:{event.ends_at:%Y%m%d%H%M}", event.ends_at)


def still_planned(event: MarketingEvent, payload: dict[str, Any]) -> bool:
    """True when a scheduled job's times are still the event's."""
    return payload.get("starts_at") == isoformat(event.starts_at) and payload.get(
        "ends_at"
    ) == isoformat(event.ends_at)


def get_event(session: Session, workspace_id: uuid.UUID, event_id: int) -> MarketingEvent:
    found = session.scalar(
        select(MarketingEvent).where(
            owned(MarketingEvent, workspace_id), MarketingEvent.id == event_id
        )
    )
    if found is None:
        raise EventNotFound(f"no event {event_id}")
    return found


def event_by_key(session: Session, key: str, lock: bool = False) -> MarketingEvent:
    """The event of a public URL (any workspace), or 404."""
    stmt = select(MarketingEvent).where(MarketingEvent.key == key)
    found = session.scalar(stmt.with_for_update() if lock else stmt)
    if found is None:
        raise EventNotFound("this event does not exist")
    return found


def list_events(
    session: Session, workspace_id: uuid.UUID, page: PageQuery
) -> tuple[int, list[MarketingEvent]]:
    """The workspace's events, the latest start first."""
    stmt = select(MarketingEvent).where(owned(MarketingEvent, workspace_id))
    ordered = stmt.order_by(MarketingEvent.starts_at.desc(), MarketingEvent.id.desc())
    return count(session, stmt), list(session.scalars(page.apply(ordered)))


def counts(session: Session, event: MarketingEvent) -> tuple[dict[str, int], int]:
    """Registrations by status, and how many checked in (or attended the webinar)."""
    by_status = dict(
        session.execute(
            select(EventRegistration.status, func.count())
            .where(EventRegistration.event_id == event.id)
            .group_by(EventRegistration.status)
        ).all()
    )
    came = session.scalar(
        select(func.count()).where(
            EventRegistration.event_id == event.id,
            EventRegistration.attendance.in_((Attendance.CHECKED_IN, Attendance.ATTENDED)),
        )
    )
    return {str(k): int(v) for k, v in by_status.items()}, int(came or 0)


def point_counts(session: Session, event: MarketingEvent) -> dict[str, int]:
    """Check-ins by point (``entrance``, ``booth:<key>``, ``session:<key>``)."""
    rows = session.execute(
        select(EventCheckin.point, func.count())
        .where(EventCheckin.event_id == event.id)
        .group_by(EventCheckin.point)
    )
    return {str(point): int(n) for point, n in rows}


# --- tokens -----------------------------------------------------------------------------


def badge_token(session: Session, registration: EventRegistration) -> str:
    """The badge's QR content: signed, names the registration, good in this workspace only."""
    return sign(session, registration.workspace_id, BADGE, {"r": registration.id})


def badge_url(session: Session, registration: EventRegistration, event: MarketingEvent) -> str:
    """What the badge's QR encodes: its page, the token in ``t`` (a phone camera opens the
    badge; the staff page reads the token out of it)."""
    return f"{site_url(event)}/badge?t={badge_token(session, registration)}"


def token_of(scanned: str) -> str:
    """The badge token of what a scanner read: the token itself, or the badge URL."""
    text = scanned.strip()
    if text.startswith(("http://", "https://")):
        return (parse_qs(urlsplit(text).query).get("t") or [""])[0]
    return text


def registration_of_badge(session: Session, event: MarketingEvent, token: str) -> EventRegistration:
    """The registration a badge token names, if it is one of this event's; else 404."""
    workspace_id, data = unsign(session, token_of(token), BADGE)
    registration_id = data.get("r") if isinstance(data, dict) else None
    if not isinstance(registration_id, int):
        raise BadToken("this badge is not valid")
    found = session.scalar(
        select(EventRegistration).where(
            owned(EventRegistration, workspace_id),
            EventRegistration.id == registration_id,
            EventRegistration.event_id == event.id,
        )
    )
    if found is None:
        raise BadToken("this badge is not one of this event's")
    return found


def staff_url(session: Session, event: MarketingEvent) -> str:
    """The staff check-in page: its token lets whoever holds it check people in (60 days)."""
    token = sign(session, event.workspace_id, STAFF, {"e": event.id})
    return f"{site_url(event)}/staff?t={token}"


def check_staff(session: Session, event: MarketingEvent, token: str) -> None:
    """Raise :class:`BadToken` unless ``token`` is a staff token of this event."""
    workspace_id, data = unsign(session, token, STAFF, STAFF_LINK_DAYS * 86400)
    if (
        workspace_id != event.workspace_id
        or not isinstance(data, dict)
        or data.get("e") != event.id
    ):
        raise BadToken("this staff link is not one of this event's")


def point_url(session: Session, event: MarketingEvent, point: str) -> str:
    """A booth's or session's check-in QR link (``booth:<key>`` → /e/<event>/b/<key>)."""
    kind, _, key = point.partition(":")
    token = sign(session, event.workspace_id, POINT, {"e": event.id, "p": point})
    return f"{site_url(event)}/{kind[0]}/{key}?t={token}"


def check_point(session: Session, event: MarketingEvent, point: str, token: str) -> None:
    """Raise :class:`BadToken` unless ``token`` was signed for this event's ``point``."""
    workspace_id, data = unsign(session, token, POINT)
    if (
        workspace_id != event.workspace_id
        or not isinstance(data, dict)
        or (data.get("e"), data.get("p")) != (event.id, point)
    ):
        raise BadToken("this check-in code is not one of this event's")


def point_names(event: MarketingEvent) -> dict[str, str]:
    """Every booth's and session's check-in point (``booth:b1``) and its name."""
    points = {f"booth:{b['key']}": str(b.get("name", "")) for b in event.booths}
    return points | {f"session:{s['key']}": str(s.get("title", "")) for s in event.sessions}


def point_links(session: Session, event: MarketingEvent) -> list[tuple[str, str, str, str]]:
    """Every booth's and session's check-in point: (point, name, URL, QR as SVG)."""
    made = []
    for point, name in point_names(event).items():
        url = point_url(session, event, point)
        svg = segno.make(url, error="m").svg_inline(scale=4, border=2)
        made.append((point, name, url, svg))
    return made


def booth(event: MarketingEvent, key: str) -> dict[str, Any]:
    for item in event.booths:
        if item.get("key") == key:
            return item
    raise NotFound(f"no booth {key!r} at this event", field="booth")


def event_session(event: MarketingEvent, key: str) -> dict[str, Any]:
    for item in event.sessions:
        if item.get("key") == key:
            return item
    raise NotFound(f"no session {key!r} at this event", field="session")


# --- what the event log hears -----------------------------------------------------------


def attendee_traits(registration: EventRegistration) -> dict[str, str]:
    """What identifies the attendee (and what they typed): in every event's context."""
    traits = {
        "phone": registration.phone,
        "email": registration.email,
        "name": registration.name,
        "company": registration.company,
        "title": registration.title,
    }
    return {k: v for k, v in traits.items() if v}


def base_properties(event: MarketingEvent) -> dict[str, Any]:
    return {"event_id": event.key, "event_name": event.name_zh, "topic": event.topic}


def emit(
    session: Session,
    registration: EventRegistration,
    name: str,
    properties: dict[str, Any],
    message_id: str,
    now: datetime,
) -> None:
    """Record ``name`` for the attendee through the ingest path (an identify first, for a
    registration: what they typed becomes their traits)."""
    traits = attendee_traits(registration)
    context = {"traits": traits, "library": {"name": "leadpond-events", "version": "1"}}
    raws: list[dict[str, Any]] = []
    if name == REGISTERED:
        raws.append(
            {
                "type": "identify",
                "anonymousId": registration.anonymous_id,
                "messageId": f"{message_id}-identify",
                "timestamp": isoformat(now),
                "traits": traits,
                "context": context,
            }
        )
    raws.append(
        {
            "type": "track",
            "event": name,
            "anonymousId": registration.anonymous_id,
            "messageId": message_id,
            "timestamp": isoformat(now),
            "properties": properties,
            "context": context,
        }
    )
    messages = [normalise(raw, received_at=now) for raw in raws]
    append_events(session, registration.workspace_id, messages, now, source=EVENTS_SOURCE)


def registered_message_id(registration: EventRegistration) -> str:
    """The messageId of the registration's ``Event Registered`` (its identify: ``-identify``)."""
    return f"event-{registration.event_id}-registration-{registration.id}"


def survey_forms(session: Session, event: MarketingEvent) -> list[Any]:
    """The event's on-site surveys that are published, in the event's order."""
    found = []
    for key in event.surveys or []:
        try:
            form = forms.get_form(session, event.workspace_id, key)
        except LeadpondError:
            continue
        if form.status == forms.PUBLISHED:
            found.append(form)
    return found


def survey_url(event: MarketingEvent, form_key: str, lang: str) -> str:
    """The survey's page, answered for the event (``Form Submitted`` carries its ``event_id``)."""
    query = {"ws": str(event.workspace_id), "event": event.key, "lang": lang}
    return f"/f/{form_key}?{urlencode(query)}"


def survey_event(
    session: Session, workspace_id: uuid.UUID, event_key: str | None, form_key: str
) -> MarketingEvent | None:
    """The workspace's event of ``event_key`` when it names the form as one of its surveys
    (a page's ``?event=``; anything else is ignored: the answer belongs to no event)."""
    if not event_key:
        return None
    event = session.scalar(
        select(MarketingEvent).where(
            owned(MarketingEvent, workspace_id), MarketingEvent.key == event_key[:64]
        )
    )
    return event if event is not None and form_key in (event.surveys or []) else None
