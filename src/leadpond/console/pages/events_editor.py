"""The event editor: the basics as fields; the agenda (sessions in the main forum and
sub-forums), booths, microsite modules and messages as YAML lists, checked on save."""

from datetime import datetime, timedelta
from typing import Any

from nicegui import ui
from pydantic import ValidationError

from leadpond.console.pages.frame import Visit, notify_error
from leadpond.console.pages.words import validation_problem
from leadpond.db.engine import unit_of_work
from leadpond.engage import events as ev
from leadpond.engage.events_models import MarketingEvent
from leadpond.engage.events_schemas import EventBody
from leadpond.kit import yaml
from leadpond.kit.errors import LeadpondError
from leadpond.kit.yaml import YamlSyntaxError
from leadpond.users.permissions import EVENTS_WRITE

KINDS = {"conference": "Conference", "salon": "Salon", "webinar": "Webinar", "training": "Training"}
TIME = "%Y-%m-%d %H:%M"
SESSIONS_EXAMPLE = [
    {
        "key": "keynote",
        "title": "主题演讲",
        "forum": "main",
        "starts_at": "2027-04-18T09:30:00",
        "speaker": "",
    }
]
BOOTHS_EXAMPLE = [{"key": "b1", "name": "展台", "product_line": "graph_database", "points": 5}]


class Unreadable(ValueError):
    """An input of the editor that cannot be read, said in the viewer's language."""

    def __init__(self, words: str) -> None:
        super().__init__(words)
        self.words = words


def _yaml(value: Any) -> str:
    return yaml.dump(value) if value else ""


class EventEditor:
    """The editor's inputs; ``save`` creates or replaces the event and opens its page."""

    def __init__(self, v: Visit, event: MarketingEvent | None) -> None:
        self.v, self.event = v, event
        _ = v._
        start = ev.local(event, event.starts_at) if event else datetime.now() + timedelta(days=30)
        end = ev.local(event, event.ends_at) if event else start + timedelta(hours=8)
        with ui.card().classes("w-full"):
            with ui.row().classes("w-full gap-4"):
                self.key = ui.input(_("Key (in the URL)"), value=event.key if event else "")
                self.kind = ui.select(
                    {k: _(label) for k, label in KINDS.items()},
                    value=event.kind if event else "conference",
                    label=_("Type"),
                ).classes("min-w-40")
                self.name_zh = ui.input(_("Name (Chinese)"), value=event.name_zh if event else "")
                self.name_en = ui.input(_("Name (English)"), value=event.name_en if event else "")
            with ui.row().classes("w-full gap-4"):
                self.starts = ui.input(
                    _("Starts (YYYY-MM-DD HH:MM)"), value=f"{start:{TIME}}"
                ).mark("event-starts")
                self.ends = ui.input(_("Ends (YYYY-MM-DD HH:MM)"), value=f"{end:{TIME}}")
                self.zone = ui.input(_("Time zone"), value=event.time_zone if event else v.zone.key)
                self.city = ui.input(_("City"), value=event.city if event else "")
                self.venue = ui.input(_("Venue"), value=event.venue if event else "")
            with ui.row().classes("w-full gap-4 items-center"):
                self.topic = ui.input(_("Topic"), value=event.topic if event else "")
                self.capacity = ui.number(
                    _("Capacity (empty: no limit)"),
                    value=event.capacity if event else None,
                    min=1,
                    format="%d",
                )
                self.approval = ui.checkbox(
                    _("Registrations need approval"),
                    value=event.approval_required if event else False,
                )
                self.form = ui.input(
                    _("Registration form (a form's key; empty: the event's own fields)"),
                    value=(event.registration_form or "") if event else "",
                ).classes("min-w-80")
                self.surveys = (
                    ui.input(
                        _("On-site surveys (form keys, separated by commas)"),
                        value=", ".join(event.surveys or []) if event else "",
                    )
                    .classes("min-w-80")
                    .mark("event-surveys")
                )
                self.live = ui.input(
                    _("Live stream link"), value=(event.live_url or "") if event else ""
                )
            self.sessions = (
                ui.textarea(
                    _("Agenda (YAML: key, title, forum, starts_at, room, speaker)"),
                    value=_yaml(event.sessions if event else SESSIONS_EXAMPLE),
                )
                .props("outlined autogrow")
                .classes("w-full font-mono")
                .mark("event-sessions")
                .classes("lp-event-sessions")
            )
            self.booths = (
                ui.textarea(
                    _("Booths (YAML: key, name, product_line, points)"),
                    value=_yaml(event.booths if event else BOOTHS_EXAMPLE),
                )
                .props("outlined autogrow")
                .classes("w-full font-mono")
                .mark("event-booths")
                .classes("lp-event-booths")
            )
            self.site = (
                ui.textarea(
                    _("Microsite modules (YAML: modules, intro, speakers, transport, downloads)"),
                    value=_yaml(
                        event.site
                        if event
                        else {"modules": ["agenda", "speakers", "venue", "register"]}
                    ),
                )
                .props("outlined autogrow")
                .classes("w-full font-mono")
                .mark("event-site")
                .classes("lp-event-site")
            )
            self.messages = (
                ui.textarea(
                    _("Messages (YAML: template keys, e.g. confirm_email)"),
                    value=_yaml(event.messages if event else {}),
                )
                .props("outlined autogrow")
                .classes("w-full font-mono")
            )
            if v.may(EVENTS_WRITE):
                ui.button(_("Save"), icon="save", on_click=self.save).mark("save-event").classes(
                    "lp-save-event"
                )

    def body(self) -> EventBody:
        """The event as typed; ``Unreadable`` names the box that cannot be read and why."""
        _ = self.v._

        def doc(box: Any, empty: Any, field: str) -> Any:
            text = str(box.value or "").strip()
            try:
                return yaml.load(text) if text else empty
            except YamlSyntaxError as exc:
                words = (
                    _("{field}: the YAML cannot be read (line {line}).")
                    if exc.line
                    else _("{field}: the YAML cannot be read.")
                )
                raise Unreadable(words.format(field=field, line=exc.line)) from None

        def when(box: Any, field: str) -> datetime:
            try:
                return datetime.strptime(str(box.value or "").strip(), TIME)
            except ValueError:
                raise Unreadable(
                    _("{field}: write a date and time such as {example}.").format(
                        field=field, example="2027-04-18 09:30"
                    )
                ) from None

        return EventBody.model_validate(
            {
                "key": self.key.value,
                "name_zh": self.name_zh.value,
                "name_en": self.name_en.value or "",
                "kind": self.kind.value,
                "starts_at": when(self.starts, _("Start time")),
                "ends_at": when(self.ends, _("End time")),
                "time_zone": self.zone.value,
                "city": self.city.value or "",
                "venue": self.venue.value or "",
                "topic": self.topic.value or "",
                "capacity": int(self.capacity.value) if self.capacity.value else None,
                "approval_required": bool(self.approval.value),
                "live_url": self.live.value or None,
                "sessions": doc(self.sessions, [], _("Agenda")),
                "booths": doc(self.booths, [], _("Booths")),
                "site": doc(self.site, {}, _("Microsite modules")),
                "messages": doc(self.messages, {}, _("Messages")),
                "registration_form": str(self.form.value or "").strip() or None,
                "surveys": [
                    k.strip() for k in str(self.surveys.value or "").split(",") if k.strip()
                ],
            }
        )

    def save(self) -> None:
        _ = self.v._
        try:
            body = self.body()
        except ValidationError as exc:
            ui.notify(validation_problem(_, exc)[1], type="negative")
            return
        except Unreadable as exc:
            ui.notify(exc.words, type="negative")
            return
        try:
            with unit_of_work() as session:
                actor = self.v.authorised(session, EVENTS_WRITE)
                if self.event is None:
                    saved = ev.create_event(session, actor.workspace_id, body, actor.name)
                else:
                    saved = ev.update_event(session, actor.workspace_id, self.event.id, body)
                event_id = saved.id
        except LeadpondError as exc:
            notify_error(exc)
            return
        ui.notify(_("Saved"), type="positive")
        ui.navigate.to(f"/events/{event_id}")
