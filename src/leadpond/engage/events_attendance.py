"""Webinar attendance (a platform's export, or its live callback) and no-show marking.

Exports from common platforms (保利威, 小鹅通, 微吼, 腾讯会议, Zoom) name their columns in
several ways; the header names below cover them. Every bad row is reported with its number
(the header is row 1) and the good rows are kept.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from leadpond.engage import events as ev
from leadpond.engage import events_registration as registrations
from leadpond.engage.events_models import (
    Attendance,
    EventRegistration,
    MarketingEvent,
    RegistrationStatus,
)
from leadpond.ingest.import_files import cell_text, read_table
from leadpond.kit.errors import InvalidInput

HEADERS: dict[str, tuple[str, ...]] = {
    "mobile": ("mobile", "phone", "手机", "手机号", "手机号码", "电话", "联系电话", "phone number"),
    "email": ("email", "e-mail", "邮箱", "电子邮箱", "邮件", "user email"),
    "name": ("name", "姓名", "昵称", "用户名", "观众", "name (original name)"),
    "company": ("company", "公司", "单位", "公司名称", "企业"),
    "watch_minutes": (
        "watch_minutes",
        "watch minutes",
        "观看时长",
        "观看时长(分钟)",
        "观看时长（分钟）",
        "观看分钟",
        "在线时长",
        "在线时长(分钟)",
        "duration (minutes)",
        "duration",
        "time in session (minutes)",
    ),
    "mode": ("mode", "观看方式", "类型"),
}
MAX_ROWS = 50_000


@dataclass
class AttendanceReport:
    recorded: int = 0
    unchanged: int = 0
    registered: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)


def _columns(headers: list[str]) -> dict[str, int]:
    wanted = {alias.lower(): name for name, aliases in HEADERS.items() for alias in aliases}
    found: dict[str, int] = {}
    for index, header in enumerate(headers):
        name = wanted.get(header.strip().lower())
        if name is not None and name not in found:
            found[name] = index
    if "watch_minutes" not in found:
        raise InvalidInput("no watch-minutes column (观看时长 / watch_minutes)", field="file")
    if "mobile" not in found and "email" not in found:
        raise InvalidInput("no mobile (手机) or email (邮箱) column", field="file")
    return found


def _minutes(raw: str | None) -> int:
    if raw is None:
        raise ValueError("the watch minutes are empty")
    text = raw.replace("分钟", "").replace("min", "").strip()
    if ":" in text:  # 01:23:45 or 23:45
        parts = [float(p) for p in text.split(":")]
        seconds: float = sum(p * 60.0**i for i, p in enumerate(reversed(parts)))
        return int(seconds // 60)
    value = float(text)
    if value < 0:
        raise ValueError("the watch minutes are negative")
    return round(value)


def record_viewer(
    session: Session,
    event: MarketingEvent,
    values: dict[str, Any],
    minutes: int,
    mode: str,
    now: datetime,
    report: AttendanceReport,
) -> None:
    """One viewer: registered if they had not (``import``), their minutes kept (the largest
    reported), ``Webinar Attended`` recorded once per viewer and mode (more minutes later
    update the registration, not the timeline)."""
    attendee = registrations.attendee_from(values, required=())
    registration, created = registrations.register(
        session, event, attendee, source="import", anonymous_id=None, now=now, admit=True
    )
    report.registered += int(created)
    if registration.watch_minutes is not None and registration.watch_minutes >= minutes:
        report.unchanged += 1
        return
    registration.watch_minutes = minutes
    registration.attendance = Attendance.ATTENDED.value
    properties = ev.base_properties(event) | {"watch_minutes": minutes, "mode": mode}
    message_id = f"event-{event.id}-webinar-{registration.id}-{mode}"
    ev.emit(session, registration, ev.WEBINAR_ATTENDED, properties, message_id, now)
    report.recorded += 1


def import_attendance(
    session: Session, event: MarketingEvent, stream: IO[bytes], filename: str, now: datetime
) -> AttendanceReport:
    """Read a platform's export (CSV or XLSX) and record every good row."""
    headers, rows = read_table(stream, filename)
    report = AttendanceReport()
    try:
        columns = _columns(headers)
        for number, row in enumerate(rows, start=2):
            if number > MAX_ROWS + 1:
                raise InvalidInput(f"the file has more than {MAX_ROWS} rows", field="file")
            cells = {
                name: cell_text(row[i]) if i < len(row) else None for name, i in columns.items()
            }
            if not any(cells.values()):
                continue
            try:
                minutes = _minutes(cells.get("watch_minutes"))
                mode = (
                    "replay" if (cells.get("mode") or "").lower() in ("replay", "回放") else "live"
                )
                with session.begin_nested():
                    record_viewer(session, event, dict(cells), minutes, mode, now, report)
            except (ValueError, InvalidInput) as exc:
                message = exc.message if isinstance(exc, InvalidInput) else str(exc)
                report.rejected.append((number, message))
    finally:
        rows.close()
    return report


def record_viewers(
    session: Session, event: MarketingEvent, viewers: Iterable[dict[str, Any]], now: datetime
) -> AttendanceReport:
    """A live platform's report (JSON): each viewer as an import row; bad ones are listed."""
    report = AttendanceReport()
    for number, viewer in enumerate(viewers, start=1):
        try:
            with session.begin_nested():
                record_viewer(
                    session,
                    event,
                    viewer,
                    int(viewer["watch_minutes"]),
                    viewer["mode"],
                    now,
                    report,
                )
        except InvalidInput as exc:
            report.rejected.append((number, exc.message))
    return report


def mark_no_shows(session: Session, event: MarketingEvent, now: datetime) -> int:
    """After the end: approved registrations that neither checked in nor watched are no-shows."""
    if now < event.ends_at:
        raise InvalidInput("the event has not ended yet", field="event")
    marked = session.execute(
        update(EventRegistration)
        .where(
            EventRegistration.event_id == event.id,
            EventRegistration.status == RegistrationStatus.APPROVED.value,
            EventRegistration.attendance == Attendance.REGISTERED.value,
        )
        .values(attendance=Attendance.NO_SHOW.value, updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    event.no_shows_marked_at = now
    return int(marked or 0)


def registrations_of(session: Session, event: MarketingEvent) -> list[EventRegistration]:
    return list(
        session.scalars(
            select(EventRegistration)
            .where(EventRegistration.event_id == event.id)
            .order_by(EventRegistration.id)
        )
    )
