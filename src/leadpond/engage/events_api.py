"""Events over HTTP (``/api/v1/events``): the record, registrations with approval, check-ins,
webinar attendance, no-shows, staff and point links, badges, the accounts report."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from leadpond.db.engine import unit_of_work
from leadpond.engage import events as ev
from leadpond.engage import events_attendance as attendance
from leadpond.engage import events_checkin as checkins
from leadpond.engage import events_registration as registrations
from leadpond.engage import events_report as report
from leadpond.engage.events_badges import badges_pdf
from leadpond.engage.events_models import MarketingEvent
from leadpond.engage.events_schemas import (
    AttendanceBody,
    AttendanceResult,
    CheckinBody,
    CheckinResult,
    EventBody,
    EventList,
    EventRead,
    NoShowResult,
    NotifyBody,
    NotifyResult,
    PointLink,
    RegistrationBody,
    RegistrationList,
    RegistrationRead,
    RowProblem,
    StaffLink,
    event_read_fields,
)
from leadpond.kit.clock import utcnow
from leadpond.kit.errors import InvalidInput, PayloadTooLarge
from leadpond.kit.http import ReadSession, RowId, WriteSession
from leadpond.kit.pagination import Paging
from leadpond.users.permissions import EventsRead, EventsWrite

router = APIRouter(prefix="/api/v1/events", tags=["events"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_ATTENDANCE_BYTES = 20 * 1024 * 1024


def event_read(session: Session, event: MarketingEvent) -> EventRead:
    by_status, came = ev.counts(session, event)
    return EventRead(
        **event_read_fields(event),
        url=ev.site_url(event),
        register_url=f"{ev.site_url(event)}/register",
        registrations=by_status,
        checked_in=came,
    )


@router.post("", status_code=201, response_model=EventRead)
def create_event(body: EventBody, actor: EventsWrite, session: WriteSession) -> EventRead:
    """A conference, salon, webinar or training; times without an offset are local."""
    return event_read(session, ev.create_event(session, actor.workspace_id, body, actor.via))


@router.get("", response_model=EventList)
def list_events(actor: EventsRead, session: ReadSession, paging: Paging) -> EventList:
    """The workspace's events, the latest first."""
    total, found = ev.list_events(session, actor.workspace_id, paging)
    return EventList(total=total, items=[event_read(session, e) for e in found])


@router.get("/{event_id}", response_model=EventRead)
def read_event(event_id: RowId, actor: EventsRead, session: ReadSession) -> EventRead:
    return event_read(session, ev.get_event(session, actor.workspace_id, event_id))


@router.put("/{event_id}", response_model=EventRead)
def update_event(
    event_id: RowId, body: EventBody, actor: EventsWrite, session: WriteSession
) -> EventRead:
    """Replace the event (moving it re-schedules its reminder and no-show marking)."""
    return event_read(session, ev.update_event(session, actor.workspace_id, event_id, body))


@router.get("/{event_id}/registrations", response_model=RegistrationList)
def list_registrations(
    event_id: RowId,
    actor: EventsRead,
    session: ReadSession,
    paging: Paging,
    status: Annotated[str | None, Query(pattern="^(approved|pending|waitlisted|rejected)$")] = None,
) -> RegistrationList:
    event = ev.get_event(session, actor.workspace_id, event_id)
    total, found = registrations.list_registrations(session, event, paging, status)
    return RegistrationList(total=total, items=[RegistrationRead.model_validate(r) for r in found])


@router.post("/{event_id}/registrations", response_model=RegistrationRead)
def register(
    event_id: RowId, body: RegistrationBody, actor: EventsWrite, session: WriteSession
) -> RegistrationRead:
    """Register someone (a CRM or another system): the same rules as the public page —
    seats, waitlist, approval; the same person again answers their registration."""
    event = ev.get_event(session, actor.workspace_id, event_id)
    attendee = registrations.attendee_from(body.model_dump(), required=())
    registration, _ = registrations.register(
        session, event, attendee, source="api", anonymous_id=None, now=utcnow()
    )
    return RegistrationRead.model_validate(registration)


@router.post("/{event_id}/registrations/{registration_id}:approve", response_model=RegistrationRead)
def approve(
    event_id: RowId, registration_id: RowId, actor: EventsWrite, session: WriteSession
) -> RegistrationRead:
    """Give a pending or waitlisted registration its seat (the confirmation is queued)."""
    event = ev.get_event(session, actor.workspace_id, event_id)
    return RegistrationRead.model_validate(registrations.approve(session, event, registration_id))


@router.post("/{event_id}/registrations/{registration_id}:reject", response_model=RegistrationRead)
def reject(
    event_id: RowId, registration_id: RowId, actor: EventsWrite, session: WriteSession
) -> RegistrationRead:
    """Turn a registration down; its seat goes to the first on the waitlist."""
    event = ev.get_event(session, actor.workspace_id, event_id)
    return RegistrationRead.model_validate(registrations.reject(session, event, registration_id))


def check_in(session: Session, event: MarketingEvent, body: CheckinBody) -> CheckinResult:
    """The entrance check-in of the API and the staff page."""
    now = utcnow()
    if body.badge_token is not None:
        done = checkins.check_in_badge(session, event, body.badge_token, now)
    else:
        values = body.model_dump(exclude={"badge_token"})
        attendee = registrations.attendee_from(values, required=("mobile",))
        done = checkins.check_in_mobile(session, event, attendee, now)
    return CheckinResult(
        registration=RegistrationRead.model_validate(done.registration),
        already_checked_in=done.already,
        walk_in=done.walk_in,
    )


@router.post("/{event_id}/checkins", response_model=CheckinResult)
def create_checkin(
    event_id: RowId, body: CheckinBody, actor: EventsWrite, session: WriteSession
) -> CheckinResult:
    """Check someone in at the entrance by badge token or mobile. Idempotent: a repeat
    answers ``already_checked_in`` and records nothing; an unknown mobile is a walk-in."""
    return check_in(session, ev.get_event(session, actor.workspace_id, event_id), body)


def _result(found: attendance.AttendanceReport) -> AttendanceResult:
    return AttendanceResult(
        recorded=found.recorded,
        unchanged=found.unchanged,
        registered=found.registered,
        rejected=[RowProblem(row=r, message=m) for r, m in found.rejected],
    )


@router.post("/{event_id}/attendance", response_model=AttendanceResult)
def report_attendance(
    event_id: RowId, body: AttendanceBody, actor: EventsWrite, session: WriteSession
) -> AttendanceResult:
    """A live platform reports viewers (mobile or email, watch minutes): each becomes
    ``Webinar Attended``; bad ones are listed by their position (from 1)."""
    event = ev.get_event(session, actor.workspace_id, event_id)
    viewers = [a.model_dump() for a in body.attendees]
    return _result(attendance.record_viewers(session, event, viewers, utcnow()))


_UPLOAD: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            }
        },
    }
}


def _import(workspace_id: Any, event_id: int, upload: UploadFile) -> AttendanceResult:
    with unit_of_work() as session:
        event = ev.get_event(session, workspace_id, event_id)
        found = attendance.import_attendance(
            session, event, upload.file, upload.filename or "", utcnow()
        )
        return _result(found)


@router.post(
    "/{event_id}/attendance:import", response_model=AttendanceResult, openapi_extra=_UPLOAD
)
async def import_attendance(
    event_id: RowId, request: Request, actor: EventsWrite
) -> AttendanceResult:
    """A webinar platform's export (CSV or XLSX: 手机/mobile, 邮箱/email, 观看时长/watch
    minutes…): good rows are recorded, every bad row is reported with its row number."""
    async with request.form(max_files=1, max_fields=4) as form:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise InvalidInput("the multipart field 'file' is required", field="file")
        if upload.size is not None and upload.size > MAX_ATTENDANCE_BYTES:
            raise PayloadTooLarge(
                f"an attendance file may hold at most {MAX_ATTENDANCE_BYTES} bytes"
            )
        return await run_in_threadpool(_import, actor.workspace_id, event_id, upload)


@router.post("/{event_id}:mark-no-shows", response_model=NoShowResult)
def mark_no_shows(event_id: RowId, actor: EventsWrite, session: WriteSession) -> NoShowResult:
    """After the end (also done by a job at the end): approved registrations that neither
    checked in nor watched become no-shows."""
    event = ev.get_event(session, actor.workspace_id, event_id)
    return NoShowResult(no_shows=attendance.mark_no_shows(session, event, utcnow()))


@router.post("/{event_id}/staff-link", response_model=StaffLink)
def staff_link(event_id: RowId, actor: EventsWrite, session: WriteSession) -> StaffLink:
    """A link to the staff check-in page (valid 60 days; whoever holds it checks people in)."""
    return StaffLink(url=ev.staff_url(session, ev.get_event(session, actor.workspace_id, event_id)))


@router.post("/{event_id}/points", response_model=list[PointLink])
def point_links(event_id: RowId, actor: EventsWrite, session: WriteSession) -> list[PointLink]:
    """The check-in QR of every booth and session (signed links, SVG to print)."""
    event = ev.get_event(session, actor.workspace_id, event_id)
    return [
        PointLink(point=point, name=name, url=url, qr_svg=svg)
        for point, name, url, svg in ev.point_links(session, event)
    ]


@router.get("/{event_id}/badges.pdf", responses={200: {"content": {"application/pdf": {}}}})
def badges(
    event_id: RowId,
    actor: EventsRead,
    session: WriteSession,
    registration_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
) -> Response:
    """Printable badges: one attendee's, or every approved registration's."""
    event = ev.get_event(session, actor.workspace_id, event_id)
    if registration_id is not None:
        chosen = [registrations.get_registration(session, event, registration_id)]
    else:
        chosen = [r for r in attendance.registrations_of(session, event) if r.status == "approved"]
    pdf = badges_pdf(session, event, chosen)
    name = f"badges-{event.key}.pdf"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(pdf, media_type="application/pdf", headers=headers)


@router.get("/{event_id}/accounts-report")
def accounts_report(event_id: RowId, actor: EventsRead, session: ReadSession) -> dict[str, Any]:
    """Per account that registered: who came, roles, booths, sessions, content taken, the
    engagement change and a suggested next step."""
    event = ev.get_event(session, actor.workspace_id, event_id)
    lines = report.accounts_report(session, event)
    return {"event_id": event.id, "items": [report.as_dict(line) for line in lines]}


@router.get("/{event_id}/accounts-report.xlsx", responses={200: {"content": {XLSX: {}}}})
def accounts_report_xlsx(event_id: RowId, actor: EventsRead, session: ReadSession) -> Response:
    """The accounts report as an XLSX workbook (one row per attendee)."""
    event = ev.get_event(session, actor.workspace_id, event_id)
    content = report.as_xlsx(event, report.accounts_report(session, event))
    headers = {"Content-Disposition": f'attachment; filename="accounts-{event.key}.xlsx"'}
    return Response(content, media_type=XLSX, headers=headers)


@router.post("/{event_id}/accounts-report:notify", response_model=NotifyResult)
def notify_owners(
    event_id: RowId, body: NotifyBody, actor: EventsWrite, session: WriteSession
) -> NotifyResult:
    """Send each account's owner their account's lines (once per event and account)."""
    event = ev.get_event(session, actor.workspace_id, event_id)
    queued, without = report.notify_owners(session, event, body.template, body.email_template)
    return NotifyResult(queued=queued, without_owner=without)
