"""Console events: the list, and an event's page — its editor, live check-in counts, the
registrations with approve/reject, the staff link and check-in QR codes, badges (PDF) and the
post-event accounts report (with its XLSX)."""

from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import ui
from sqlalchemy.orm import Session

from leadpond.console.pages.events_editor import KINDS, EventEditor
from leadpond.console.pages.frame import DENSE_TABLE, Visit, app_link, header, notify_error, visit
from leadpond.console.pages.words import ACCOUNT_ROLES, in_language, said
from leadpond.db.engine import read_only, unit_of_work
from leadpond.engage import events as ev
from leadpond.engage import events_registration as registrations
from leadpond.engage import events_report as report
from leadpond.engage.events_checkin import ENTRANCE
from leadpond.engage.events_models import MarketingEvent
from leadpond.kit.errors import LeadpondError
from leadpond.kit.pagination import PageQuery
from leadpond.rules import vocabulary
from leadpond.users.permissions import EVENTS_WRITE

LIST_PAGE = 200
LINK_CELL = (
    '<q-td :props="props"><a :href="props.row.href" class="text-primary">'
    "{{ props.value }}</a></q-td>"
)
STATUS = {
    "approved": "Approved",
    "pending": "Pending",
    "waitlisted": "Waitlisted",
    "rejected": "Rejected",
}
ATTENDANCE = {
    "registered": "Registered",
    "checked_in": "Checked in",
    "attended": "Attended",
    "no_show": "No-show",
}


def _when(event: MarketingEvent) -> str:
    return f"{ev.local(event, event.starts_at):%Y-%m-%d %H:%M}"


def events_page(request: Request) -> RedirectResponse | None:
    """Every event of the workspace, the latest first, with its registrations and check-ins."""
    with read_only() as session:
        v = visit(request, session)
        if isinstance(v, RedirectResponse):
            return v
        _ = v._
        header(v, _("Marketing events"), session)
        total, found = ev.list_events(session, v.actor.workspace_id, PageQuery(limit=LIST_PAGE))
        rows = []
        for event in found:
            by_status, came = ev.counts(session, event)
            rows.append(
                {
                    "id": event.id,
                    "name": _event_name(event, v.actor.locale),
                    "href": v.href(f"/events/{event.id}"),
                    "kind": _(KINDS.get(event.kind, event.kind)),
                    "starts": _when(event),
                    "city": event.city,
                    "registered": sum(by_status.values()),
                    "came": came,
                }
            )
    if v.may(EVENTS_WRITE):
        new = ui.button(_("New event"), icon="add", on_click=lambda: ui.navigate.to("/events/new"))
        new.mark("new-event").classes("lp-new-event")
    ui.label(_("{total} marketing events").format(total=total)).mark("events-total").classes(
        "lp-events-total"
    )
    columns = [
        {"name": k, "label": label, "field": k, "align": "left"}
        for k, label in (
            ("name", _("Event name")),
            ("kind", _("Type")),
            ("starts", _("Starts")),
            ("city", _("City")),
            ("registered", _("Registered")),
            ("came", _("Came")),
        )
    ]
    table = ui.table(columns=columns, rows=rows, row_key="id").props(DENSE_TABLE)
    table.add_slot("body-cell-name", LINK_CELL)
    table.classes("w-full").mark("events-table").classes("lp-events-table")
    return None


def event_page(request: Request, event_id: str) -> RedirectResponse | None:
    """One event: editor, counts, registrations, links, badges and the accounts report."""
    with read_only() as session:
        v = visit(request, session)
        if isinstance(v, RedirectResponse):
            return v
        _ = v._
        event: MarketingEvent | None = None
        if event_id != "new":
            try:
                event = ev.get_event(session, v.actor.workspace_id, int(event_id))
            except (LeadpondError, ValueError):
                header(v, _("Marketing event"), session)
                ui.label(_("No such event")).classes("text-negative").mark("not-found").classes(
                    "lp-not-found"
                )
                return None
        header(v, _event_name(event, v.actor.locale) if event else _("New event"), session)
        if event is None:
            EventEditor(v, None)
            return None
        _links(v, event)
        counts = _counts(v, session, event)
        _registrations(v, session, event, counts)
        _accounts(v, session, event)
        with ui.expansion(_("Edit the event"), icon="edit").classes("w-full"):
            EventEditor(v, event)
    return None


def _links(v: Visit, event: MarketingEvent) -> None:
    _ = v._
    api = f"/api/v1/events/{event.id}"
    with ui.row().classes("gap-4 items-center"):
        app_link(_("Microsite"), f"/e/{event.key}").mark("microsite-link").classes(
            "lp-microsite-link"
        )
        app_link(_("Registration page"), f"/e/{event.key}/register")
        app_link(_("Badges (PDF)"), f"{api}/badges.pdf").mark("badges-link").classes(
            "lp-badges-link"
        )
        app_link(_("Accounts report (XLSX)"), f"{api}/accounts-report.xlsx").classes(
            "lp-report-xlsx"
        ).mark("report-xlsx").classes("lp-report-xlsx")
        if v.may(EVENTS_WRITE):
            ui.button(
                _("Staff check-in link"),
                icon="qr_code_scanner",
                on_click=lambda: _staff(v, event.id),
            ).props("flat").mark("staff-link").classes("lp-staff-link")
            ui.button(
                _("Check-in QR codes"), icon="qr_code", on_click=lambda: _points(v, event.id)
            ).props("flat").mark("point-codes").classes("lp-point-codes")


def _staff(v: Visit, event_id: int) -> None:
    _ = v._
    with unit_of_work() as session:
        actor = v.authorised(session, EVENTS_WRITE)
        url = ev.staff_url(session, ev.get_event(session, actor.workspace_id, event_id))
    with ui.dialog() as dialog, ui.card():
        ui.label(_("Whoever has this link can check people in (60 days)."))
        ui.input(value=url).props("readonly outlined").classes("w-96").mark("staff-url").classes(
            "lp-staff-url"
        )
        ui.button(_("Close"), on_click=dialog.close)
    dialog.open()


def _points(v: Visit, event_id: int) -> None:
    _ = v._
    with unit_of_work() as session:
        actor = v.authorised(session, EVENTS_WRITE)
        points = ev.point_links(session, ev.get_event(session, actor.workspace_id, event_id))
    with ui.dialog() as dialog, ui.card().classes("max-w-3xl"):
        with ui.row().classes("gap-6"):
            for _point, name, url, svg in points:
                with ui.column().classes("items-center"):
                    ui.html(svg)
                    ui.label(name)
                    ui.label(url).classes("text-xs break-all w-48")
        ui.button(_("Close"), on_click=dialog.close)
    dialog.open()


def _counts(v: Visit, session: Session, event: MarketingEvent) -> dict[str, Any]:
    _ = v._
    labels: dict[str, Any] = {}
    with ui.row().classes("gap-8"):
        for key, text in (
            ("registered", _("Registered")),
            ("approved", _("Approved")),
            ("pending", _("Pending")),
            ("waitlisted", _("Waitlisted")),
            ("came", _("Checked in")),
        ):
            with ui.column().classes("items-center"):
                labels[key] = (
                    ui.label("0")
                    .classes("text-2xl font-semibold")
                    .mark(f"count-{key}")
                    .classes(f"lp-count-{key}")
                )
                ui.label(text).classes("text-sm")
    points = ui.label("").classes("text-sm").mark("count-points")

    def refresh() -> None:
        with read_only() as fresh:
            found = ev.get_event(fresh, v.actor.workspace_id, event.id)
            by_status, came = ev.counts(fresh, found)
            by_point = ev.point_counts(fresh, found)
        labels["registered"].set_text(str(sum(by_status.values())))
        for key in ("approved", "pending", "waitlisted"):
            labels[key].set_text(str(by_status.get(key, 0)))
        labels["came"].set_text(str(came))
        names = ev.point_names(found) | {ENTRANCE: _("Entrance")}
        points.set_text(
            " · ".join(f"{names.get(p) or p}: {n}" for p, n in sorted(by_point.items()))
        )

    refresh()
    ui.timer(5.0, refresh)  # live on the day: check-ins arrive from the staff phones
    return labels


def _registrations(v: Visit, session: Session, event: MarketingEvent, _counts: Any) -> None:
    _ = v._
    total, found = registrations.list_registrations(session, event, PageQuery(limit=1000))
    ui.label(_("Registrations ({total})").format(total=total)).classes("text-lg font-semibold")
    columns = [
        {"name": k, "label": label, "field": k, "align": "left"}
        for k, label in (
            ("name", _("Name")),
            ("phone", _("Mobile")),
            ("company", _("Company")),
            ("title", _("Title")),
            ("status", _("Status")),
            ("attendance", _("Attendance")),
            ("actions", ""),
        )
    ]
    rows = [
        {
            "id": r.id,
            "name": r.name or "",
            "phone": r.phone or r.email or "",
            "company": r.company or "",
            "title": r.title or "",
            "status": _(STATUS.get(r.status, r.status)),
            "raw_status": r.status,
            "attendance": _(ATTENDANCE.get(r.attendance, r.attendance)),
        }
        for r in found
    ]
    table = ui.table(columns=columns, rows=rows, row_key="id").props(DENSE_TABLE)
    table.classes("w-full").mark("registrations-table").classes("lp-registrations-table")
    if v.may(EVENTS_WRITE):
        table.add_slot(
            "body-cell-actions",
            '<q-td :props="props">'
            '<q-btn v-if="props.row.raw_status !== \'approved\'" dense flat color="positive" '
            f'label="{_("Approve")}" @click="() => $parent.$emit(\'approve\', props.row)" />'
            '<q-btn v-if="props.row.raw_status !== \'rejected\'" dense flat color="negative" '
            f'label="{_("Reject")}" @click="() => $parent.$emit(\'reject\', props.row)" />'
            "</q-td>",
        )
        table.on("approve", lambda e: _decide(v, event.id, int(e.args["id"]), True))
        table.on("reject", lambda e: _decide(v, event.id, int(e.args["id"]), False))


def _decide(v: Visit, event_id: int, registration_id: int, approve: bool) -> None:
    try:
        with unit_of_work() as session:
            actor = v.authorised(session, EVENTS_WRITE)
            event = ev.get_event(session, actor.workspace_id, event_id)
            if approve:
                registrations.approve(session, event, registration_id)
            else:
                registrations.reject(session, event, registration_id)
    except LeadpondError as exc:
        notify_error(exc)
        return
    ui.navigate.reload()


def _accounts(v: Visit, session: Session, event: MarketingEvent) -> None:
    _ = v._
    lang = "zh" if v.actor.locale.startswith("zh") else "en"
    lines = report.accounts_report(session, event)
    labels = vocabulary.labels(session, v.actor.workspace_id, lang)
    ui.label(_("Accounts report")).classes("text-lg font-semibold")
    columns = [
        {"name": k, "label": label, "field": k, "align": "left"}
        for k, label in (
            ("account", _("Account")),
            ("came", _("Came / registered")),
            ("people", _("Who (role)")),
            ("booths", _("Booths and sessions")),
            ("surveys", _("Surveys answered")),
            ("change", _("Engagement change")),
            ("next", _("Next step")),
        )
    ]
    rows = [
        {
            "key": f"{line.account_id}:{line.account}",
            "account": line.account,
            "came": f"{line.came} / {line.registered}",
            "people": "、".join(
                f"{a.name}（{said(_, ACCOUNT_ROLES, a.role)}）{'✓' if a.came else '✗'}"
                for a in line.attendees
            ),
            "booths": "、".join(sorted({b for a in line.attendees for b in a.booths + a.sessions})),
            "surveys": "、".join(
                f"{a.name}: {', '.join(a.surveys)}" for a in line.attendees if a.surveys
            ),
            "change": f"{line.score_change:+g}",
            "next": report.next_step_text(line, lang, labels.value),
        }
        for line in lines
    ]
    table = ui.table(columns=columns, rows=rows, row_key="key").props(DENSE_TABLE)
    table.classes("w-full lp-accounts-report").mark("accounts-report")


def _event_name(event: MarketingEvent, locale: str) -> str:
    """The event's name in the viewer's language (its Chinese one when it has no English)."""
    return in_language({"zh": event.name_zh, "en": event.name_en}, locale)
