"""What the events API reads and answers."""

from datetime import datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from leadpond.kit.errors import RefusedValue
from leadpond.kit.schemas import UtcDatetime

Key = Field(min_length=1, max_length=40, pattern=r"^[a-z0-9][a-z0-9-]*$")
Text200 = Field(default="", max_length=200)
Module = Literal["agenda", "speakers", "venue", "live", "downloads", "register", "surveys"]
MODULES: tuple[Module, ...] = ("agenda", "speakers", "venue", "live", "downloads", "register")


class SessionItem(BaseModel):
    """One item of the agenda: in the main forum or a sub-forum."""

    model_config = ConfigDict(extra="forbid")

    key: str = Key
    title: str = Field(min_length=1, max_length=200)
    title_en: str = Text200
    starts_at: datetime
    ends_at: datetime | None = None
    forum: str = Field(default="main", min_length=1, max_length=100)
    room: str = Text200
    speaker: str = Text200
    speaker_title: str = Text200


class BoothItem(BaseModel):
    """A booth: its check-in point records interest in its product line."""

    model_config = ConfigDict(extra="forbid")

    key: str = Key
    name: str = Field(min_length=1, max_length=200)
    name_en: str = Text200
    product_line: str = Field(min_length=1, max_length=100)
    points: int = Field(default=5, ge=0, le=1000)


class Download(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200)
    url: str = Field(min_length=1, max_length=1024, pattern=r"^https?://")


class Speaker(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    title: str = Text200
    bio: str = Field(default="", max_length=2000)


class Site(BaseModel):
    """The microsite: which modules, in which order, and what they show."""

    model_config = ConfigDict(extra="forbid")

    modules: list[Module] = Field(default_factory=lambda: list(MODULES), max_length=7)
    intro: str = Field(default="", max_length=4000)
    intro_en: str = Field(default="", max_length=4000)
    transport: str = Field(default="", max_length=2000)
    speakers: list[Speaker] = Field(default_factory=list, max_length=100)
    downloads: list[Download] = Field(default_factory=list, max_length=50)


class Messages(BaseModel):
    """Templates (keys of the channels' templates) for what the event sends; unset: nothing."""

    model_config = ConfigDict(extra="forbid")

    confirm_email: str | None = Field(default=None, min_length=1, max_length=64)
    confirm_sms: str | None = Field(default=None, min_length=1, max_length=64)
    reminder_email: str | None = Field(default=None, min_length=1, max_length=64)
    reminder_sms: str | None = Field(default=None, min_length=1, max_length=64)


class EventBody(BaseModel):
    """An event as the marketer writes it. Times without an offset are in ``time_zone``."""

    model_config = ConfigDict(extra="forbid")

    key: str = Key
    name_zh: str = Field(min_length=1, max_length=200)
    name_en: str = Text200
    kind: Literal["conference", "salon", "webinar", "training"]
    starts_at: datetime
    ends_at: datetime
    time_zone: str | None = Field(
        default=None, max_length=64, description="default: the workspace's time zone"
    )
    city: str = Field(default="", max_length=100)
    venue: str = Field(default="", max_length=300)
    topic: str = Field(default="", max_length=100)
    capacity: int | None = Field(default=None, ge=1, le=1_000_000)
    approval_required: bool = False
    live_url: str | None = Field(default=None, max_length=1024, pattern=r"^https?://")
    sessions: list[SessionItem] = Field(default_factory=list, max_length=200)
    booths: list[BoothItem] = Field(default_factory=list, max_length=200)
    site: Site = Field(default_factory=Site)
    messages: Messages = Field(default_factory=Messages)
    registration_form: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="a form of the form builder that registers; none: name, mobile, email, "
        "company, title",
    )
    surveys: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        default_factory=list,
        max_length=20,
        description="keys of the form builder's forms offered on the microsite as on-site surveys",
    )
    reminder_hours: int = Field(default=24, ge=0, le=24 * 30)

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is None:
            return value
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise RefusedValue("unknown time zone {value!r}", value=value) from exc
        return value

    @model_validator(mode="after")
    def _consistent(self) -> "EventBody":
        for items, repeated in (
            (self.sessions, "two sessions have the same key"),
            (self.booths, "two booths have the same key"),
        ):
            keys = [item.key for item in items]
            if len(set(keys)) != len(keys):
                raise ValueError(repeated)
        return self


class EventRead(EventBody):
    model_config = ConfigDict(extra="ignore")

    id: int
    starts_at: UtcDatetime
    ends_at: UtcDatetime
    url: str = Field(description="the microsite")
    register_url: str
    registrations: dict[str, int] = Field(description="count by status")
    checked_in: int
    no_shows_marked_at: UtcDatetime | None


class EventList(BaseModel):
    total: int
    items: list[EventRead]


class RegistrationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    event_id: int
    phone: str | None
    email: str | None
    name: str | None
    company: str | None
    title: str | None
    status: str
    attendance: str
    source: str
    checked_in_at: UtcDatetime | None
    watch_minutes: int | None
    created_at: UtcDatetime


class RegistrationList(BaseModel):
    total: int
    items: list[RegistrationRead]


class RegistrationBody(BaseModel):
    """Someone registered by another system: a mobile or an email at least."""

    model_config = ConfigDict(extra="forbid")

    mobile: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=320)
    name: str | None = Field(default=None, max_length=200)
    company: str | None = Field(default=None, max_length=300)
    title: str | None = Field(default=None, max_length=200)


class CheckinBody(BaseModel):
    """A scan at the entrance: the badge's token, or the mobile typed by staff (a mobile that
    is not registered registers a walk-in, with the name and company if given)."""

    model_config = ConfigDict(extra="forbid")

    badge_token: str | None = Field(default=None, min_length=1, max_length=512)
    mobile: str | None = Field(default=None, min_length=3, max_length=40)
    name: str | None = Field(default=None, max_length=200)
    company: str | None = Field(default=None, max_length=300)
    title: str | None = Field(default=None, max_length=200)

    @model_validator(mode="after")
    def _one(self) -> "CheckinBody":
        if (self.badge_token is None) == (self.mobile is None):
            raise ValueError("give badge_token or mobile (one of them)")
        return self


class CheckinResult(BaseModel):
    registration: RegistrationRead
    already_checked_in: bool = Field(description="true: this was a repeat; nothing was recorded")
    walk_in: bool


class AttendeeReport(BaseModel):
    """One viewer as a live platform reports them."""

    model_config = ConfigDict(extra="forbid")

    mobile: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=320)
    name: str | None = Field(default=None, max_length=200)
    company: str | None = Field(default=None, max_length=300)
    watch_minutes: int = Field(ge=0, le=100_000)
    mode: Literal["live", "replay"] = "live"


class AttendanceBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    attendees: list[AttendeeReport] = Field(min_length=1, max_length=5000)


class RowProblem(BaseModel):
    row: int
    message: str


class AttendanceResult(BaseModel):
    recorded: int = Field(description="viewers recorded (new or with more minutes)")
    unchanged: int = Field(description="viewers already recorded with these minutes")
    registered: int = Field(description="of them, viewers who had not registered")
    rejected: list[RowProblem]


class NoShowResult(BaseModel):
    no_shows: int


class StaffLink(BaseModel):
    url: str = Field(description="the staff check-in page; whoever has it can check people in")


class PointLink(BaseModel):
    point: str
    name: str
    url: str
    qr_svg: str


class NotifyBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    template: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="a wecom or webhook template, to owners with a WeCom user id",
    )
    email_template: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="an email template, to owners without a WeCom user id (their email)",
    )


class NotifyResult(BaseModel):
    queued: int
    without_owner: list[str] = Field(
        description="accounts no note could go to (no owner, or no address for the templates)"
    )


def event_read_fields(event: Any) -> dict[str, Any]:
    """The stored event's columns, as :class:`EventRead` reads them."""
    return {
        "id": event.id,
        "key": event.key,
        "name_zh": event.name_zh,
        "name_en": event.name_en,
        "kind": event.kind,
        "starts_at": event.starts_at,
        "ends_at": event.ends_at,
        "time_zone": event.time_zone,
        "city": event.city,
        "venue": event.venue,
        "topic": event.topic,
        "capacity": event.capacity,
        "approval_required": event.approval_required,
        "live_url": event.live_url,
        "sessions": event.sessions,
        "booths": event.booths,
        "site": event.site,
        "messages": event.messages,
        "registration_form": event.registration_form,
        "surveys": list(event.surveys or []),
        "reminder_hours": event.reminder_hours,
        "no_shows_marked_at": event.no_shows_marked_at,
    }
